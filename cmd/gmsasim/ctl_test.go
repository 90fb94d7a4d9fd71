package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gmsasim/gmsasim/control"
)

const ctlTestToken = "ctl-test-token-0123456789abcdef"

// ctlBackend is a control.Backend for the CLI tests: "fail" fails, "bad" does not parse, any other
// directive echoes itself and its input.
type ctlBackend struct {
	mu       sync.Mutex
	texts    []string
	restored []byte
}

func (b *ctlBackend) Steps(_ context.Context, text string) (control.StepsResult, error) {
	b.mu.Lock()
	b.texts = append(b.texts, text)
	b.mu.Unlock()
	var res control.StepsResult
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		switch {
		case l == "bad":
			return control.StepsResult{}, &control.SyntaxError{Line: i + 1, Msg: `unknown directive "bad"`}
		case l == "fail":
			res.Failure = &control.StepFailure{Line: i + 1, Step: l, Message: "DC9: no such DC"}
			return res, nil
		case strings.HasPrefix(l, "advance ") || strings.HasPrefix(l, "ps "):
			out := "did " + l
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "Get-") {
				out += "\n" + lines[i+1]
			}
			res.Steps = append(res.Steps, control.StepOutput{Line: i + 1, Step: l, Output: out, Match: true})
		}
	}
	return res, nil
}

func (b *ctlBackend) State(context.Context) (control.State, error) {
	return control.State{Domain: "contoso.com", Seed: 1<<63 - 1, DCs: []control.DCState{{Name: "DC1", PDC: true}}, Pending: 2}, nil
}

func (b *ctlBackend) Snapshot(context.Context) ([]byte, error) { return []byte(`{"snap":true}`), nil }

func (b *ctlBackend) Restore(_ context.Context, s []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.restored = s
	return nil
}

func (b *ctlBackend) LDIF(_ context.Context, dc string, w io.Writer) error {
	if dc == "" {
		dc = "DC1"
	}
	if dc != "DC1" && dc != "DC2" {
		return &control.Error{Status: http.StatusNotFound, Message: "no DC " + dc}
	}
	_, err := io.WriteString(w, "dn: DC=contoso,DC=com\nserver: "+dc+"\n")
	return err
}

// ctlFixture is a control server over ctlBackend and a state directory that points at it.
type ctlFixture struct {
	backend *ctlBackend
	trace   *control.TraceHub
	url     string
	dir     string
}

func newCtlFixture(t *testing.T) *ctlFixture {
	t.Helper()
	f := &ctlFixture{backend: &ctlBackend{}, trace: control.NewTraceHub(0), dir: t.TempDir()}
	s, err := control.NewServer(control.Config{Backend: f.backend, Token: ctlTestToken, Trace: f.trace})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.Close(); ts.Close() })
	f.url = ts.URL
	ep := `{"ldap":"127.0.0.1:3389","control":"` + ts.URL + `"}`
	if err := os.WriteFile(filepath.Join(f.dir, "endpoints.json"), []byte(ep), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "control.token"), []byte(ctlTestToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// ctl runs `gmsasim ctl --state-dir DIR args...`.
func (f *ctlFixture) ctl(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(append([]string{"ctl", "--state-dir", f.dir}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCtlCLIUsageErrors(t *testing.T) {
	f := newCtlFixture(t)
	for _, args := range [][]string{
		{}, {"frob"}, {"advance"}, {"advance", "1h", "2h"}, {"state", "x"}, {"step"}, {"steps"},
		{"trace", "--from", "-1"}, {"trace", "--nope"}, {"snapshot"}, {"ldif", "DC1"},
	} {
		if code, _, stderr := f.ctl(args...); code != 2 || stderr == "" {
			t.Errorf("ctl %q: exit %d, stderr %q; want 2 and a message", args, code, stderr)
		}
	}
	if len(f.backend.texts) != 0 {
		t.Errorf("a usage error reached the server: %q", f.backend.texts)
	}
	var out, errb bytes.Buffer
	if run([]string{"help"}, &out, &errb); !strings.Contains(out.String(), "gmsasim ctl [--state-dir DIR]") {
		t.Errorf("gmsasim help does not list ctl")
	}
}

func TestCtlCLISteps(t *testing.T) {
	f := newCtlFixture(t)
	file := filepath.Join(t.TempDir(), "steps.scn")
	text := "advance 29d23h56m\n\nps on=DC1\nGet-ADServiceAccount ITFarm1\n----\nold output\n"
	os.WriteFile(file, []byte(text), 0o644)
	code, stdout, stderr := f.ctl("steps", file)
	want := "advance 29d23h56m\n----\ndid advance 29d23h56m\n\n" +
		"ps on=DC1\nGet-ADServiceAccount ITFarm1\n----\ndid ps on=DC1\nGet-ADServiceAccount ITFarm1\n\n"
	if code != 0 || stdout != want || stderr != "" {
		t.Errorf("steps: exit %d\nstdout %q\nwant   %q\nstderr %q", code, stdout, want, stderr)
	}
	if f.backend.texts[0] != text {
		t.Errorf("the server got %q, want the file's text", f.backend.texts[0])
	}

	os.WriteFile(file, []byte("advance 1h\n\nfail\n"), 0o644)
	code, stdout, stderr = f.ctl("steps", file)
	if code != 1 || stdout != "advance 1h\n----\ndid advance 1h\n\nfail\n----\n# error: DC9: no such DC\n\n" ||
		stderr != "gmsasim ctl steps: "+file+":3: fail: DC9: no such DC\n" {
		t.Errorf("failing steps: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}

	ctlStdin = strings.NewReader("bad\n")
	defer func() { ctlStdin = os.Stdin }()
	code, stdout, stderr = f.ctl("steps", "-")
	if code != 1 || stdout != "" || stderr != "gmsasim ctl steps: -:1: unknown directive \"bad\"\n" {
		t.Errorf("steps from stdin that do not parse: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := f.ctl("steps", filepath.Join(t.TempDir(), "none.scn")); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("steps of a missing file: exit %d, %q", code, stderr)
	}
}

func TestCtlCLIStepAndAdvance(t *testing.T) {
	f := newCtlFixture(t)
	code, stdout, stderr := f.ctl("step", "ps on=DC1", "Get-ADServiceAccount ITFarm1")
	if code != 0 || stdout != "did ps on=DC1\nGet-ADServiceAccount ITFarm1\n" || stderr != "" {
		t.Errorf("step: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = f.ctl("advance", "30d")
	if code != 0 || stdout != "did advance 30d\n" {
		t.Errorf("advance: exit %d stdout %q", code, stdout)
	}
	if got := f.backend.texts; len(got) != 2 || got[0] != "ps on=DC1\nGet-ADServiceAccount ITFarm1\n" || got[1] != "advance 30d\n" {
		t.Errorf("the server got %q", got)
	}
	code, stdout, stderr = f.ctl("step", "fail")
	if code != 1 || stdout != "" || stderr != "gmsasim ctl: fail: DC9: no such DC\n" {
		t.Errorf("failing step: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestCtlCLIStateTraceLDIF(t *testing.T) {
	f := newCtlFixture(t)
	code, stdout, _ := f.ctl("state")
	var st control.State
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || code != 0 {
		t.Fatalf("state: exit %d, %v: %s", code, err, stdout)
	}
	if st.Seed != 1<<63-1 || st.Domain != "contoso.com" || len(st.DCs) != 1 || !st.DCs[0].PDC || st.Pending != 2 {
		t.Errorf("state: %+v", st)
	}
	if !strings.Contains(stdout, "\n  \"domain\": \"contoso.com\",\n") {
		t.Errorf("state is not indented:\n%s", stdout)
	}

	f.trace.Write([]byte("+0s DC1 started\n+1h00m00s DC2 replicated 1 change from DC1\n"))
	if code, stdout, _ := f.ctl("trace"); code != 0 || stdout != "+0s DC1 started\n+1h00m00s DC2 replicated 1 change from DC1\n" {
		t.Errorf("trace: exit %d %q", code, stdout)
	}
	if code, stdout, _ := f.ctl("trace", "--from", "1"); code != 0 || stdout != "+1h00m00s DC2 replicated 1 change from DC1\n" {
		t.Errorf("trace --from 1: exit %d %q", code, stdout)
	}

	if code, stdout, _ := f.ctl("ldif", "--dc", "DC2"); code != 0 || stdout != "dn: DC=contoso,DC=com\nserver: DC2\n" {
		t.Errorf("ldif --dc DC2: exit %d %q", code, stdout)
	}
	if code, stdout, _ := f.ctl("ldif"); code != 0 || !strings.Contains(stdout, "server: DC1") {
		t.Errorf("ldif: exit %d %q", code, stdout)
	}
	if code, _, stderr := f.ctl("ldif", "--dc", "DC9"); code != 1 || !strings.Contains(stderr, "404 Not Found: no DC DC9") {
		t.Errorf("ldif --dc DC9: exit %d %q", code, stderr)
	}
}

func TestCtlCLISnapshotRestore(t *testing.T) {
	f := newCtlFixture(t)
	file := filepath.Join(t.TempDir(), "world.json")
	code, stdout, _ := f.ctl("snapshot", file)
	b, err := os.ReadFile(file)
	if code != 0 || err != nil || string(b) != `{"snap":true}` || stdout != "wrote "+file+" (13 bytes)\n" {
		t.Fatalf("snapshot: exit %d %q, file %q %v", code, stdout, b, err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode %v, want 0600", fi.Mode().Perm())
	}
	if code, _, _ := f.ctl("restore", file); code != 0 || string(f.backend.restored) != `{"snap":true}` {
		t.Errorf("restore: exit %d, restored %q", code, f.backend.restored)
	}
}

func TestCtlCLIConnection(t *testing.T) {
	f := newCtlFixture(t)
	// --url and --token-file instead of a state directory.
	tok := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(tok, []byte(ctlTestToken), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"ctl", "--state-dir", t.TempDir(), "--url", f.url, "--token-file", tok, "advance", "1h"}, &out, &errb); code != 0 || out.String() != "did advance 1h\n" {
		t.Errorf("--url --token-file: exit %d %q %q", code, out.String(), errb.String())
	}
	os.WriteFile(tok, []byte("wrong-token-wrong-token"), 0o600)
	code, _, stderr := f.ctl("--token-file", tok, "state")
	if code != 1 || !strings.Contains(stderr, "401 Unauthorized: wrong bearer token") {
		t.Errorf("wrong token: exit %d %q", code, stderr)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"ctl", "--state-dir", filepath.Join(t.TempDir(), "none"), "state"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "is gmsasim serve running") {
		t.Errorf("no state dir: exit %d %q", code, errb.String())
	}
	if code, _, stderr := f.ctl("--url", "127.0.0.1:1", "state"); code != 1 || !strings.Contains(stderr, "want http://HOST:PORT") {
		t.Errorf("--url without scheme: exit %d %q", code, stderr)
	}
}
