package scenarios

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// session is one PowerShell session of a scenario: its variables, shared by every ps step of the
// file (as an administrator keeps one console open).
type session struct {
	r    *runner
	vars map[string]any
}

// cmdCtx is what a cmdlet runs with.
type cmdCtx struct {
	r      *runner
	target string // DC or host name from on=
	as     string // principal of the session ("" = Administrator)
	name   string // the cmdlet name as typed
}

// runLine runs one logical line: each statement's output and errors, in order.
func (s *session) runLine(l psLine, target, as string, out *strings.Builder) error {
	for _, st := range l.stmts {
		var vals []any
		var err error
		switch {
		case st.cmd != nil:
			vals, err = s.runCommand(st.cmd, target, as)
		default:
			var v any
			v, err = s.eval(st.expr, target, as)
			if err == nil {
				vals = []any{v}
			}
		}
		var pf *PendingFeatureError
		if errors.As(err, &pf) {
			return err
		}
		if err != nil {
			name := ""
			if st.cmd != nil {
				name = st.cmd.name
			}
			writeError(out, name, err)
			continue
		}
		if st.assign != "" {
			switch len(vals) {
			case 0:
				s.vars[strings.ToLower(st.assign)] = nil
			case 1:
				s.vars[strings.ToLower(st.assign)] = vals[0]
			default:
				s.vars[strings.ToLower(st.assign)] = vals
			}
			continue
		}
		formatValues(out, vals)
	}
	return nil
}

// writeError prints an error record's first line, "Cmdlet : message".
// Divergence: PowerShell also prints "At line:1 char:1", the offending line and CategoryInfo /
// FullyQualifiedErrorId; transcripts keep the first line, the part that differs between outcomes.
func writeError(out *strings.Builder, cmd string, err error) {
	var ce *cmdError
	var ve *verbatimError
	switch {
	case errors.As(err, &ve):
		out.WriteString(ve.text + "\n")
		return
	case errors.As(err, &ce):
		cmd, err = ce.cmd, ce.err
	}
	msg := err.Error()
	var pe *psError
	if errors.As(err, &pe) {
		msg = pe.msg
	}
	if cmd != "" {
		fmt.Fprintf(out, "%s : %s\n", cmd, msg)
	} else {
		fmt.Fprintf(out, "%s\n", msg)
	}
}

// runCommand runs one command. Divergence: -Credential and -AuthType are accepted and ignored;
// the session's principal (as=) is who acts.
func (s *session) runCommand(c *psCommand, target, as string) ([]any, error) {
	vals, err := s.runCommand1(c, target, as)
	var pf *PendingFeatureError
	var ce *cmdError
	var ve *verbatimError
	if err != nil && !errors.As(err, &pf) && !errors.As(err, &ce) && !errors.As(err, &ve) {
		name := c.name
		if def := s.r.cmdlets.lookup(c.name); def != nil && !def.onHost {
			name = def.name
		}
		err = &cmdError{cmd: name, err: err}
	}
	return vals, err
}

// cmdError is an error record of one command: printed "Cmdlet : message" wherever the command
// ran (a statement, a parenthesised expression, an assignment).
type cmdError struct {
	cmd string
	err error
}

func (e *cmdError) Error() string { return e.cmd + " : " + e.err.Error() }
func (e *cmdError) Unwrap() error { return e.err }

func (s *session) runCommand1(c *psCommand, target, as string) ([]any, error) {
	if strings.EqualFold(c.name, "Get-Date") {
		return []any{s.r.now()}, nil
	}
	if strings.EqualFold(c.name, "Write-Output") || strings.EqualFold(c.name, "echo") {
		var out []any
		for _, el := range c.elems {
			v, err := s.eval(el.value, target, as)
			if err != nil {
				return nil, err
			}
			out = append(out, flatten(v)...)
		}
		return out, nil
	}
	def := s.r.cmdlets.lookup(c.name)
	if h := s.r.host(target); h != nil && def == nil {
		return s.runHostCommand(c, h)
	}
	if def == nil {
		return nil, psErrf("The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", c.name)
	}
	if h := s.r.host(target); h != nil {
		if def.onHost {
			return s.runHostCommand(c, h)
		}
		// An AD cmdlet on a member host (RSAT) goes to the host's DC.
		target = h.Spec().DC
	} else if def.onHost {
		return nil, &PendingFeatureError{Feature: "host cmdlets on a DC", What: fmt.Sprintf("%s on %s", c.name, target)}
	}
	b, err := bind(def, c.elems, func(e psExpr) (any, error) { return s.eval(e, target, as) })
	if err != nil {
		return nil, err
	}
	x := &cmdCtx{r: s.r, target: target, as: as, name: def.name}
	if srv := b.str("Server"); srv != "" {
		x.target = strings.SplitN(srv, ".", 2)[0]
	}
	return def.run(x, b)
}

// eval evaluates an expression on the world's clock.
func (s *session) eval(e psExpr, target, as string) (any, error) {
	switch x := e.(type) {
	case nil:
		return nil, nil
	case exprLit:
		if str, ok := x.v.(string); ok {
			if n, err := strconv.ParseInt(str, 10, 64); err == nil {
				return n, nil
			}
		}
		return x.v, nil
	case exprExpand:
		return s.expand(x.s), nil
	case exprVar:
		switch strings.ToLower(x.name) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return s.vars[strings.ToLower(x.name)], nil
	case exprArray:
		out := make([]any, 0, len(x.items))
		for _, it := range x.items {
			v, err := s.eval(it, target, as)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case exprHash:
		h := &psHash{}
		for i, k := range x.keys {
			v, err := s.eval(x.vals[i], target, as)
			if err != nil {
				return nil, err
			}
			h.keys = append(h.keys, k)
			h.vals = append(h.vals, v)
		}
		return h, nil
	case exprSub:
		var out []any
		for _, st := range x.stmts {
			if st.cmd != nil {
				vals, err := s.runCommand(st.cmd, target, as)
				if err != nil {
					return nil, err
				}
				out = append(out, vals...)
				continue
			}
			v, err := s.eval(st.expr, target, as)
			if err != nil {
				return nil, err
			}
			if arr, ok := v.([]any); ok && x.array {
				out = append(out, arr...)
			} else {
				out = append(out, v)
			}
		}
		if !x.array && len(out) == 1 {
			return out[0], nil
		}
		return out, nil
	case exprMember:
		t, err := s.eval(x.target, target, as)
		if err != nil {
			return nil, err
		}
		return s.member(t, x, target, as)
	}
	return nil, fmt.Errorf("cannot evaluate %T", e)
}

func (s *session) member(t any, x exprMember, target, as string) (any, error) {
	if !x.call {
		if arr, ok := t.([]any); ok { // member enumeration: (Get-X -Filter *).Name
			var out []any
			for _, e := range arr {
				v, err := s.member(e, x, target, as)
				if err != nil {
					return nil, err
				}
				if v != nil {
					out = append(out, v)
				}
			}
			return out, nil
		}
		if o, ok := t.(*psObject); ok {
			return o.get(x.name), nil
		}
		if h, ok := t.(*psHash); ok {
			v, _ := h.get(x.name)
			return v, nil
		}
		return nil, nil
	}
	tm, ok := t.(time.Time)
	if !ok {
		return nil, psErrf("Method invocation failed because [%s] does not contain a method named '%s'.", psTypeName(t), x.name)
	}
	if len(x.args) != 1 {
		return nil, psErrf("Cannot find an overload for \"%s\" and the argument count: \"%d\".", x.name, len(x.args))
	}
	v, err := s.eval(x.args[0], target, as)
	if err != nil {
		return nil, err
	}
	f, err := strconv.ParseFloat(psString(v), 64)
	if err != nil {
		return nil, psErrf("Cannot convert argument \"value\", with value: \"%s\", for \"%s\" to type \"System.Double\"", psString(v), x.name)
	}
	unit := map[string]time.Duration{"addhours": time.Hour, "adddays": 24 * time.Hour, "addminutes": time.Minute, "addseconds": time.Second}[strings.ToLower(x.name)]
	if unit == 0 {
		return nil, psErrf("Method invocation failed because [System.DateTime] does not contain a method named '%s'.", x.name)
	}
	return tm.Add(time.Duration(f * float64(unit))), nil
}

func psTypeName(v any) string {
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

// expand does a double-quoted string's variable expansion and backtick escapes.
func (s *session) expand(str string) string {
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
			if stmts, err := parsePSText(string(rs[i+2 : j])); err == nil {
				if v, err := s.eval(exprSub{stmts: stmts}, "", ""); err == nil {
					b.WriteString(psString(v))
				}
			}
			i = j
		case r == '$' && i+1 < len(rs) && (isIdentRune(rs[i+1])):
			j := i + 1
			for j < len(rs) && isIdentRune(rs[j]) {
				j++
			}
			name := string(rs[i+1 : j])
			v, _ := s.eval(exprVar{name}, "", "")
			b.WriteString(psString(v))
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

// formatValues prints output as PowerShell's default formatter does: scalars one per line,
// objects in list view (more than 4 properties) separated by blank lines, or one table.
func formatValues(out *strings.Builder, vals []any) {
	var table []*psObject
	flushTable := func() {
		if len(table) == 0 {
			return
		}
		writeTable(out, table)
		table = nil
	}
	for _, v := range flatten(vals) {
		switch x := v.(type) {
		case *psObject:
			if x.table {
				table = append(table, x)
				continue
			}
			flushTable()
			writeList(out, x)
		default:
			flushTable()
			if v == nil {
				continue
			}
			out.WriteString(psValueText(v) + "\n")
		}
	}
	flushTable()
}

func psValueText(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format("Monday, January 2, 2006 3:04:05 PM")
	}
	return psString(v)
}

// enumerationLimit is $FormatEnumerationLimit: collections show their first 4 items, then "...".
const enumerationLimit = 4

func listValue(v any) string {
	switch x := v.(type) {
	case []string:
		if len(x) == 0 {
			return "{}"
		}
		more := ""
		if len(x) > enumerationLimit {
			x, more = x[:enumerationLimit], "..."
		}
		return "{" + strings.Join(x, ", ") + more + "}"
	case time.Time:
		return psDate(x)
	}
	return psString(v)
}

func writeList(out *strings.Builder, o *psObject) {
	if out.Len() > 0 && !strings.HasSuffix(out.String(), "\n\n") {
		out.WriteString("\n")
	}
	w := 0
	for _, p := range o.props {
		if len(p.name) > w {
			w = len(p.name)
		}
	}
	for _, p := range o.props {
		fmt.Fprintf(out, "%-*s : %s\n", w, p.name, listValue(p.val))
	}
	out.WriteString("\n")
}

func writeTable(out *strings.Builder, rows []*psObject) {
	cols := rows[0].props
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = len(c.name)
		for _, r := range rows {
			if n := len(listValue(r.get(c.name))); n > widths[i] {
				widths[i] = n
			}
		}
	}
	line := func(cells []string) {
		var parts []string
		for i, c := range cells {
			if i == len(cells)-1 {
				parts = append(parts, c)
			} else {
				parts = append(parts, fmt.Sprintf("%-*s", widths[i], c))
			}
		}
		out.WriteString(strings.TrimRight(strings.Join(parts, " "), " ") + "\n")
	}
	var hdr, dash []string
	for _, c := range cols {
		hdr = append(hdr, c.name)
		dash = append(dash, strings.Repeat("-", len(c.name)))
	}
	line(hdr)
	line(dash)
	for _, r := range rows {
		var cells []string
		for _, c := range cols {
			cells = append(cells, listValue(r.get(c.name)))
		}
		line(cells)
	}
}
