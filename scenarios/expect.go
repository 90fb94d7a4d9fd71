package scenarios

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/gmsasim/gmsasim/scenarios/ps"
)

// Error assertions: an expected block that is the one line "error: /PATTERN/" passes when the step
// fails with an error matching the regular expression PATTERN, where Windows' exact text is not
// known (or not the point). The step's errors are: the error a directive itself returns (which
// otherwise fails the scenario), the PowerShell error records a ps step prints ("Cmdlet :
// message"), and the lines of its output that begin "error: " (the probes' form). The slashes set
// the pattern apart from a probe's literal "error: ..." output, which is compared as text.

// errorAssertion matches an expected block that is an error assertion.
var errorAssertion = regexp.MustCompile(`^error: /(.*)/$`)

// errorPattern returns the regular expression of an error-assertion block; ok is false for any
// other block.
func errorPattern(expected string) (re *regexp.Regexp, ok bool, err error) {
	m := errorAssertion.FindStringSubmatch(expected)
	if m == nil {
		return nil, false, nil
	}
	re, err = regexp.Compile(m[1])
	if err != nil {
		return nil, true, fmt.Errorf("error: /%s/: not a regular expression: %v", m[1], err)
	}
	return re, true, nil
}

// outcome is what a step did: its output, and its errors (see above).
type outcome struct {
	out  string
	errs []string
}

// errorLines are the step's errors: those recorded while it ran, then its "error: " output lines.
func (o outcome) errorLines() []string {
	errs := append([]string(nil), o.errs...)
	for _, l := range strings.Split(o.out, "\n") {
		if strings.HasPrefix(l, "error: ") {
			errs = append(errs, strings.TrimPrefix(l, "error: "))
		}
	}
	return errs
}

// matches compares an outcome with an expected block: text equality, or for an error assertion
// an error matching its pattern. why says what differs when it does not match and the block is
// an error assertion ("" for a plain text mismatch, which a diff shows).
func (o outcome) matches(expected string) (ok bool, why string) {
	re, isAssert, err := errorPattern(expected)
	if !isAssert {
		return normaliseOutput(o.out) == expected, ""
	}
	if err != nil {
		return false, err.Error()
	}
	errs := o.errorLines()
	for _, e := range errs {
		if re.MatchString(e) {
			return true, ""
		}
	}
	if len(errs) == 0 {
		return false, fmt.Sprintf("expected the step to fail with an error matching /%s/; it succeeded, printing:\n%s", re, indentBlock(o.out))
	}
	return false, fmt.Sprintf("expected the step to fail with an error matching /%s/; its errors:\n%s", re, indentBlock(strings.Join(errs, "\n")))
}

func indentBlock(s string) string {
	s = normaliseOutput(s)
	if s == "" {
		return "  (nothing)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// recordErrors wraps a ps step's command runner: every error record a command makes is kept in
// errs, formatted as PowerShell prints it, for error assertions. A halt (a pending feature) is not
// an error record.
func recordErrors(run ps.RunFunc, errs *[]string) ps.RunFunc {
	return func(c *ps.Command) ([]any, error) {
		vals, err := run(c)
		var h *ps.Halt
		if err != nil && !errors.As(err, &h) {
			var b strings.Builder
			ps.WriteError(&b, c.Name, err)
			if e := strings.TrimSpace(b.String()); len(*errs) == 0 || (*errs)[len(*errs)-1] != e {
				*errs = append(*errs, e)
			}
		}
		return vals, err
	}
}
