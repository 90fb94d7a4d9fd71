package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
)

// The property the control API promises: steps sent to a kept world print exactly what the same
// steps print in the .scn file. For every library file (pending ones aside), a session is opened
// on its world block alone, the rest of the file is sent as step text, and every step must match
// its expected output.
func TestSessionStepsMatchTheFile(t *testing.T) {
	files, _ := filepath.Glob("library/*.scn")
	mim, _ := filepath.Glob("mim/*.scn")
	files = append(files, mim...)
	if len(files) < 60 {
		t.Fatalf("found %d scenario files, want the library's 65", len(files))
	}
	keys := fakekds.NewKeyMemo()
	for i, path := range files {
		if i%8 != 0 && os.Getenv("GMSASIM_TEST_LONG") == "" {
			continue // make test samples every eighth file (RunOn's and cmd/gmsasim's HTTP test others); make test-long runs them all
		}
		sc, err := ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Pending() || sc.Worlds != nil {
			continue // a session runs on one world; a worlds table is many
		}
		worldOnly := *sc
		worldOnly.Steps = sc.Steps[:1]
		s, err := Open(&worldOnly, Options{Keys: keys})
		if err != nil {
			t.Errorf("%s: open its world: %v", path, err)
			continue
		}
		rest := strings.Join(sc.lines[sc.Steps[0].outTo:], "\n")
		res, err := s.Steps(path, rest)
		s.Close()
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if len(res) != len(sc.Steps)-1 {
			t.Errorf("%s: ran %d steps, the file has %d", path, len(res), len(sc.Steps)-1)
		}
		for i, sr := range res {
			want := sc.Steps[i+1]
			if !sr.HasExpected || !sr.Match || sr.Step != want.String() {
				t.Errorf("%s: step %q (line %d of the rest): output\n%s\nwant (line %d)\n%s", path, sr.Step, sr.Line, sr.Output, want.Line, want.Expected)
				break
			}
		}
	}
}

// Step text without "----" runs without an expectation; FormatSteps prints it back as a .scn
// would; a syntax error names the line of the text given; a failing step stops the run with the
// steps before it applied.
func TestSessionStepsText(t *testing.T) {
	sc, err := Parse("w.scn", "# w\nworld seed=3\ndomain contoso.com schema=88\ndc DC1 os=2016\ndc DC2 os=2016\nlink DC1 DC2 delay=20m\n----\n"+
		"domain contoso.com (CONTOSO) schema=88 sid=S-1-5-21-1007821884-378996015-3508237664\ndc DC1 os=2016\ndc DC2 os=2016\nlink DC1-DC2 delay=20m\n")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Steps("api", "ps on=DC1\nNew-ADGroup G1 Global\n\n# a comment\n\nadvance 30m\n\nps on=DC2\n(Get-ADGroup G1).Name\n----\nG1\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].HasExpected || res[1].Line != 6 || res[1].Output != "+20m00s DC2 replicated 1 change from DC1" ||
		!res[2].HasExpected || !res[2].Match || res[2].Line != 8 {
		t.Fatalf("results: %+v", res)
	}
	want := "ps on=DC1\nNew-ADGroup G1 Global\n----\n\nadvance 30m\n----\n+20m00s DC2 replicated 1 change from DC1\n\nps on=DC2\n(Get-ADGroup G1).Name\n----\nG1\n"
	if got := FormatSteps(res); got != want {
		t.Errorf("FormatSteps:\n%s\nwant:\n%s", got, want)
	}
	_, err = s.Steps("api", "advance 1m\n\nfrobnicate DC1\n")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || !strings.Contains(pe.Msg, `unknown directive "frobnicate"`) {
		t.Errorf("unknown directive: %v, want a ParseError at line 3", err)
	}
	_, err = s.Steps("api", "world seed=1\n")
	if !errors.As(err, &pe) || pe.Line != 1 {
		t.Errorf("a world block: %v, want a ParseError at line 1", err)
	}
	res, err = s.Steps("api", "advance 1m\n\nstop DC9\n\nadvance 1m\n")
	var f *Failure
	if !errors.As(err, &f) || f.Line != 3 || len(res) != 1 {
		t.Errorf("a failing step: %+v %v, want a Failure at line 3 after one step", res, err)
	}
	if e := s.World().Elapsed(); e.Minutes() != 31 {
		t.Errorf("elapsed %v, want 31m: the step before the failure applied, none after", e)
	}
}

// A world built in Go takes PowerShell lines and directives through Attach, with the output a
// .scn file shows, and the trace lines a directive prints come from the attached world.
func TestAttachRunsStepsOnAGoWorld(t *testing.T) {
	w, _, err := sim.NewDefaultDomain(sim.Config{Seed: 9, DCs: []sim.DCSpec{{Name: "DC1", OS: "2016"}, {Name: "DC2", OS: "2016"}}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Attach(w, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Steps("go", "ps on=DC1\nNew-ADGroup G2 Global\n(Get-ADServiceAccount ITFarm1).Name\n\nadvance 2h\n\nps on=DC2\n(Get-ADGroup G2).Name\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].Output != "ITFarm1" || !strings.Contains(res[1].Output, "DC2 replicated") || res[2].Output != "G2" {
		t.Fatalf("results: %+v", res)
	}
	s.Close()
	if _, err := s.Steps("go", "advance 1m\n"); err == nil {
		t.Errorf("steps on a closed session: no error")
	}
}

// RunOn, the Go user's door (issue 16): for every library file, the world its world block builds
// is handed to RunOn as a Go test holds it (the world and its hosts, no scenario state), with the
// rest of the file as step text; every step prints what the file says.
func TestRunOnMatchesTheFile(t *testing.T) {
	files, _ := filepath.Glob("library/*.scn")
	mim, _ := filepath.Glob("mim/*.scn")
	files = append(files, mim...)
	keys := fakekds.NewKeyMemo()
	for i, path := range files {
		if i%8 != 4 && os.Getenv("GMSASIM_TEST_LONG") == "" {
			continue // make test samples an eighth (other files than TestSessionStepsMatchTheFile)
		}
		sc, err := ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Pending() || sc.Worlds != nil || sc.HasLabel("long") && os.Getenv("GMSASIM_TEST_LONG") == "" {
			continue // RunOn runs steps on one world; a worlds table is many
		}
		worldOnly := *sc
		worldOnly.Steps = sc.Steps[:1]
		built, err := Open(&worldOnly, Options{Keys: keys})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		res, err := RunOn(built.World(), built.Hosts(), strings.Join(sc.lines[sc.Steps[0].outTo:], "\n"))
		built.Close()
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		for i, sr := range res {
			if !sr.Match {
				t.Errorf("%s: step %q: output\n%s\nwant (line %d)\n%s", path, sr.Step, sr.Output, sc.Steps[i+1].Line, sr.Expected)
				break
			}
		}
	}
}

// ParseSteps reads steps as a .scn file's rest reads them: comment lines opening a paragraph
// belong to no step (the step after them is still one), a comment paragraph is no step, output
// blocks may hold "----" inside a doubled separator, and a paragraph without "----" is a step
// with no expectation.
func TestParseStepsComments(t *testing.T) {
	text := "# a comment paragraph\n# on two lines\n\n# leading comment\nadvance 1h\n----\n\n" +
		"# another\nps on=DC1\nAdd-KdsRootKey -EffectiveImmediately\n----\n----\nGuid\n----\nx\n----\n----\n\ncheck converged\n"
	steps, expect, err := ParseSteps("t.scn", text)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range steps {
		got = append(got, fmt.Sprintf("%s@%d", s.Cmd, s.Line))
	}
	if want := "advance@5 ps@9 check@19"; strings.Join(got, " ") != want {
		t.Fatalf("steps %q, want %q", strings.Join(got, " "), want)
	}
	if fmt.Sprint(expect) != "[true true false]" {
		t.Errorf("expectations %v, want [true true false]", expect)
	}
	if steps[1].Expected != "Guid\n----\nx" {
		t.Errorf("ps output %q", steps[1].Expected)
	}
	if _, _, err := ParseSteps("t.scn", "# c\nworld seed=1\n----\n"); err == nil || !strings.Contains(err.Error(), "t.scn:2") {
		t.Errorf("a world block after a comment: %v, want an error at t.scn:2", err)
	}
}
