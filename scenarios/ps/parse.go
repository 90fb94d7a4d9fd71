package ps

import (
	"fmt"
	"strings"
	"unicode"
)

// Line is one logical line of a script (input lines joined by a trailing backtick or an open
// bracket), with its offset in the input.
type Line struct {
	Text  string
	Off   int // 1 + index of the first input line it came from
	Stmts []Stmt
}

// Stmt is a statement: "$var = value", a command with arguments (argument mode), or an
// expression.
type Stmt struct {
	Assign string // variable assigned ("" if none)
	Cmd    *Command
	Expr   Expr      // when Cmd and Try are nil
	Try    *TryBlock // try { } catch { } finally { }
}

// TryBlock is try { Body } catch { Catch } finally { Finally }: a terminating error in Body (an
// AD cmdlet's error, a binding error, or any error under -ErrorAction Stop) runs Catch with $_
// the error record; Finally runs in every case.
type TryBlock struct {
	Body, Catch, Finally []Stmt
	HasCatch             bool
}

// Command is a command name and its arguments, as written: bound at run time (Bind).
type Command struct {
	Name  string
	Elems []Elem
}

// Elem is one argument of a command: -Param, -Param:value, or a value.
type Elem struct {
	IsParam bool
	Param   string // without the dash
	Colon   bool   // -Param:value
	Value   Expr   // the argument, or the colon value
	Raw     string // as written, for messages
}

// Expr is an expression: Lit, Expand, Var, Array, HashLit, Sub or Member.
type Expr interface{}

type (
	// Lit is a literal: a bareword, a single-quoted string, a number (as written).
	Lit struct{ V any }
	// Expand is a double-quoted string, expanded when evaluated ($var, $(...), backtick escapes).
	Expand struct{ S string }
	// Var is $name.
	Var struct{ Name string }
	// Array is a, b, c.
	Array struct{ Items []Expr }
	// HashLit is @{Key = value; ...}.
	HashLit struct {
		Keys []string
		Vals []Expr
	}
	// Sub is (statements), or @(statements) with Array set.
	Sub struct {
		Stmts []Stmt
		Array bool // @( )
	}
	// Member is target.Name, or target.Name(args) with Call set.
	Member struct {
		Target Expr
		Name   string
		Args   []Expr
		Call   bool
	}
)

// SyntaxError is a tokenizer/parser error: the line (offset in the input) and what was expected.
type SyntaxError struct {
	Line int // offset from the first input line, 1-based
	Msg  string
}

func (e *SyntaxError) Error() string { return e.Msg }

// SplitLines joins input lines into logical lines (a trailing backtick or an unclosed bracket
// continues a line) and parses each.
func SplitLines(input []string) ([]Line, *SyntaxError) {
	var out []Line
	var cur strings.Builder
	start := -1
	depth := 0
	flush := func() *SyntaxError {
		if start < 0 {
			return nil
		}
		text := cur.String()
		stmts, err := Parse(text)
		if err != nil {
			return &SyntaxError{start + 1, fmt.Sprintf("PowerShell: %s in %q", err, strings.TrimSpace(text))}
		}
		out = append(out, Line{Text: text, Off: start + 1, Stmts: stmts})
		cur.Reset()
		start = -1
		depth = 0
		return nil
	}
	braces := 0 // unclosed { of the line being joined: inside a block a newline separates statements
	for i, l := range input {
		if start < 0 {
			start = i
		} else if braces > 0 {
			cur.WriteByte('\n')
		} else {
			cur.WriteByte(' ')
		}
		cont := strings.HasSuffix(strings.TrimRight(l, " \t"), "`")
		if cont {
			l = strings.TrimSuffix(strings.TrimRight(l, " \t"), "`")
		}
		cur.WriteString(l)
		dk, db := depths(l)
		depth += dk
		braces += db
		if cont || depth > 0 {
			continue
		}
		// "}" then "catch {" or "finally {" on the next line: the same try statement.
		if i+1 < len(input) && strings.HasSuffix(strings.TrimSpace(l), "}") {
			next := strings.ToLower(strings.TrimSpace(input[i+1]))
			if strings.HasPrefix(next, "catch") || strings.HasPrefix(next, "finally") {
				braces = 1 // join with a newline, as inside the block
				continue
			}
		}
		braces = 0
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// depths counts the unclosed brackets — ( and { — and, of those, the braces { outside quotes, for
// joining multi-line statements (inside braces a line break separates statements).
func depths(s string) (brackets, braces int) {
	var q rune
	for _, r := range s {
		switch {
		case q != 0:
			if r == q {
				q = 0
			}
		case r == '\'' || r == '"':
			q = r
		case r == '(':
			brackets++
		case r == ')':
			brackets--
		case r == '{':
			brackets++
			braces++
		case r == '}':
			brackets--
			braces--
		}
	}
	return brackets, braces
}

type psParser struct {
	src []rune
	pos int
}

func Parse(text string) ([]Stmt, error) {
	p := &psParser{src: []rune(text)}
	stmts, err := p.statements(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		return nil, p.errf("unexpected %q", string(p.src[p.pos]))
	}
	return stmts, nil
}

func (p *psParser) errf(format string, args ...any) error {
	return fmt.Errorf("column %d: "+format, append([]any{p.pos + 1}, args...)...)
}

func (p *psParser) peek() rune {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *psParser) at(off int) rune {
	if p.pos+off < len(p.src) {
		return p.src[p.pos+off]
	}
	return 0
}

func (p *psParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	if p.peek() == '#' { // a comment runs to the end of the line
		for p.pos < len(p.src) && p.src[p.pos] != '\n' {
			p.pos++
		}
	}
}

// statements parses until end or the closing rune.
func (p *psParser) statements(closing rune) ([]Stmt, error) {
	var out []Stmt
	for {
		p.skipSpace()
		for p.peek() == ';' || p.peek() == '\n' {
			p.pos++
			p.skipSpace()
		}
		if p.pos >= len(p.src) {
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
		if p.pos < len(p.src) && p.peek() != ';' && p.peek() != '\n' && p.peek() != closing {
			if p.peek() == '|' {
				return nil, p.errf("pipelines are not simulated")
			}
			return nil, p.errf("unexpected %q", string(p.peek()))
		}
	}
}

func (p *psParser) statement(closing rune) (Stmt, error) {
	p.skipSpace()
	if p.keyword("try") {
		return p.tryStatement()
	}
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
				return Stmt{Assign: name, Cmd: c}, err
			}
			e, err := p.exprList(closing)
			return Stmt{Assign: name, Expr: e}, err
		}
		p.pos = save
	}
	if isCommandStart(p.peek()) {
		c, err := p.command(closing)
		return Stmt{Cmd: c}, err
	}
	e, err := p.exprList(closing)
	return Stmt{Expr: e}, err
}

// keyword reports whether the word at the cursor is kw (case-insensitive) followed by a space or
// '{', and moves past it when it is.
func (p *psParser) keyword(kw string) bool {
	n := len([]rune(kw))
	if p.pos+n > len(p.src) || !strings.EqualFold(string(p.src[p.pos:p.pos+n]), kw) {
		return false
	}
	if r := p.at(n); r != ' ' && r != '\t' && r != '{' && r != '\n' && r != '[' {
		return false
	}
	p.pos += n
	return true
}

// block parses { statements }.
func (p *psParser) block(what string) ([]Stmt, error) {
	p.skipNewlines()
	if p.peek() != '{' {
		return nil, p.errf("missing '{' after %s", what)
	}
	p.pos++
	st, err := p.statements('}')
	if err != nil {
		return nil, err
	}
	p.pos++
	return st, nil
}

func (p *psParser) skipNewlines() {
	for p.skipSpace(); p.peek() == '\n'; p.skipSpace() {
		p.pos++
	}
}

// tryStatement parses try { } [catch [[Type]] { }] [finally { }] after the "try".
func (p *psParser) tryStatement() (Stmt, error) {
	t := &TryBlock{}
	var err error
	if t.Body, err = p.block("try"); err != nil {
		return Stmt{}, err
	}
	save := p.pos
	p.skipNewlines()
	if p.keyword("catch") {
		t.HasCatch = true
		p.skipSpace()
		if p.peek() == '[' { // catch [Type]: every error is caught (the simulator has no exception types)
			for p.pos < len(p.src) && p.peek() != ']' {
				p.pos++
			}
			p.pos++
		}
		if t.Catch, err = p.block("catch"); err != nil {
			return Stmt{}, err
		}
		save = p.pos
		p.skipNewlines()
	}
	if p.keyword("finally") {
		if t.Finally, err = p.block("finally"); err != nil {
			return Stmt{}, err
		}
	} else {
		p.pos = save
		if !t.HasCatch {
			return Stmt{}, p.errf("the try statement is missing its catch or finally block")
		}
	}
	return Stmt{Try: t}, nil
}

func isCommandStart(r rune) bool { return unicode.IsLetter(r) || r == '&' }

func (p *psParser) ident() string {
	start := p.pos
	for p.pos < len(p.src) && (unicode.IsLetter(p.src[p.pos]) || unicode.IsDigit(p.src[p.pos]) || p.src[p.pos] == '_' || p.src[p.pos] == ':') {
		p.pos++
	}
	return string(p.src[start:p.pos])
}

// command parses a command name and its arguments in argument mode.
func (p *psParser) command(closing rune) (*Command, error) {
	name := p.bareword()
	c := &Command{Name: name}
	for {
		p.skipSpace()
		r := p.peek()
		if p.pos >= len(p.src) || r == ';' || r == '\n' || r == closing || r == '|' || (closing == 0 && r == ')') {
			return c, nil
		}
		if isDash(r) && (unicode.IsLetter(p.at(1)) || p.at(1) == '_') {
			start := p.pos
			p.pos++
			pn := p.paramName()
			el := Elem{IsParam: true, Param: pn}
			if p.peek() == ':' {
				p.pos++
				v, err := p.argValue(closing)
				if err != nil {
					return nil, err
				}
				el.Colon, el.Value = true, v
			}
			el.Raw = string(p.src[start:p.pos])
			c.Elems = append(c.Elems, el)
			continue
		}
		start := p.pos
		v, err := p.argValue(closing)
		if err != nil {
			return nil, err
		}
		c.Elems = append(c.Elems, Elem{Value: v, Raw: strings.TrimSpace(string(p.src[start:p.pos]))})
	}
}

func (p *psParser) paramName() string {
	start := p.pos
	for p.pos < len(p.src) && (unicode.IsLetter(p.src[p.pos]) || unicode.IsDigit(p.src[p.pos]) || p.src[p.pos] == '_') {
		p.pos++
	}
	return string(p.src[start:p.pos])
}

// argValue parses one argument: a primary, and a comma list of primaries. Whitespace after the last
// element is left for the caller (it separates arguments).
func (p *psParser) argValue(closing rune) (Expr, error) {
	return p.commaList(p.argPrimary, closing, true)
}

func (p *psParser) argPrimary(closing rune) (Expr, error) {
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
	return Lit{w}, nil
}

// bareword reads an unquoted argument: up to whitespace or , ; ( ) { } |
func (p *psParser) bareword() string {
	start := p.pos
	for p.pos < len(p.src) {
		r := p.src[p.pos]
		if r == ' ' || r == '\t' || strings.ContainsRune(",;(){}|\n", r) {
			break
		}
		p.pos++
	}
	return string(p.src[start:p.pos])
}

// exprList parses an expression with commas (an array) in expression mode.
func (p *psParser) exprList(closing rune) (Expr, error) {
	return p.commaList(p.primary, closing, false)
}

// commaList parses elem, then ", elem" as long as a comma follows: one element is itself, more an
// array. keepSpace leaves the whitespace after the last element unread.
func (p *psParser) commaList(elem func(rune) (Expr, error), closing rune, keepSpace bool) (Expr, error) {
	first, err := elem(closing)
	if err != nil {
		return nil, err
	}
	items := []Expr{first}
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
	return Array{items}, nil
}

// primary parses a value in expression mode, then member accesses.
func (p *psParser) primary(closing rune) (Expr, error) {
	p.skipSpace()
	var e Expr
	switch r := p.peek(); {
	case r == '\'':
		s, err := p.singleQuoted()
		if err != nil {
			return nil, err
		}
		e = Lit{s}
	case r == '"':
		s, err := p.doubleQuoted()
		if err != nil {
			return nil, err
		}
		e = Expand{s}
	case r == '$':
		p.pos++
		name := p.ident()
		if name == "" && (p.peek() == '?') {
			p.pos++
			name = "?" // $?: whether the last statement succeeded
		}
		if name == "" {
			return nil, p.errf("expected a variable name after '$'")
		}
		e = Var{name}
	case r == '@' && p.at(1) == '(':
		p.pos += 2
		st, err := p.statements(')')
		if err != nil {
			return nil, err
		}
		p.pos++
		e = Sub{Stmts: st, Array: true}
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
		e = Sub{Stmts: st}
	case r == '-' && unicode.IsDigit(p.at(1)), unicode.IsDigit(r):
		start := p.pos
		p.pos++
		for p.pos < len(p.src) && (unicode.IsDigit(p.src[p.pos]) || p.src[p.pos] == '.') {
			p.pos++
		}
		e = Lit{string(p.src[start:p.pos])}
	case r == 0:
		return nil, p.errf("expected a value")
	default:
		w := p.bareword()
		if w == "" {
			return nil, p.errf("unexpected %q", string(r))
		}
		e = Lit{w}
	}
	for p.peek() == '.' && (unicode.IsLetter(p.at(1)) || p.at(1) == '\'' || p.at(1) == '"') {
		p.pos++
		name, err := p.quotedOr(p.paramName)
		if err != nil {
			return nil, err
		}
		m := Member{Target: e, Name: name}
		if p.peek() == '(' {
			p.pos++
			args, err := p.statements(')')
			if err != nil {
				return nil, err
			}
			p.pos++
			m.Call = true
			for _, a := range args {
				m.Args = append(m.Args, a.Expr)
			}
		}
		e = m
	}
	return e, nil
}

// quotedOr reads a single- or double-quoted string at the cursor, or else a bare word with bare
// (a member name after '.', a hashtable key).
func (p *psParser) quotedOr(bare func() string) (string, error) {
	switch p.peek() {
	case '\'':
		return p.singleQuoted()
	case '"':
		return p.doubleQuoted()
	}
	return bare(), nil
}

func (p *psParser) hashtable() (Expr, error) {
	h := HashLit{}
	for {
		p.skipSpace()
		for p.peek() == ';' || p.peek() == '\n' {
			p.pos++
			p.skipSpace()
		}
		if p.pos >= len(p.src) {
			return nil, p.errf("missing closing '}' of a hashtable @{...}")
		}
		if p.peek() == '}' {
			p.pos++
			return h, nil
		}
		key, err := p.quotedOr(func() string {
			start := p.pos
			for p.pos < len(p.src) && !strings.ContainsRune(" \t=;}", p.src[p.pos]) {
				p.pos++
			}
			return string(p.src[start:p.pos])
		})
		if err != nil {
			return nil, err
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
		h.Keys = append(h.Keys, key)
		h.Vals = append(h.Vals, v)
	}
}

// singleQuoted reads '...', where a doubled quote is one quote.
func (p *psParser) singleQuoted() (string, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		r := p.src[p.pos]
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
	for p.pos < len(p.src) {
		r := p.src[p.pos]
		switch {
		case r == '`' && p.pos+1 < len(p.src):
			b.WriteRune(r)
			b.WriteRune(p.src[p.pos+1])
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
