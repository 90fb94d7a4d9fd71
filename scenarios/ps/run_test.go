package ps

import (
	"errors"
	"strings"
	"testing"
)

// fakeRun is a command runner: "Fail" fails terminating, "Soft" non-terminating, "Echo" prints
// its first argument.
func fakeRun(c *Command) ([]any, error) {
	switch c.Name {
	case "Fail":
		return nil, &CommandError{Cmd: "Fail", Err: Errorf("it failed")}
	case "Soft":
		return nil, &NonTerminating{Err: &CommandError{Cmd: "Soft", Err: Errorf("soft failure")}}
	case "Echo":
		if len(c.Elems) > 0 {
			if l, ok := c.Elems[0].Value.(Lit); ok {
				return []any{l.V}, nil
			}
		}
		return nil, nil
	}
	return nil, errors.New("unknown command " + c.Name)
}

func runScript(t *testing.T, s *Session, lines ...string) string {
	t.Helper()
	ls, err := SplitLines(lines)
	if err != nil {
		t.Fatalf("%v", err)
	}
	var out strings.Builder
	for _, l := range ls {
		if err := s.RunLine(l, fakeRun, &out); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

// try/catch/finally over lines, $?, $_ and -ErrorAction, as Windows PowerShell runs them.
func TestTryCatchErrorActionAndStatus(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"Fail", "$?", "Echo ok", "$?"}, "Fail : it failed\nFalse\nok\nTrue\n"},
		{[]string{"Fail -ErrorAction SilentlyContinue", "$?"}, "Fail : it failed\nFalse\n"}, // terminating: still printed
		{[]string{"Soft -ErrorAction SilentlyContinue", "$?"}, "False\n"},
		{[]string{"Soft -EA Ignore; Echo after"}, "after\n"},
		{[]string{"try { Fail; Echo no } catch { \"caught: $_\" }"}, "caught: it failed\n"},
		{[]string{"try {", "  Echo first", "  Fail", "  Echo no", "}", "catch {", "  $_.Exception.Message", "}", "finally { Echo fin }"},
			"first\nit failed\nfin\n"},
		{[]string{"try { Soft } catch { Echo no }"}, "Soft : soft failure\n"},
		{[]string{"try { Soft -ErrorAction Stop } catch { Echo caught }"}, "caught\n"},
		{[]string{"$ErrorActionPreference = 'Stop'", "try { Soft } catch { Echo caught }"}, "caught\n"},
		{[]string{"try { Fail } finally { Echo fin }", "Echo next"}, "fin\nFail : it failed\nnext\n"},
		{[]string{"$none = $null", "$none.Count", "(Echo x).Count", "'abc'.Length"}, "0\n1\n3\n"},
	} {
		if got := runScript(t, NewSession(), tc.lines...); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.lines, got, tc.want)
		}
	}
	if _, err := Parse("try { Echo x }"); err == nil || !strings.Contains(err.Error(), "missing its catch or finally") {
		t.Errorf("try without catch: %v", err)
	}
}
