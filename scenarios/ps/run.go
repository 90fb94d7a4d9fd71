package ps

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Session is one PowerShell session: its variables, kept from line to line.
type Session struct {
	vars map[string]any
}

// NewSession returns a session with no variables.
func NewSession() *Session { return &Session{vars: map[string]any{}} }

// RunFunc runs one command (Command holds its arguments unevaluated: bind them with Bind and
// Session.Eval) and returns its output.
type RunFunc func(c *Command) ([]any, error)

// RunLine runs one logical line: each statement's output and errors, in order, as PowerShell
// prints them. An error wrapped in *Halt ends the line and is returned; any other error prints
// as an error record and the next statement runs.
func (s *Session) RunLine(l Line, run RunFunc, out *strings.Builder) error {
	for _, st := range l.Stmts {
		var vals []any
		var err error
		switch {
		case st.Cmd != nil:
			vals, err = run(st.Cmd)
		default:
			var v any
			v, err = s.Eval(st.Expr, run)
			if err == nil {
				vals = []any{v}
			}
		}
		var h *Halt
		if errors.As(err, &h) {
			return err
		}
		if err != nil {
			name := ""
			if st.Cmd != nil {
				name = st.Cmd.Name
			}
			WriteError(out, name, err)
			continue
		}
		if st.Assign != "" {
			switch len(vals) {
			case 0:
				s.vars[strings.ToLower(st.Assign)] = nil
			case 1:
				s.vars[strings.ToLower(st.Assign)] = vals[0]
			default:
				s.vars[strings.ToLower(st.Assign)] = vals
			}
			continue
		}
		Format(out, vals)
	}
	return nil
}

// Eval evaluates an expression; run runs the commands of its subexpressions.
func (s *Session) Eval(e Expr, run RunFunc) (any, error) {
	switch x := e.(type) {
	case nil:
		return nil, nil
	case Lit:
		if str, ok := x.V.(string); ok {
			if n, err := strconv.ParseInt(str, 10, 64); err == nil {
				return n, nil
			}
		}
		return x.V, nil
	case Expand:
		return s.expand(x.S, run), nil
	case Var:
		switch strings.ToLower(x.Name) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return s.vars[strings.ToLower(x.Name)], nil
	case Array:
		out := make([]any, 0, len(x.Items))
		for _, it := range x.Items {
			v, err := s.Eval(it, run)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case HashLit:
		h := &Hashtable{}
		for i, k := range x.Keys {
			v, err := s.Eval(x.Vals[i], run)
			if err != nil {
				return nil, err
			}
			h.Keys = append(h.Keys, k)
			h.Vals = append(h.Vals, v)
		}
		return h, nil
	case Sub:
		var out []any
		for _, st := range x.Stmts {
			if st.Cmd != nil {
				vals, err := run(st.Cmd)
				if err != nil {
					return nil, err
				}
				out = append(out, vals...)
				continue
			}
			v, err := s.Eval(st.Expr, run)
			if err != nil {
				return nil, err
			}
			if arr, ok := v.([]any); ok && x.Array {
				out = append(out, arr...)
			} else {
				out = append(out, v)
			}
		}
		if !x.Array && len(out) == 1 {
			return out[0], nil
		}
		return out, nil
	case Member:
		t, err := s.Eval(x.Target, run)
		if err != nil {
			return nil, err
		}
		return s.member(t, x, run)
	}
	return nil, fmt.Errorf("cannot evaluate %T", e)
}

func (s *Session) member(t any, x Member, run RunFunc) (any, error) {
	if !x.Call {
		if arr, ok := t.([]any); ok { // member enumeration: (Get-X -Filter *).Name
			var out []any
			for _, e := range arr {
				v, err := s.member(e, x, run)
				if err != nil {
					return nil, err
				}
				if v != nil {
					out = append(out, v)
				}
			}
			return out, nil
		}
		if o, ok := t.(*Object); ok {
			return o.Get(x.Name), nil
		}
		if h, ok := t.(*Hashtable); ok {
			v, _ := h.Get(x.Name)
			return v, nil
		}
		return nil, nil
	}
	tm, ok := t.(time.Time)
	if !ok {
		return nil, Errorf("Method invocation failed because [%s] does not contain a method named '%s'.", typeNameOf(t), x.Name)
	}
	if len(x.Args) != 1 {
		return nil, Errorf("Cannot find an overload for \"%s\" and the argument count: \"%d\".", x.Name, len(x.Args))
	}
	v, err := s.Eval(x.Args[0], run)
	if err != nil {
		return nil, err
	}
	f, err := strconv.ParseFloat(ToString(v), 64)
	if err != nil {
		return nil, Errorf("Cannot convert argument \"value\", with value: \"%s\", for \"%s\" to type \"System.Double\"", ToString(v), x.Name)
	}
	unit := map[string]time.Duration{"addhours": time.Hour, "adddays": 24 * time.Hour, "addminutes": time.Minute, "addseconds": time.Second}[strings.ToLower(x.Name)]
	if unit == 0 {
		return nil, Errorf("Method invocation failed because [System.DateTime] does not contain a method named '%s'.", x.Name)
	}
	return tm.Add(time.Duration(f * float64(unit))), nil
}

func typeNameOf(v any) string {
	switch v.(type) {
	case string:
		return "System.String"
	case int64:
		return "System.Int32"
	case nil:
		return "System.Management.Automation.PSObject"
	case []any:
		return "System.Object[]"
	}
	return "System.Management.Automation.PSCustomObject"
}

// expand does a double-quoted string's expansion: $var, $(statements) with their commands run
// through run, and backtick escapes.
// Divergence: an error inside $(…) expands to nothing; PowerShell also prints its error record.
func (s *Session) expand(str string, run RunFunc) string {
	var b strings.Builder
	rs := []rune(str)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '`' && i+1 < len(rs):
			i++
			switch rs[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '0':
				b.WriteByte(0)
			default:
				b.WriteRune(rs[i])
			}
		case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
			depth, j := 0, i+1
			for ; j < len(rs); j++ {
				if rs[j] == '(' {
					depth++
				} else if rs[j] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if j >= len(rs) {
				b.WriteString(string(rs[i:]))
				i = len(rs)
				continue
			}
			if stmts, err := Parse(string(rs[i+2 : j])); err == nil {
				if v, err := s.Eval(Sub{Stmts: stmts}, run); err == nil {
					b.WriteString(ToString(v))
				}
			}
			i = j
		case r == '$' && i+1 < len(rs) && (isIdentRune(rs[i+1])):
			j := i + 1
			for j < len(rs) && isIdentRune(rs[j]) {
				j++
			}
			name := string(rs[i+1 : j])
			v, _ := s.Eval(Var{name}, run)
			b.WriteString(ToString(v))
			i = j - 1
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isIdentRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
