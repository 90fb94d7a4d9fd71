package scenarios

import (
	"fmt"
	"strings"
	"unicode"
)

// The PowerShell subset of a "ps" step: statements separated by ";" or lines; a statement is
// "$var = value", a command with arguments (argument mode), or an expression. Commands are
// bound against the cmdlet table at run time (psbind.go).

// psLine is one logical line of a ps step (lines joined by a trailing backtick or an open
// bracket), with its offset from the step's directive line.
type psLine struct {
	text  string
	off   int // 1 + index of the first input line it came from
	stmts []psStmt
}

type psStmt struct {
	assign string // variable assigned ("" if none)
	cmd    *psCommand
	expr   psExpr
}

type psCommand struct {
	name  string
	elems []psElem
}

type psElem struct {
	isParam bool
	param   string // without the dash
	colon   bool   // -Param:value
	value   psExpr // the argument, or the colon value
	raw     string // as written, for messages
}

type psExpr interface{}

type (
	exprLit    struct{ v any } // string, int64
	exprExpand struct{ s string }
	exprVar    struct{ name string }
	exprArray  struct{ items []psExpr }
	exprHash   struct {
		keys []string
		vals []psExpr
	}
	exprSub struct {
		stmts []psStmt
		array bool // @( )
	}
	exprMember struct {
		target psExpr
		name   string
		args   []psExpr
		call   bool
	}
)

// psSyntaxError is a tokenizer/parser error: column and what was expected.
type psSyntaxError struct {
	line int // offset from the directive line
	msg  string
}

// parsePSStep splits the step's input into logical lines and parses each.
func parsePSStep(st *Step, cmdlets cmdletTable, lenient bool) *psSyntaxError {
	if len(st.Input) == 0 {
		return &psSyntaxError{0, "ps: expected PowerShell lines between the directive and \"----\""}
	}
	var cur strings.Builder
	start := -1
	depth := 0
	flush := func() *psSyntaxError {
		if start < 0 {
			return nil
		}
		text := cur.String()
		stmts, err := parsePSText(text)
		if err != nil {
			return &psSyntaxError{start + 1, fmt.Sprintf("PowerShell: %s in %q", err, strings.TrimSpace(text))}
		}
		st.ps = append(st.ps, psLine{text: text, off: start + 1, stmts: stmts})
		cur.Reset()
		start = -1
		depth = 0
		return nil
	}
	for i, l := range st.Input {
		if start < 0 {
			start = i
		} else {
			cur.WriteByte(' ')
		}
		cont := strings.HasSuffix(strings.TrimRight(l, " \t"), "`")
		if cont {
			l = strings.TrimSuffix(strings.TrimRight(l, " \t"), "`")
		}
		cur.WriteString(l)
		depth += bracketDepth(l)
		if cont || depth > 0 {
			continue
		}
		if err := flush(); err != nil {
			return err
		}
	}
	if start >= 0 {
		text := cur.String()
		if _, err := parsePSText(text); err != nil {
			return &psSyntaxError{start + 1, fmt.Sprintf("PowerShell: %s in %q", err, strings.TrimSpace(text))}
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return checkCommands(st, cmdlets, lenient)
}

// checkCommands refuses, at parse time, a cmdlet the simulator does not know and a parameter
// its cmdlet does not have — unless the step's expected output shows PowerShell's own binding
// error (a scenario may document a broken line from the docs), or when rewriting.
func checkCommands(st *Step, cmdlets cmdletTable, lenient bool) *psSyntaxError {
	var walk func(stmts []psStmt, off int) *psSyntaxError
	var walkExpr func(e psExpr, off int) *psSyntaxError
	walkExpr = func(e psExpr, off int) *psSyntaxError {
		switch x := e.(type) {
		case exprSub:
			return walk(x.stmts, off)
		case exprMember:
			return walkExpr(x.target, off)
		case exprArray:
			for _, it := range x.items {
				if err := walkExpr(it, off); err != nil {
					return err
				}
			}
		case exprHash:
			for _, v := range x.vals {
				if err := walkExpr(v, off); err != nil {
					return err
				}
			}
		}
		return nil
	}
	walk = func(stmts []psStmt, off int) *psSyntaxError {
		for _, s := range stmts {
			if s.cmd == nil {
				if err := walkExpr(s.expr, off); err != nil {
					return err
				}
				continue
			}
			switch strings.ToLower(s.cmd.name) {
			case "get-date", "write-output", "echo":
				continue
			}
			def := cmdlets.lookup(s.cmd.name)
			if def == nil {
				if lenient || strings.Contains(st.Expected, "The term '"+s.cmd.name+"' is not recognized") {
					continue
				}
				return &psSyntaxError{off, fmt.Sprintf("unknown cmdlet %q; the simulator knows: %s", s.cmd.name, strings.Join(cmdlets.names(), ", "))}
			}
			for _, el := range s.cmd.elems {
				if err := walkExpr(el.value, off); err != nil {
					return err
				}
				if !el.isParam || def.onHost {
					continue
				}
				all := append(append([]paramDef(nil), def.params...), commonParams...)
				if _, err := matchParam(def, all, el.param); err != nil {
					if lenient || strings.Contains(st.Expected, "parameter name '"+el.param+"'") {
						continue
					}
					return &psSyntaxError{off, fmt.Sprintf("%s has no parameter -%s; its parameters are: %s", def.name, el.param, def.paramList())}
				}
			}
		}
		return nil
	}
	for _, l := range st.ps {
		if err := walk(l.stmts, l.off); err != nil {
			return err
		}
	}
	return nil
}

// bracketDepth counts unclosed ( { outside quotes, for joining multi-line statements.
func bracketDepth(s string) int {
	d := 0
	var q rune
	for _, r := range s {
		switch {
		case q != 0:
			if r == q {
				q = 0
			}
		case r == '\'' || r == '"':
			q = r
		case r == '(' || r == '{':
			d++
		case r == ')' || r == '}':
			d--
		}
	}
	return d
}

type psParser struct {
	s   []rune
	pos int
}

func parsePSText(text string) ([]psStmt, error) {
	p := &psParser{s: []rune(text)}
	stmts, err := p.statements(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.s) {
		return nil, p.errf("unexpected %q", string(p.s[p.pos]))
	}
	return stmts, nil
}

func (p *psParser) errf(format string, args ...any) error {
	return fmt.Errorf("column %d: "+format, append([]any{p.pos + 1}, args...)...)
}

func (p *psParser) peek() rune {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *psParser) at(off int) rune {
	if p.pos+off < len(p.s) {
		return p.s[p.pos+off]
	}
	return 0
}

func (p *psParser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
	if p.peek() == '#' { // a comment runs to the end of the line
		p.pos = len(p.s)
	}
}

// statements parses until end or the closing rune.
func (p *psParser) statements(closing rune) ([]psStmt, error) {
	var out []psStmt
	for {
		p.skipSpace()
		for p.peek() == ';' || p.peek() == '\n' {
			p.pos++
			p.skipSpace()
		}
		if p.pos >= len(p.s) {
			if closing != 0 {
				return nil, p.errf("missing closing %q", string(closing))
			}
			return out, nil
		}
		if p.peek() == closing {
			return out, nil
		}
		st, err := p.statement(closing)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
		p.skipSpace()
		if p.pos < len(p.s) && p.peek() != ';' && p.peek() != closing {
			if p.peek() == '|' {
				return nil, p.errf("pipelines are not simulated")
			}
			return nil, p.errf("unexpected %q", string(p.peek()))
		}
	}
}

func (p *psParser) statement(closing rune) (psStmt, error) {
	p.skipSpace()
	if p.peek() == '$' {
		save := p.pos
		p.pos++
		name := p.ident()
		p.skipSpace()
		if name != "" && p.peek() == '=' && p.at(1) != '=' {
			p.pos++
			p.skipSpace()
			if isCommandStart(p.peek()) {
				c, err := p.command(closing)
				return psStmt{assign: name, cmd: c}, err
			}
			e, err := p.exprList(closing)
			return psStmt{assign: name, expr: e}, err
		}
		p.pos = save
	}
	if isCommandStart(p.peek()) {
		c, err := p.command(closing)
		return psStmt{cmd: c}, err
	}
	e, err := p.exprList(closing)
	return psStmt{expr: e}, err
}

func isCommandStart(r rune) bool { return unicode.IsLetter(r) || r == '&' }

func (p *psParser) ident() string {
	start := p.pos
	for p.pos < len(p.s) && (unicode.IsLetter(p.s[p.pos]) || unicode.IsDigit(p.s[p.pos]) || p.s[p.pos] == '_' || p.s[p.pos] == ':') {
		p.pos++
	}
	return string(p.s[start:p.pos])
}

// command parses a command name and its arguments in argument mode.
func (p *psParser) command(closing rune) (*psCommand, error) {
	name := p.bareword()
	c := &psCommand{name: name}
	for {
		p.skipSpace()
		r := p.peek()
		if p.pos >= len(p.s) || r == ';' || r == closing || r == '|' || (closing == 0 && r == ')') {
			return c, nil
		}
		if isDash(r) && (unicode.IsLetter(p.at(1)) || p.at(1) == '_') {
			start := p.pos
			p.pos++
			pn := p.paramName()
			el := psElem{isParam: true, param: pn}
			if p.peek() == ':' {
				p.pos++
				v, err := p.argValue(closing)
				if err != nil {
					return nil, err
				}
				el.colon, el.value = true, v
			}
			el.raw = string(p.s[start:p.pos])
			c.elems = append(c.elems, el)
			continue
		}
		start := p.pos
		v, err := p.argValue(closing)
		if err != nil {
			return nil, err
		}
		c.elems = append(c.elems, psElem{value: v, raw: strings.TrimSpace(string(p.s[start:p.pos]))})
	}
}

func (p *psParser) paramName() string {
	start := p.pos
	for p.pos < len(p.s) && (unicode.IsLetter(p.s[p.pos]) || unicode.IsDigit(p.s[p.pos]) || p.s[p.pos] == '_') {
		p.pos++
	}
	return string(p.s[start:p.pos])
}

// argValue parses one argument: a primary, and a comma list of primaries. Whitespace after the last
// element is left for the caller (it separates arguments).
func (p *psParser) argValue(closing rune) (psExpr, error) {
	return p.commaList(p.argPrimary, closing, true)
}

func (p *psParser) argPrimary(closing rune) (psExpr, error) {
	switch r := p.peek(); {
	case r == '\'' || r == '"' || r == '$' || r == '@' || r == '(':
		return p.primary(closing)
	case r == 0 || r == ',' || r == ';':
		return nil, p.errf("missing argument")
	}
	w := p.bareword()
	if w == "" {
		return nil, p.errf("unexpected %q", string(p.peek()))
	}
	return exprLit{w}, nil
}

// bareword reads an unquoted argument: up to whitespace or , ; ( ) { } |
func (p *psParser) bareword() string {
	start := p.pos
	for p.pos < len(p.s) {
		r := p.s[p.pos]
		if r == ' ' || r == '\t' || strings.ContainsRune(",;(){}|", r) {
			break
		}
		p.pos++
	}
	return string(p.s[start:p.pos])
}

// exprList parses an expression with commas (an array) in expression mode.
func (p *psParser) exprList(closing rune) (psExpr, error) {
	return p.commaList(p.primary, closing, false)
}

// commaList parses elem, then ", elem" as long as a comma follows: one element is itself, more an
// array. keepSpace leaves the whitespace after the last element unread.
func (p *psParser) commaList(elem func(rune) (psExpr, error), closing rune, keepSpace bool) (psExpr, error) {
	first, err := elem(closing)
	if err != nil {
		return nil, err
	}
	items := []psExpr{first}
	for {
		save := p.pos
		p.skipSpace()
		if p.peek() != ',' {
			if keepSpace {
				p.pos = save
			}
			break
		}
		p.pos++
		p.skipSpace()
		next, err := elem(closing)
		if err != nil {
			return nil, err
		}
		items = append(items, next)
	}
	if len(items) == 1 {
		return first, nil
	}
	return exprArray{items}, nil
}

// primary parses a value in expression mode, then member accesses.
func (p *psParser) primary(closing rune) (psExpr, error) {
	p.skipSpace()
	var e psExpr
	switch r := p.peek(); {
	case r == '\'':
		s, err := p.singleQuoted()
		if err != nil {
			return nil, err
		}
		e = exprLit{s}
	case r == '"':
		s, err := p.doubleQuoted()
		if err != nil {
			return nil, err
		}
		e = exprExpand{s}
	case r == '$':
		p.pos++
		name := p.ident()
		if name == "" {
			return nil, p.errf("expected a variable name after '$'")
		}
		e = exprVar{name}
	case r == '@' && p.at(1) == '(':
		p.pos += 2
		st, err := p.statements(')')
		if err != nil {
			return nil, err
		}
		p.pos++
		e = exprSub{stmts: st, array: true}
	case r == '@' && p.at(1) == '{':
		p.pos += 2
		h, err := p.hashtable()
		if err != nil {
			return nil, err
		}
		e = h
	case r == '(':
		p.pos++
		st, err := p.statements(')')
		if err != nil {
			return nil, err
		}
		p.pos++
		e = exprSub{stmts: st}
	case r == '-' && unicode.IsDigit(p.at(1)), unicode.IsDigit(r):
		start := p.pos
		p.pos++
		for p.pos < len(p.s) && (unicode.IsDigit(p.s[p.pos]) || p.s[p.pos] == '.') {
			p.pos++
		}
		e = exprLit{string(p.s[start:p.pos])}
	case r == 0:
		return nil, p.errf("expected a value")
	default:
		w := p.bareword()
		if w == "" {
			return nil, p.errf("unexpected %q", string(r))
		}
		e = exprLit{w}
	}
	for p.peek() == '.' && (unicode.IsLetter(p.at(1)) || p.at(1) == '\'' || p.at(1) == '"') {
		p.pos++
		var name string
		switch p.peek() {
		case '\'':
			n, err := p.singleQuoted()
			if err != nil {
				return nil, err
			}
			name = n
		case '"':
			n, err := p.doubleQuoted()
			if err != nil {
				return nil, err
			}
			name = n
		default:
			name = p.paramName()
		}
		m := exprMember{target: e, name: name}
		if p.peek() == '(' {
			p.pos++
			args, err := p.statements(')')
			if err != nil {
				return nil, err
			}
			p.pos++
			m.call = true
			for _, a := range args {
				m.args = append(m.args, a.expr)
			}
		}
		e = m
	}
	return e, nil
}

func (p *psParser) hashtable() (psExpr, error) {
	h := exprHash{}
	for {
		p.skipSpace()
		for p.peek() == ';' || p.peek() == '\n' {
			p.pos++
			p.skipSpace()
		}
		if p.pos >= len(p.s) {
			return nil, p.errf("missing closing '}' of a hashtable @{...}")
		}
		if p.peek() == '}' {
			p.pos++
			return h, nil
		}
		var key string
		switch p.peek() {
		case '\'':
			k, err := p.singleQuoted()
			if err != nil {
				return nil, err
			}
			key = k
		case '"':
			k, err := p.doubleQuoted()
			if err != nil {
				return nil, err
			}
			key = k
		default:
			start := p.pos
			for p.pos < len(p.s) && !strings.ContainsRune(" \t=;}", p.s[p.pos]) {
				p.pos++
			}
			key = string(p.s[start:p.pos])
		}
		p.skipSpace()
		if p.peek() != '=' {
			return nil, p.errf("expected '=' after the hashtable key %q", key)
		}
		p.pos++
		v, err := p.exprList('}')
		if err != nil {
			return nil, err
		}
		h.keys = append(h.keys, key)
		h.vals = append(h.vals, v)
	}
}

// singleQuoted reads '...' where ” is a quote.
func (p *psParser) singleQuoted() (string, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.s) {
		r := p.s[p.pos]
		if r == '\'' || r == '‘' || r == '’' {
			if p.at(1) == '\'' {
				b.WriteRune('\'')
				p.pos += 2
				continue
			}
			p.pos++
			return b.String(), nil
		}
		b.WriteRune(r)
		p.pos++
	}
	p.pos = start
	return "", p.errf("the string is missing the terminator: ' (unclosed single-quoted string)")
}

// doubleQuoted reads "..." keeping $var and `x escapes for expansion; "" is a quote.
func (p *psParser) doubleQuoted() (string, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.s) {
		r := p.s[p.pos]
		switch {
		case r == '`' && p.pos+1 < len(p.s):
			b.WriteRune(r)
			b.WriteRune(p.s[p.pos+1])
			p.pos += 2
			continue
		case r == '"' || r == '“' || r == '”':
			if p.at(1) == '"' {
				b.WriteString("`\"")
				p.pos += 2
				continue
			}
			p.pos++
			return b.String(), nil
		}
		b.WriteRune(r)
		p.pos++
	}
	p.pos = start
	return "", p.errf("the string is missing the terminator: \" (unclosed double-quoted string)")
}

// isDash: PowerShell accepts the en dash and em dash (as pasted from documents) as a parameter's
// dash.
func isDash(r rune) bool { return r == '-' || r == '–' || r == '—' }
