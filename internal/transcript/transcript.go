// Package transcript is the one transcript grammar of the project (the cockroachdb/datadriven form):
// the scenario files (package scenarios) and the model-level transcript tests of fakead and sim are
// both written in it. A file is a sequence of blocks: lines that are blank or start with "#" (kept
// as the next block's comment), a command line, the command's input lines, a line "----", and the
// output the command must give, ended by a blank line. An output that holds blank lines opens with
// a doubled "----" and closes with another doubled "----". With rewrite the outputs are
// regenerated in place and reviewers read the diff.
package transcript

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Block is one command: the comment lines before it, the command line as written, its input
// lines, and its expected output.
type Block struct {
	Comment string   // the blank and "#" lines before the command, each ending in "\n"
	Cmd     string   // the command line as written
	Line    int      // Cmd's line number (1-based)
	Input   []string // the lines between the command and "----"
	Out     []string // the expected output's lines
	OutFrom int      // index (0-based) of the "----" line: the output is lines[OutFrom+1:OutTo]
	OutTo   int      // index of the first line after the output (and its closing "----" "----")
}

// Want is the expected output with every line ending in "\n" (the package tests' form).
func (b Block) Want() string {
	if len(b.Out) == 0 {
		return ""
	}
	return strings.Join(b.Out, "\n") + "\n"
}

// SyntaxKind says what a SyntaxError found.
type SyntaxKind int

const (
	// SepWithoutCommand: a "----" line with no command line before it.
	SepWithoutCommand SyntaxKind = iota
	// BlankInInput: a blank line between a command and its "----".
	BlankInInput
	// NoSeparator: the file ends before the command's "----".
	NoSeparator
	// UnclosedOutput: an output opened by a doubled "----" is never closed by another.
	UnclosedOutput
	// InputNotAllowed: a command with input lines where the reader takes one-line commands.
	InputNotAllowed
)

// SyntaxError is a file that does not follow the grammar: Line is 1-based, Cmd and CmdLine name
// the command being read (if any). Readers with their own vocabulary (a scenario's "directive")
// word their messages from Kind; Error gives the generic one.
type SyntaxError struct {
	Kind    SyntaxKind
	Line    int
	Cmd     string
	CmdLine int
}

func (e *SyntaxError) Error() string {
	switch e.Kind {
	case SepWithoutCommand:
		return fmt.Sprintf("line %d: \"----\" without a command before it", e.Line)
	case BlankInInput:
		return fmt.Sprintf("line %d: command %q (line %d): expected its input lines to end with a line \"----\", found a blank line", e.Line, e.Cmd, e.CmdLine)
	case NoSeparator:
		return fmt.Sprintf("line %d: command %q (line %d): expected a line \"----\" before the end of the file", e.Line, e.Cmd, e.CmdLine)
	case UnclosedOutput:
		return fmt.Sprintf("line %d: command %q (line %d): expected the output opened by a doubled \"----\" to be closed by another doubled \"----\"", e.Line, e.Cmd, e.CmdLine)
	}
	return fmt.Sprintf("line %d: a command has one line; %q follows %q", e.Line, e.Cmd, e.Cmd)
}

// ParseLines reads the blocks of lines[start:] (line numbers count from lines[0]).
func ParseLines(lines []string, start int) ([]Block, error) {
	var blocks []Block
	var comment strings.Builder
	i := start
	for i < len(lines) {
		trimmed := strings.TrimSpace(lines[i])
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			comment.WriteString(lines[i] + "\n")
			i++
			continue
		}
		if trimmed == "----" {
			return nil, &SyntaxError{Kind: SepWithoutCommand, Line: i + 1}
		}
		b := Block{Comment: comment.String(), Cmd: lines[i], Line: i + 1}
		comment.Reset()
		cmd := strings.TrimSpace(lines[i])
		for i++; i < len(lines) && lines[i] != "----"; i++ {
			if strings.TrimSpace(lines[i]) == "" {
				return nil, &SyntaxError{Kind: BlankInInput, Line: i + 1, Cmd: cmd, CmdLine: b.Line}
			}
			b.Input = append(b.Input, lines[i])
		}
		if i >= len(lines) {
			return nil, &SyntaxError{Kind: NoSeparator, Line: i, Cmd: cmd, CmdLine: b.Line}
		}
		b.OutFrom = i
		i++ // past ----
		if i < len(lines) && lines[i] == "----" {
			// Doubled separator: the output runs until "----" "----".
			closed := false
			for i++; i < len(lines); i++ {
				if lines[i] == "----" && i+1 < len(lines) && lines[i+1] == "----" {
					i += 2
					closed = true
					break
				}
				b.Out = append(b.Out, lines[i])
			}
			if !closed {
				return nil, &SyntaxError{Kind: UnclosedOutput, Line: b.OutFrom + 1, Cmd: cmd, CmdLine: b.Line}
			}
		} else {
			for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				b.Out = append(b.Out, lines[i])
			}
		}
		b.OutTo = i
		if !doubledAt(lines, b.OutFrom) && i < len(lines) {
			i++ // the blank line that ends the output belongs to the block, not to the next comment
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// doubledAt reports whether the "----" at lines[i] opens a doubled separator.
func doubledAt(lines []string, i int) bool { return i+1 < len(lines) && lines[i+1] == "----" }

// Parse reads the blocks of a package transcript test, whose commands are one line each.
func Parse(data []byte) ([]Block, error) {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	if text == "" {
		return nil, nil
	}
	blocks, err := ParseLines(strings.Split(strings.TrimSuffix(text, "\n"), "\n"), 0)
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		if len(b.Input) > 0 {
			return nil, &SyntaxError{Kind: InputNotAllowed, Line: b.Line + 1, Cmd: b.Input[0]}
		}
	}
	return blocks, nil
}

// Run runs every command of file through run, in order, and reports each output that differs from
// the expected one; with rewrite it writes the outputs back into file instead.
func Run(t testing.TB, file string, rewrite bool, run func(cmd string) string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out strings.Builder
	for _, b := range blocks {
		got, want := run(b.Cmd), b.Want()
		if rewrite {
			want = got
		} else if got != want {
			t.Errorf("%s: %s\ngot:\n%swant:\n%s", file, b.Cmd, got, want)
		}
		out.WriteString(b.Comment + b.Cmd + "\n----\n" + want + "\n")
	}
	if rewrite {
		if err := os.WriteFile(file, []byte(strings.TrimSuffix(out.String(), "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// RunFiles runs every file matching pattern as a subtest named after the file, each with a fresh
// interpreter from start; a pattern that matches nothing fails (a moved testdata directory must not
// turn the test into a no-op).
func RunFiles(t *testing.T, pattern string, rewrite bool, start func(t *testing.T) func(cmd string) string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts match %s (%v)", pattern, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { Run(t, file, rewrite, start(t)) })
	}
}

// Normalise is an output as transcripts compare it: trailing spaces of each line and blank lines
// at both ends removed, line endings "\n".
func Normalise(s string) string {
	ls := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range ls {
		ls[i] = strings.TrimRight(l, " \t")
	}
	for len(ls) > 0 && ls[0] == "" {
		ls = ls[1:]
	}
	for len(ls) > 0 && ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	return strings.Join(ls, "\n")
}

// FormatOutput is the "----" line and the normalised output under it, as a transcript file holds
// them: an output with a blank line or a "----" line of its own is fenced by doubled separators.
func FormatOutput(out string) string {
	out = Normalise(out)
	if out == "" {
		return "----\n"
	}
	for _, l := range strings.Split(out, "\n") {
		if l == "" || l == "----" {
			return "----\n----\n" + out + "\n----\n----\n"
		}
	}
	return "----\n" + out + "\n"
}
