package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// langWorld is the world block the directive tests put before each example.
const langWorld = "# t\nworld\ndomain contoso.com\ndc DC1\n----\n\n"

// langFile is a scenario holding one directive line (with its input after "\n"): the world block
// first unless the line is a world block itself. It returns the text and the line's number.
func langFile(example string) (string, int) {
	ex := example
	if strings.HasPrefix(ex, "worlds") {
		return "# t\n" + ex + "\n----\n\nworld\ndomain contoso.com\ndc DC1\n----\n", 2
	}
	if strings.HasPrefix(ex, "world") {
		return "# t\n" + ex + "\n----\n", 2
	}
	return langWorld + ex + "\n----\n", strings.Count(langWorld, "\n") + 1
}

// Every argument of every directive, as the directive table declares them, is refused at parse
// time when misspelt, with file:line and the list of the arguments the directive takes; so is an
// unknown key and an unknown bare word. The examples must use every declared argument, so a new
// directive or argument is covered as soon as it is in the table.
func TestDirectiveArgsMisspelt(t *testing.T) {
	table := directiveTable()
	for _, name := range slices.Sorted(maps.Keys(table)) {
		d := table[name]
		if len(d.examples) == 0 {
			t.Errorf("directive %s has no examples", name)
			continue
		}
		used := map[string]bool{}
		for _, ex := range d.examples {
			text, line := langFile(ex)
			sc, err := Parse("lang.scn", text)
			if err != nil {
				t.Errorf("%s: example %q does not parse: %v", name, ex, err)
				continue
			}
			st := sc.Steps[len(sc.Steps)-1]
			if name == "world" {
				st = sc.Steps[0]
			}
			first, _, _ := strings.Cut(ex, "\n")
			words := strings.Fields(first)
			for i, w := range words[1:] {
				k, _, hasVal := strings.Cut(w, "=")
				if !hasVal && !slices.Contains(d.args.flags, k) && !slices.ContainsFunc(slices.Collect(maps.Values(d.verbs)), func(s argSpec) bool { return slices.Contains(s.flags, k) }) {
					continue // a positional word (a DC name, a verb)
				}
				used[k] = true
				bad := slices.Clone(words)
				bad[i+1] = strings.Replace(w, k, k+"x", 1)
				mis := strings.Replace(ex, first, strings.Join(bad, " "), 1)
				txt, _ := langFile(mis)
				_, err := Parse("lang.scn", txt)
				wantRefused(t, err, line, fmt.Sprintf("%s: misspelt %q", name, k), k)
			}
			_ = st
			for _, extra := range []string{"bogus=1", "bogusword"} {
				if name == "world" || name == "advance" && extra == "bogusword" || name == "stop" || name == "start" || name == "reboot" || name == "crash-at" {
					// world: parseWorld refuses it; a bare word is these directives' positional argument.
					if extra == "bogusword" {
						continue
					}
				}
				mis := strings.Replace(ex, first, first+" "+extra, 1)
				txt, _ := langFile(mis)
				_, err := Parse("lang.scn", txt)
				wantRefused(t, err, line, fmt.Sprintf("%s: %q added to %q", name, extra, first), "")
			}
		}
		specs := []argSpec{d.args}
		for _, v := range d.verbs {
			specs = append(specs, v)
		}
		for _, s := range specs {
			for _, k := range append(slices.Clone(s.keys), s.flags...) {
				if !used[k] && name != "worlds" {
					t.Errorf("directive %s: no example uses its argument %s", name, k)
				}
			}
		}
	}
}

func wantRefused(t *testing.T, err error, line int, what, list string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Errorf("%s: accepted (err %v)", what, err)
		return
	}
	if pe.Line != line || !strings.HasPrefix(pe.Error(), fmt.Sprintf("%s:%d: ", pe.Path, line)) {
		t.Errorf("%s: refused at line %d, want %d: %v", what, pe.Line, line, err)
	}
	if list != "" && !strings.Contains(pe.Msg, list) {
		t.Errorf("%s: the message does not list the accepted %s: %v", what, list, err)
	}
}

// Every world line's arguments are refused when misspelt, with the line of the world block.
func TestWorldLineArgsMisspelt(t *testing.T) {
	examples := map[string]string{
		"domain": "domain contoso.com schema=88 netbios=CONTOSO", "dc": "dc DC2 os=2016 link=DC1:1h",
		"link": "link DC1 DC2 delay=1h", "group": "group G scope=Global member-of=H",
		"user": "user alice member-of=G", "computer": "computer C1 member-of=G",
		"host": "host Host1 os=2019 arch=x64 dc=DC1 kdssvc=trigger enctypes=AES256 member-of=G cluster",
	}
	for kind, spec := range worldLineArgs() {
		ex := examples[kind]
		if ex == "" {
			t.Errorf("world line %s has no example", kind)
			continue
		}
		for _, k := range append(slices.Clone(spec.keys), spec.flags...) {
			if !strings.Contains(ex, " "+k) {
				t.Errorf("world line %s: the example does not use %s", kind, k)
				continue
			}
			mis := strings.Replace(ex, " "+k, " "+k+"x", 1)
			text := "# t\nworld\ndomain contoso.com\ndc DC1\ngroup H\n" + mis + "\n----\n"
			_, err := Parse("lang.scn", text)
			wantRefused(t, err, 2, fmt.Sprintf("world line %q", mis), k)
		}
	}
}

// crash-at with a step id the plan does not have fails the run at the apply, naming the plan's
// steps, instead of letting the apply run to the end unannounced.
func TestCrashAtUnknownStep(t *testing.T) {
	b, err := os.ReadFile("mim/crash-at-sync-change-mode.scn")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "change-mode:sync@mimsync.contoso.com", "change-mode:snyc@mimsync.contoso.com")
	sc, err := Parse("crash.scn", text)
	if err != nil {
		t.Fatal(err)
	}
	res := Run(sc, Options{})
	if res.Failure == nil || !strings.Contains(res.Failure.Msg, "crash-at change-mode:snyc@mimsync.contoso.com: the plan has no step change-mode:snyc@mimsync.contoso.com, so migrate apply ran without crashing; its steps are: ") {
		t.Fatalf("got %v", res.Failure)
	}
}

// An error assertion fails when the step succeeds or fails otherwise, says why, and a rewrite
// keeps a passing one as written; a pattern that is not a regular expression is refused at parse
// time on its line.
func TestErrorAssertion(t *testing.T) {
	world := recordedWorld(t)
	base := world + "ps on=DC1\nNew-ADServiceAccount ITFarm1 -DNSHostName ITFarm1.contoso.com\n----\n"
	for _, c := range []struct{ block, fail string }{
		{"error: /Key does not exist/", ""},
		{"error: /^New-ADServiceAccount : Key/", ""},
		{"error: /Access is denied/", "expected the step to fail with an error matching /Access is denied/; its errors:\n  New-ADServiceAccount : Key does not exist"},
	} {
		sc, err := Parse("e.scn", base+c.block+"\n")
		if err != nil {
			t.Fatal(err)
		}
		res := Run(sc, Options{})
		switch {
		case c.fail == "" && res.Failure != nil:
			t.Errorf("%s: %v", c.block, res.Failure)
		case c.fail != "" && (res.Failure == nil || res.Failure.Msg != c.fail):
			t.Errorf("%s: got %v, want %q", c.block, res.Failure, c.fail)
		}
		if rw := Run(sc, Options{Rewrite: true}); c.fail == "" && !strings.Contains(rw.Rewritten, "----\n"+c.block+"\n") {
			t.Errorf("rewrite dropped %s:\n%s", c.block, rw.Rewritten)
		}
	}
	ok := world + "advance 1h\n----\nerror: /anything/\n"
	sc, _ := Parse("e.scn", ok)
	if res := Run(sc, Options{}); res.Failure == nil || !strings.HasPrefix(res.Failure.Msg, "expected the step to fail with an error matching /anything/; it succeeded") {
		t.Errorf("a step that succeeds passed an error assertion: %v", res.Failure)
	}
	bad := langWorld + "advance 1h\n----\nerror: /(/\n"
	_, err := Parse("e.scn", bad)
	wantRefused(t, err, strings.Count(langWorld, "\n")+3, "error: /(/", "not a regular expression")
}

// recordedWorld is langWorld with its output recorded, for tests that run steps after it.
func recordedWorld(t *testing.T) string {
	t.Helper()
	sc, err := Parse("w.scn", langWorld+"settle\n----\n")
	if err != nil {
		t.Fatal(err)
	}
	text := Run(sc, Options{Rewrite: true}).Rewritten
	i := strings.Index(text, "settle\n")
	if i < 0 {
		t.Fatalf("no settle step in %s", text)
	}
	return text[:i]
}

// A worlds file runs once per row, each result named file[row]; a failure names its world; the
// JUnit report has a testcase per world; a rewrite from empty blocks gives the library file back.
func TestWorlds(t *testing.T) {
	const path = "library/lang-worlds-schema.scn"
	sc, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res := RunWorlds(sc, Options{})
	var names []string
	for _, r := range res {
		names = append(names, r.Name())
		if r.Failure != nil {
			t.Errorf("%s: %v", r.Name(), r.Failure)
		}
	}
	if want := path + "[schema=47 os=2008R2] " + path + "[schema=52 os=2012] " + path + "[schema=88 os=2016]"; strings.Join(names, " ") != want {
		t.Errorf("results %q, want %q", names, want)
	}
	var buf strings.Builder
	if err := WriteJUnit(&buf, res, 0); err != nil || strings.Count(buf.String(), "<testcase ") != 3 || !strings.Contains(buf.String(), `name="`+path+`[schema=52 os=2012]"`) {
		t.Errorf("JUnit: %v\n%s", err, buf.String())
	}
	b, _ := os.ReadFile(path)
	// Only schema 47 fails the second step: expecting its output for every world fails 52 and 88.
	broken := strings.Replace(string(b), "ps on=DC1\n(Get-ADServiceAccount -Filter *).Name\n----\nITFarm1\n----[schema=47 os=2008R2]\n", "ps on=DC1\n(Get-ADServiceAccount -Filter *).Name\n----\n", 1)
	sc2, err := Parse(path, broken)
	if err != nil {
		t.Fatal(err)
	}
	r := Run(sc2, Options{})
	if r.Failure == nil || r.World != "schema=52 os=2012" || !strings.Contains(r.Failure.Location(), "world=[schema=52 os=2012]") {
		t.Errorf("want schema=52 to fail first, got %s: %v", r.World, r.Failure)
	}
	// Rewrite from scratch: every expected block emptied.
	var empty []string
	skip := false
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case l == "----":
			empty, skip = append(empty, l), true
		case l == "":
			empty, skip = append(empty, l), false
		case !skip:
			empty = append(empty, l)
		}
	}
	sc3, err := Parse(path, strings.Join(empty, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := Run(sc3, Options{Rewrite: true}).Rewritten; got != string(b) {
		t.Errorf("rewrite from empty blocks differs from the file:\n%s", lineDiff(string(b), got))
	}
}

func TestWorldsParseErrors(t *testing.T) {
	head := "# t\nworlds\nschema=47\nschema=88\n----\n\nworld\ndomain contoso.com schema=$schema\ndc DC1\n----\n"
	for _, c := range []struct {
		text string
		line int
		msg  string
	}{
		{head + "x\n----[schema=52]\ny\n", 12, "no such row; the rows are: schema=47; schema=88"},
		{head + "----[schema=47]\nx\n----[schema=47]\n", 13, "a second section for the same row"},
		{strings.Replace(head, "$schema", "$schemax", 1), 7, "$schemax: the worlds rows have no key schemax (they set schema)"},
		{strings.Replace(head, "schema=88\n", "os=2016\n", 1), 2, "every row sets the same keys"},
		{strings.Replace(head, "schema=88\n", "schema=47\n", 1), 2, "repeats"},
		{strings.Replace(head, "schema=88\n", "schema=abc\n", 1), 7, "world [schema=abc]: world line 1"},
		{langWorld + "advance 1h\n----\n----[schema=47]\n", 9, "the file has no worlds block"},
		{langWorld + "worlds\nschema=47\n----\n", 7, "expected the worlds block first"},
	} {
		_, err := Parse("w.scn", c.text)
		wantRefused(t, err, c.line, c.msg, c.msg)
	}
}
