package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/gmsasim/gmsasim/internal/transcript"
	"github.com/gmsasim/gmsasim/scenarios/ps"
)

// Scenario is one parsed scenario file.
type Scenario struct {
	Path   string   // as given to Parse (used in failure messages and replay commands)
	Header []string // the leading # paragraph, without the "# "
	Labels []string // from "# labels: a, b", sorted, lower-case
	Steps  []*Step
	// Worlds are the rows of the file's worlds block (worlds.go): each is a run of the steps over
	// the world block with the row's values. nil: one world.
	Worlds []WorldRow
	lines  []string // the file, for Rewrite
}

// Title is the first header line.
func (s *Scenario) Title() string {
	if len(s.Header) == 0 {
		return ""
	}
	return s.Header[0]
}

// HasLabel reports whether the scenario carries label l.
func (s *Scenario) HasLabel(l string) bool {
	for _, x := range s.Labels {
		if x == strings.ToLower(l) {
			return true
		}
	}
	return false
}

// Pending reports whether the scenario is labelled "pending" (it needs a part of the simulator that
// does not exist yet and is skipped unless asked for).
func (s *Scenario) Pending() bool { return s.HasLabel(LabelPending) }

// Labels with a meaning for the runner.
const (
	LabelPending     = "pending"
	LabelMetamorphic = "metamorphic"
)

// Step is one directive of a scenario: its line, command, arguments, input and expected output.
type Step struct {
	Line     int // 1-based line of the directive
	Cmd      string
	Args     []Arg
	Input    []string
	Expected string
	// RowExpected are the expected block's sections for rows of the worlds block ("----[ROW]"
	// lines), by row name; a row without one expects Expected.
	RowExpected map[string]string
	// outFrom/outTo are the line indexes (0-based, half-open) of the expected-output block, the
	// separators included, for Rewrite.
	outFrom, outTo int
	ps             []ps.Line // parsed PowerShell, for "ps" steps
}

// Arg is one argument of a directive line: key=value, or a bare word (Key only).
type Arg struct {
	Key, Val string
	HasVal   bool
}

// Arg returns the value of key and whether it was given.
func (s *Step) Arg(key string) (string, bool) {
	for _, a := range s.Args {
		if strings.EqualFold(a.Key, key) && a.HasVal {
			return a.Val, true
		}
	}
	return "", false
}

// Flag reports whether a bare word was given.
func (s *Step) Flag(word string) bool {
	for _, a := range s.Args {
		if strings.EqualFold(a.Key, word) && !a.HasVal {
			return true
		}
	}
	return false
}

// Positional returns the bare words in order.
func (s *Step) Positional() []string {
	var out []string
	for _, a := range s.Args {
		if !a.HasVal {
			out = append(out, a.Key)
		}
	}
	return out
}

// String is the directive line as written.
func (s *Step) String() string {
	var b strings.Builder
	b.WriteString(s.Cmd)
	for _, a := range s.Args {
		b.WriteByte(' ')
		b.WriteString(a.Key)
		if a.HasVal {
			b.WriteByte('=')
			if strings.ContainsAny(a.Val, " \t") {
				b.WriteString(`"` + a.Val + `"`)
			} else {
				b.WriteString(a.Val)
			}
		}
	}
	return b.String()
}

// ParseError is a malformed scenario: the file, the line and what was expected there.
type ParseError struct {
	Path string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg) }

// ParseFile reads and parses a scenario file.
func ParseFile(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenarios: reading %s: %w", path, err)
	}
	return Parse(path, string(b))
}

// Parse parses a scenario from its text. path names it in errors.
func Parse(path, text string) (*Scenario, error) {
	return parse(path, text, false)
}

// parse: lenient is set when rewriting (a step whose expected output does not yet show a
// PowerShell binding error is not refused).
func parse(path, text string, lenient bool) (*Scenario, error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	s := &Scenario{Path: path, lines: lines}
	directives, cmdlets := directiveTable(), newCmdletTable()
	perr := func(i int, format string, args ...any) error {
		return &ParseError{Path: path, Line: i + 1, Msg: fmt.Sprintf(format, args...)}
	}
	i := 0
	for ; i < len(lines) && strings.HasPrefix(lines[i], "#"); i++ {
		h := strings.TrimSpace(strings.TrimPrefix(lines[i], "#"))
		if l, ok := strings.CutPrefix(strings.ToLower(h), "labels:"); ok {
			for _, x := range strings.Split(l, ",") {
				if x = strings.TrimSpace(x); x != "" {
					s.Labels = append(s.Labels, x)
				}
			}
			continue
		}
		s.Header = append(s.Header, h)
	}
	if len(s.Header) == 0 {
		return nil, perr(0, "expected a leading # paragraph saying what the scenario shows and which seed section it comes from")
	}
	sort.Strings(s.Labels)
	blocks, err := transcript.ParseLines(lines, i)
	if err != nil {
		return nil, scenarioSyntaxError(path, err)
	}
	for bi, b := range blocks {
		st := &Step{Line: b.Line, Input: b.Input, outFrom: b.OutFrom, outTo: b.OutTo}
		args, err := splitArgs(strings.TrimSpace(b.Cmd))
		if err != nil {
			return nil, perr(b.Line-1, "%v", err)
		}
		st.Cmd = strings.ToLower(args[0].Key)
		st.Args = args[1:]
		if _, ok := directives[st.Cmd]; !ok {
			return nil, perr(b.Line-1, "unknown directive %q; expected one of: %s", args[0].Key, strings.Join(slices.Sorted(maps.Keys(directives)), ", "))
		}
		if st.Cmd == "worlds" {
			if bi != 0 {
				return nil, perr(b.Line-1, "worlds: expected the worlds block first, before the world block")
			}
			if s.Worlds, err = parseWorldRows(st); err != nil {
				return nil, perr(b.Line-1, "%v", err)
			}
			if len(b.Out) > 0 {
				return nil, perr(b.OutFrom+1, "worlds: expected no output block (a blank line after its \"----\")")
			}
			continue
		}
		var rowNames []string
		if s.Worlds != nil {
			rowNames = s.rowNames()
		}
		shared, rows, bad, err := splitRowBlocks(b.Out, rowNames)
		if err != nil {
			return nil, perr(b.OutFrom+1+bad+map[bool]int{true: 1}[doubledOut(lines, b.OutFrom)], "%v", err)
		}
		st.Expected = normaliseOutput(strings.Join(shared, "\n"))
		for name, out := range rows {
			if st.RowExpected == nil {
				st.RowExpected = map[string]string{}
			}
			st.RowExpected[name] = normaliseOutput(strings.Join(out, "\n"))
		}
		for _, e := range append([]string{st.Expected}, slices.Collect(maps.Values(st.RowExpected))...) {
			if _, _, err := errorPattern(e); err != nil {
				return nil, perr(b.OutFrom+1, "%v", err)
			}
		}
		if err := directives[st.Cmd].checkArgs(st); err != nil {
			return nil, perr(st.Line-1, "%s: %v", st.Cmd, err)
		}
		if st.Cmd == "world" && s.Worlds != nil {
			for _, row := range s.Worlds {
				w, err := worldFor(st, &row)
				if err == nil {
					_, err = parseWorld(w)
				}
				if err != nil {
					return nil, perr(st.Line-1, "world [%s]: %v", row.Name, err)
				}
			}
		} else if err := directives[st.Cmd].check(st); err != nil {
			return nil, perr(st.Line-1, "%s: %v", st.Cmd, err)
		}
		if st.Cmd == "ps" {
			if err := parsePSStep(st, cmdlets, lenient); err != nil {
				return nil, &ParseError{Path: path, Line: st.Line + err.Line, Msg: err.Msg}
			}
		}
		s.Steps = append(s.Steps, st)
	}
	if len(s.Steps) == 0 || s.Steps[0].Cmd != "world" {
		return nil, perr(len(lines)-1, "expected the first directive to be \"world\" (domain, DCs, users, hosts)")
	}
	for _, st := range s.Steps[1:] {
		if st.Cmd == "world" {
			return nil, perr(st.Line-1, "a scenario has one \"world\" directive, the first")
		}
	}
	return s, nil
}

// doubledOut reports whether the output opened at lines[i] ("----") is doubled.
func doubledOut(lines []string, i int) bool { return i+1 < len(lines) && lines[i+1] == "----" }

// scenarioSyntaxError words a transcript grammar error in the scenario's vocabulary (directives).
func scenarioSyntaxError(path string, err error) error {
	var se *transcript.SyntaxError
	if !errors.As(err, &se) {
		return &ParseError{Path: path, Line: 1, Msg: err.Error()}
	}
	msg := se.Error()
	switch se.Kind {
	case transcript.SepWithoutCommand:
		msg = "expected a directive line before \"----\" (ps, world, advance, ...)"
	case transcript.BlankInInput:
		msg = fmt.Sprintf("directive %q (line %d): expected its input lines to end with a line \"----\", found a blank line", directiveName(se.Cmd), se.CmdLine)
	case transcript.NoSeparator:
		msg = fmt.Sprintf("directive %q (line %d): expected a line \"----\" before the end of the file", directiveName(se.Cmd), se.CmdLine)
	case transcript.UnclosedOutput:
		msg = fmt.Sprintf("directive %q (line %d): expected the output opened by a doubled \"----\" to be closed by another doubled \"----\"", directiveName(se.Cmd), se.CmdLine)
	}
	return &ParseError{Path: path, Line: se.Line, Msg: msg}
}

// directiveName is the directive word of a directive line, as the parser names it.
func directiveName(line string) string {
	if args, err := splitArgs(line); err == nil && len(args) > 0 {
		return strings.ToLower(args[0].Key)
	}
	return strings.ToLower(strings.Fields(line + " x")[0])
}

// normaliseOutput trims trailing spaces on each line and blank lines at both ends.
func normaliseOutput(s string) string { return transcript.Normalise(s) }

// splitArgs splits a directive line into words; key=value pairs may quote the value with "".
func splitArgs(line string) ([]Arg, error) {
	var out []Arg
	i := 0
	for i < len(line) {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			break
		}
		var word strings.Builder
		inQuote := false
		start := i
		for i < len(line) && (inQuote || (line[i] != ' ' && line[i] != '\t')) {
			if line[i] == '"' {
				inQuote = !inQuote
				i++
				continue
			}
			word.WriteByte(line[i])
			i++
		}
		if inQuote {
			return nil, fmt.Errorf("unclosed double quote starting at column %d", start+1)
		}
		w := word.String()
		raw := line[start:i]
		if k, v, ok := strings.Cut(w, "="); ok && k != "" && !strings.HasPrefix(raw, `"`) {
			out = append(out, Arg{Key: k, Val: v, HasVal: true})
		} else {
			out = append(out, Arg{Key: w})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty directive line")
	}
	return out, nil
}

// Rewrite returns the scenario's text with each step's expected output replaced by got[i] (steps
// not in got keep theirs). Outputs with blank lines or "----" lines use the doubled separator.
func (s *Scenario) Rewrite(got map[int]string) string {
	var b strings.Builder
	next := 0
	for _, st := range s.Steps {
		out, ok := got[st.Line]
		if !ok {
			continue
		}
		for ; next < st.outFrom; next++ {
			b.WriteString(s.lines[next] + "\n")
		}
		b.WriteString(formatBlock(out))
		next = st.outTo
	}
	for ; next < len(s.lines); next++ {
		b.WriteString(s.lines[next] + "\n")
	}
	return b.String()
}

func formatBlock(out string) string { return transcript.FormatOutput(out) }

// ParseFileForRewrite parses like ParseFile but accepts PowerShell binding errors (unknown
// cmdlets and parameters) whose PowerShell message the expected output does not show yet: the
// rewrite then records what PowerShell prints.
func ParseFileForRewrite(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenarios: reading %s: %w", path, err)
	}
	return parse(path, string(b), true)
}
