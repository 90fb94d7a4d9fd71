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
	vars   map[string]any
	lastOK bool // $?
	tries  int  // try blocks being run
}

// NewSession returns a session with no variables.
func NewSession() *Session { return &Session{vars: map[string]any{}, lastOK: true} }

// RunFunc runs one command (Command holds its arguments unevaluated: bind them with Bind and
// Session.Eval) and returns its output.
type RunFunc func(c *Command) ([]any, error)

// RunLine runs one logical line: each statement's output and errors, in order, as PowerShell
// prints them. An error wrapped in *Halt ends the line and is returned; any other error prints
// as an error record (unless -ErrorAction hides a non-terminating one) and the next statement
// runs. $? is False after a statement that wrote an error, True otherwise.
func (s *Session) RunLine(l Line, run RunFunc, out *strings.Builder) error {
	err := s.runStmts(l.Stmts, run, out)
	var t *thrown
	if errors.As(err, &t) { // cannot happen outside try: runStmts prints those
		WriteError(out, t.cmd, t.err)
		return nil
	}
	return err
}

// thrown is a terminating error on its way out of a try block.
type thrown struct {
	cmd string
	err error
}

func (t *thrown) Error() string { return t.err.Error() }

// NonTerminating marks a command's error as non-terminating (Write-Error: Start-Service's
// failures): -ErrorAction SilentlyContinue or Ignore hides it, Stop makes it terminating. Every
// other error is terminating, as the AD module's are: it prints whatever -ErrorAction says
// (Microsoft's Get-ADGroup page, issue MicrosoftDocs/windows-powershell-docs#2433: "-ErrorAction
// SilentlyContinue not working for Get-ADGroup") and a try block catches it.
type NonTerminating struct{ Err error }

func (e *NonTerminating) Error() string { return e.Err.Error() }
func (e *NonTerminating) Unwrap() error { return e.Err }

// errorAction is the -ErrorAction of a command (or -EA), else $ErrorActionPreference, lower case.
func (s *Session) errorAction(c *Command) string {
	if c != nil {
		for i, el := range c.Elems {
			if !el.IsParam {
				continue
			}
			n := strings.ToLower(el.Param)
			if n == "ea" || (len(n) >= 6 && strings.HasPrefix("erroraction", n)) {
				v := el.Value
				if !el.Colon && i+1 < len(c.Elems) {
					v = c.Elems[i+1].Value
				}
				if lit, ok := v.(Lit); ok {
					return strings.ToLower(ToString(lit.V))
				}
			}
		}
	}
	return strings.ToLower(ToString(s.vars["erroractionpreference"]))
}

// runStmts runs statements; inside a try block (s.tries > 0) a terminating error stops them and
// is returned as a *thrown.
func (s *Session) runStmts(stmts []Stmt, run RunFunc, out *strings.Builder) error {
	for _, st := range stmts {
		if st.Try != nil {
			if err := s.runTry(st.Try, run, out); err != nil {
				return err
			}
			continue
		}
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
		s.lastOK = err == nil
		if err != nil {
			name := ""
			if st.Cmd != nil {
				name = st.Cmd.Name
			}
			var nt *NonTerminating
			ea := s.errorAction(st.Cmd)
			terminating := !errors.As(err, &nt) || ea == "stop"
			switch {
			case terminating && s.tries > 0:
				return &thrown{cmd: name, err: err}
			case !terminating && (ea == "silentlycontinue" || ea == "ignore"):
			default:
				WriteError(out, name, err)
			}
			if terminating {
				continue
			}
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

// runTry runs try { } catch { } finally { }. A terminating error in the body runs the catch
// block with $_ the error record; with no catch block it goes on up after finally.
func (s *Session) runTry(t *TryBlock, run RunFunc, out *strings.Builder) error {
	s.tries++
	err := s.runStmts(t.Body, run, out)
	s.tries--
	var th *thrown
	if errors.As(err, &th) && t.HasCatch {
		saved := s.vars["_"]
		s.vars["_"] = errorRecord(th.cmd, th.err)
		err = s.runStmts(t.Catch, run, out)
		s.vars["_"] = saved
	}
	if len(t.Finally) > 0 {
		if ferr := s.runStmts(t.Finally, run, out); ferr != nil {
			return ferr
		}
	}
	if errors.As(err, &th) && s.tries == 0 {
		WriteError(out, th.cmd, th.err)
		s.lastOK = false
		return nil
	}
	return err
}

// errorRecord is $_ in a catch block: ToString and .Exception.Message are the error's message.
func errorRecord(cmd string, err error) *Object {
	msg := err.Error()
	var pe *Error
	var ce *CommandError
	if errors.As(err, &ce) {
		cmd, err = ce.Cmd, ce.Err
		msg = err.Error()
	}
	if errors.As(err, &pe) {
		msg = pe.Msg
	}
	return &Object{Props: []Prop{
		{Name: "Exception", Val: &Object{Props: []Prop{{Name: "Message", Val: msg}}}},
		{Name: "InvocationInfo", Val: &Object{Props: []Prop{{Name: "MyCommand", Val: cmd}}}},
	}}
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
		case "?":
			return s.lastOK, nil
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
	if !x.Call && (strings.EqualFold(x.Name, "Count") || strings.EqualFold(x.Name, "Length")) {
		if str, ok := t.(string); ok && strings.EqualFold(x.Name, "Length") {
			return int64(len([]rune(str))), nil
		}
		// PowerShell 3+: every value has a Count; nothing has 0, a scalar 1.
		return int64(len(Flatten(t))), nil
	}
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
