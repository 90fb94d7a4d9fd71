package control

import (
	"github.com/gmsasim/gmsasim/internal/transcript"
	"strings"
)

// FormatSCN prints a step run as a .scn transcript, the form POST /steps?format=scn answers and
// `gmsasim ctl steps` prints: for every step, its directive line, its input lines (taken from text,
// the request), "----", the output the step gave, and a blank line. An output holding blank lines
// or "----" lines is fenced by doubled "----" lines, as the scenario files write it. On a failure
// the failing step's block ends with "# error: MESSAGE" (a block of its own when the step gave no
// output). Pasted into a scenario file, the transcript records what the served world did.
func FormatSCN(text string, res StepsResult) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var b strings.Builder
	failureShown := false
	for _, st := range res.Steps {
		writeHead(&b, lines, st.Line, st.Step)
		b.WriteString(formatOutput(st.Output))
		if f := res.Failure; f != nil && f.Line == st.Line {
			b.WriteString(errorComment(f.Message))
			failureShown = true
		}
		b.WriteString("\n")
	}
	if f := res.Failure; f != nil && !failureShown {
		writeHead(&b, lines, f.Line, f.Step)
		b.WriteString("----\n")
		b.WriteString(errorComment(f.Message))
		b.WriteString("\n")
	}
	return b.String()
}

// writeHead writes a step's directive and its input lines: those that follow the directive (line,
// 1-based) in the request text up to its "----" or the blank line that ends the step. If the text
// does not hold the directive at that line (a backend that numbers differently), only the
// directive is written.
func writeHead(b *strings.Builder, lines []string, line int, step string) {
	b.WriteString(step + "\n")
	if line < 1 || line > len(lines) || strings.TrimSpace(lines[line-1]) != strings.TrimSpace(step) {
		return
	}
	for _, l := range lines[line:] {
		if strings.TrimSpace(l) == "" || l == "----" {
			break
		}
		b.WriteString(l + "\n")
	}
}

// formatOutput is the "----" line and the output block, with trailing blanks trimmed as the
// scenario runner compares them (the one transcript grammar's form).
func formatOutput(out string) string { return transcript.FormatOutput(out) }

// errorComment is "# error: MESSAGE", each further line of the message commented too.
func errorComment(msg string) string {
	msg = strings.TrimRight(msg, "\n")
	return "# error: " + strings.ReplaceAll(msg, "\n", "\n# ") + "\n"
}
