package scenarios

import (
	"fmt"
	"strings"

	"github.com/gmsasim/gmsasim/scenarios/ps"
)

// parsePSStep splits the step's input into logical lines and parses each (package ps), then
// checks its commands against the cmdlet table.
func parsePSStep(st *Step, cmdlets cmdletTable, lenient bool) *ps.SyntaxError {
	if len(st.Input) == 0 {
		return &ps.SyntaxError{Line: 0, Msg: "ps: expected PowerShell lines between the directive and \"----\""}
	}
	lines, err := ps.SplitLines(st.Input)
	if err != nil {
		return err
	}
	st.ps = lines
	return checkCommands(st, cmdlets, lenient)
}

// checkCommands refuses, at parse time, a cmdlet the simulator does not know and a parameter
// its cmdlet does not have — unless the step's expected output shows PowerShell's own binding
// error (a scenario may document a broken line from the docs), or when rewriting.
func checkCommands(st *Step, cmdlets cmdletTable, lenient bool) *ps.SyntaxError {
	var walk func(stmts []ps.Stmt, off int) *ps.SyntaxError
	var walkExpr func(e ps.Expr, off int) *ps.SyntaxError
	walkExpr = func(e ps.Expr, off int) *ps.SyntaxError {
		switch x := e.(type) {
		case ps.Sub:
			return walk(x.Stmts, off)
		case ps.Member:
			return walkExpr(x.Target, off)
		case ps.Array:
			for _, it := range x.Items {
				if err := walkExpr(it, off); err != nil {
					return err
				}
			}
		case ps.HashLit:
			for _, v := range x.Vals {
				if err := walkExpr(v, off); err != nil {
					return err
				}
			}
		}
		return nil
	}
	walk = func(stmts []ps.Stmt, off int) *ps.SyntaxError {
		for _, s := range stmts {
			if s.Cmd == nil {
				if err := walkExpr(s.Expr, off); err != nil {
					return err
				}
				continue
			}
			switch strings.ToLower(s.Cmd.Name) {
			case "get-date", "write-output", "echo":
				continue
			}
			def := cmdlets.lookup(s.Cmd.Name)
			if def == nil {
				if lenient || strings.Contains(st.Expected, "The term '"+s.Cmd.Name+"' is not recognized") {
					continue
				}
				return &ps.SyntaxError{Line: off, Msg: fmt.Sprintf("unknown cmdlet %q; the simulator knows: %s", s.Cmd.Name, strings.Join(cmdlets.names(), ", "))}
			}
			for _, el := range s.Cmd.Elems {
				if err := walkExpr(el.Value, off); err != nil {
					return err
				}
				if !el.IsParam || def.onHost {
					continue
				}
				if _, err := def.Match(el.Param); err != nil {
					if lenient || strings.Contains(st.Expected, "parameter name '"+el.Param+"'") {
						continue
					}
					return &ps.SyntaxError{Line: off, Msg: fmt.Sprintf("%s has no parameter -%s; its parameters are: %s", def.Name, el.Param, def.ParamList())}
				}
			}
		}
		return nil
	}
	for _, l := range st.ps {
		if err := walk(l.Stmts, l.Off); err != nil {
			return err
		}
	}
	return nil
}
