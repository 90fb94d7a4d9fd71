package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const libDir = "../../scenarios/library"

// A directory of scenarios runs: a progress line per scenario, a summary, exit 0; same seed ⇒
// byte-identical --trace; --junit is JUnit with one testcase per scenario; --report writes the
// HTML page. Every fourth file of the library (the whole library runs as Ginkgo specs in harness
// and under make run; this test is about the command).
func TestRunLibrary(t *testing.T) {
	t.Parallel() // a long test with its own world and files: it overlaps the others
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib")
	all, _ := filepath.Glob(filepath.Join(libDir, "*.scn"))
	if err := os.Mkdir(lib, 0o755); err != nil || len(all) < 8 {
		t.Fatalf("library: %d files, %v", len(all), err)
	}
	for i, f := range all {
		if i%12 != 0 {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(lib, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{lib, "--junit", filepath.Join(dir, "j.xml"), "--report", filepath.Join(dir, "rep"), "--trace", filepath.Join(dir, "t1")}
	var out, errb bytes.Buffer
	if rc := runRun(args, &out, &errb); rc != 0 {
		t.Fatalf("rc=%d\n%s\n%s", rc, out.String(), errb.String())
	}
	files, _ := filepath.Glob(filepath.Join(lib, "*.scn"))
	for _, f := range files {
		if !strings.Contains(out.String(), f) {
			t.Errorf("no progress line for %s", f)
		}
	}
	if !strings.Contains(out.String(), "simulated-seconds per wall-second") {
		t.Errorf("no summary:\n%s", out.String())
	}
	var suite struct {
		Tests int `xml:"tests,attr"`
		Cases []struct {
			Name string `xml:"name,attr"`
		} `xml:"testcase"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "j.xml"))
	if err != nil || xml.Unmarshal(b, &suite) != nil {
		t.Fatalf("JUnit: %v", err)
	}
	if suite.Tests != len(files) || len(suite.Cases) != len(files) {
		t.Errorf("JUnit has %d testcases, want %d", len(suite.Cases), len(files))
	}
	if h, err := os.ReadFile(filepath.Join(dir, "rep", "index.html")); err != nil || !bytes.Contains(h, []byte("<svg")) {
		t.Errorf("report: %v", err)
	}
	args[len(args)-1] = filepath.Join(dir, "t2")
	if rc := runRun(args, &bytes.Buffer{}, &bytes.Buffer{}); rc != 0 {
		t.Fatal("second run failed")
	}
	t1, _ := os.ReadFile(filepath.Join(dir, "t1"))
	t2, _ := os.ReadFile(filepath.Join(dir, "t2"))
	if len(t1) == 0 || !bytes.Equal(t1, t2) {
		t.Errorf("traces differ between two runs of the same seeds (%d vs %d bytes)", len(t1), len(t2))
	}
}

// A broken expectation exits 1 and prints seed, file:line and the replay command; the replay
// (the printed command's arguments) fails the same way.
func TestRunFailureReplays(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(libDir, "gmsa-forgotten-dollar.scn"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(src), "SamAccountName    : Host1$", "SamAccountName    : Host1", 1)
	f := filepath.Join(t.TempDir(), "broken.txt") // any extension: a named file is a scenario
	if err := os.WriteFile(f, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if rc := runRun([]string{f}, &out, &bytes.Buffer{}); rc != 1 {
		t.Fatalf("rc=%d, want 1\n%s", rc, out.String())
	}
	first := out.String()
	for _, want := range []string{"seed=25 scenario=" + f + ":", "replay: gmsasim run " + f + " --seed 25", "-   SamAccountName    : Host1"} {
		if !strings.Contains(first, want) && !strings.Contains(first, strings.ReplaceAll(want, "-   ", " - ")) {
			t.Errorf("output lacks %q:\n%s", want, first)
		}
	}
	out.Reset()
	if rc := runRun([]string{f, "--seed", "25"}, &out, &bytes.Buffer{}); rc != 1 {
		t.Fatalf("replay rc=%d", rc)
	}
	strip := func(s string) string { return s[:strings.Index(s, "replay:")] }
	if strip(out.String()) != strip(first) {
		t.Errorf("replay differs:\n%s\nvs\n%s", out.String(), first)
	}
}

func TestRunUsageErrors(t *testing.T) {
	var errb bytes.Buffer
	if rc := runRun([]string{libDir, "--label-filter", "kds &&"}, &bytes.Buffer{}, &errb); rc != 2 || !strings.Contains(errb.String(), "label filter") {
		t.Errorf("rc=%d %s", rc, errb.String())
	}
	if rc := runRun([]string{"/nonexistent/dir"}, &bytes.Buffer{}, &bytes.Buffer{}); rc != 2 {
		t.Errorf("missing path: rc=%d", rc)
	}
	var out bytes.Buffer
	if rc := runRun([]string{libDir, "--label-filter", "kds && !pending"}, &out, &bytes.Buffer{}); rc != 0 || strings.Contains(out.String(), "gmsa-deploy") {
		t.Errorf("label filter ran the wrong files (rc=%d):\n%s", rc, out.String())
	}
}

// A selection of nothing — a label no file has, an empty directory, an empty shard — fails with
// exit 2 and the counts, so a mistyped filter cannot pass a CI gate; --allow-empty accepts it.
func TestRunEmptySelection(t *testing.T) {
	empty := t.TempDir()
	one, err := filepath.Glob(filepath.Join(libDir, "kds-key-does-not-exist.scn"))
	if err != nil || len(one) != 1 {
		t.Fatalf("library file: %v %v", one, err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{libDir, "--label-filter", "nosuchlabel"}, `filtered out by --label-filter "nosuchlabel"`},
		{[]string{empty}, "(0 scenario files)"},
		{[]string{one[0], "--shard", "2/2"}, "none in shard 2/2"},
	} {
		var out, errb bytes.Buffer
		if rc := runRun(c.args, &out, &errb); rc != 2 || !strings.Contains(errb.String(), "no scenario selected") || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: rc=%d, stderr %q, want 2 and %q", c.args, rc, errb.String(), c.want)
		}
		if rc := runRun(append(c.args, "--allow-empty"), &out, &errb); rc != 0 {
			t.Errorf("%v --allow-empty: rc=%d\n%s", c.args, rc, errb.String())
		}
	}
}

// A run with one malformed and one passing scenario exits 1, and its JUnit XML counts the
// malformed file as an <error> testcase (tests="2" errors="1"), never as nothing; the HTML report
// lists it as MALFORMED.
func TestRunMalformedInJUnitAndReport(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(libDir, "kds-key-does-not-exist.scn"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a-good.scn"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b-bad.scn"), []byte("world seed=1\n----\n\nadvance soon\n----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	failing := strings.Replace(string(good), "New-ADServiceAccount : Key does not exist", "New-ADServiceAccount : Key does exist", 1)
	if failing == string(good) {
		t.Fatal("the library file changed: pick another expected output to break")
	}
	if err := os.WriteFile(filepath.Join(dir, "c-fail.scn"), []byte(failing), 0o644); err != nil {
		t.Fatal(err)
	}
	junit, report := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "report")
	var out, errb bytes.Buffer
	if rc := runRun([]string{dir, "--junit", junit, "--report", report}, &out, &errb); rc != 1 {
		t.Fatalf("rc=%d, want 1\n%s%s", rc, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "3 scenarios: 1 passed, 1 failed, 0 skipped (pending), 1 malformed") {
		t.Errorf("summary:\n%s", out.String())
	}
	x, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	type detail struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	var suite struct {
		Tests    int `xml:"tests,attr"`
		Errors   int `xml:"errors,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name      string  `xml:"name,attr"`
			Classname string  `xml:"classname,attr"`
			Time      string  `xml:"time,attr"`
			File      string  `xml:"file,attr"`
			Line      int     `xml:"line,attr"`
			Error     *detail `xml:"error"`
			Failure   *detail `xml:"failure"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(x, &suite); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, x)
	}
	if suite.Tests != 3 || suite.Errors != 1 || suite.Failures != 1 || len(suite.Cases) != 3 || suite.Cases[1].Error == nil ||
		!strings.HasSuffix(suite.Cases[1].Name, "b-bad.scn") || !strings.Contains(suite.Cases[1].Error.Text, "b-bad.scn") {
		t.Fatalf("JUnit: tests=%d errors=%d failures=%d cases=%+v\n%s", suite.Tests, suite.Errors, suite.Failures, suite.Cases, x)
	}
	// The failure: message = location and reason, file and line of the step, the time it took,
	// the classname from the directory.
	f := suite.Cases[2]
	wantClass := strings.ReplaceAll(strings.Trim(filepath.ToSlash(dir), "/"), "/", ".")
	if f.Failure == nil || !strings.Contains(f.Failure.Message, "c-fail.scn:") || !strings.Contains(f.Failure.Message, "output differs") ||
		f.Line <= 0 || !strings.HasSuffix(f.File, "c-fail.scn") || f.Time == "" || f.Classname != wantClass {
		t.Errorf("failing testcase: %+v (want classname %q)", f, wantClass)
	}
	h, err := os.ReadFile(filepath.Join(report, "index.html"))
	if err != nil || !strings.Contains(string(h), "MALFORMED") {
		t.Errorf("report lacks the malformed file (%v)", err)
	}
}

// A file with a worlds block: a progress line per world, a JUnit testcase per world named
// file.scn[row], an HTML report section per world.
func TestRunWorldsJUnit(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(libDir, "lang-worlds-schema.scn")
	args := []string{f, "--junit", filepath.Join(dir, "j.xml"), "--report", filepath.Join(dir, "rep")}
	var out, errb bytes.Buffer
	if rc := runRun(args, &out, &errb); rc != 0 {
		t.Fatalf("rc=%d\n%s\n%s", rc, out.String(), errb.String())
	}
	j, _ := os.ReadFile(filepath.Join(dir, "j.xml"))
	rep, _ := os.ReadFile(filepath.Join(dir, "rep", "index.html"))
	for _, row := range []string{"schema=47 os=2008R2", "schema=52 os=2012", "schema=88 os=2016"} {
		name := f + "[" + row + "]"
		if !strings.Contains(out.String(), "ok   "+name+" (") {
			t.Errorf("no progress line for %s:\n%s", name, out.String())
		}
		if !strings.Contains(string(j), `name="`+name+`"`) {
			t.Errorf("no JUnit testcase %s", name)
		}
		if !strings.Contains(string(rep), "<h2 id=") || !strings.Contains(string(rep), ">"+name+"</h2>") {
			t.Errorf("no report section for %s", name)
		}
	}
}
