package control

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCtlClientRoundTrips(t *testing.T) {
	h := NewTraceHub(0)
	s, fb := newTestServer(t, Config{Trace: h})
	ts := serve(t, s)
	c := NewClient(ts.URL+"/", testToken)
	ctx := t.Context()

	res, err := c.Steps(ctx, "advance 30d\n")
	if err != nil || len(res.Steps) != 1 || res.Steps[0].Output != "ran advance 30d" || res.Failure != nil {
		t.Errorf("Steps: %+v, %v", res, err)
	}

	res, err = c.Steps(ctx, "advance 1h\n\nfail\n")
	var fe *StepsFailedError
	var ce *Error
	if !errors.As(err, &fe) || fe.Failure != (StepFailure{Line: 3, Step: "fail", Message: "DC9: no such DC"}) {
		t.Errorf("Steps with a failure: error %v, want a *StepsFailedError", err)
	}
	if !errors.As(err, &ce) || ce.Status != 422 || len(res.Steps) != 1 || res.Failure == nil {
		t.Errorf("Steps with a failure: %+v, %v", res, err)
	}

	_, err = c.Steps(ctx, "bad\n")
	var se *SyntaxError
	if !errors.As(err, &se) || *se != (SyntaxError{Line: 1, Msg: `unknown directive "bad"`}) || !errors.As(err, &ce) || ce.Status != 400 {
		t.Errorf("Steps with a syntax error: %v, want a *SyntaxError on line 1 in a 400", err)
	}
	if err == nil || err.Error() != `control API: 400 Bad Request: line 1: unknown directive "bad"` {
		t.Errorf("syntax error text: %v", err)
	}

	scn, err := c.StepsSCN(ctx, "advance 1h\n")
	if err != nil || scn != "advance 1h\n----\nran advance 1h\n\n" {
		t.Errorf("StepsSCN: %q, %v", scn, err)
	}
	scn, err = c.StepsSCN(ctx, "fail\n")
	if !errors.As(err, &ce) || ce.Status != 422 || ce.Message != "DC9: no such DC" || !strings.HasSuffix(scn, "# error: DC9: no such DC\n\n") {
		t.Errorf("StepsSCN with a failure: %q, %v", scn, err)
	}

	st, err := c.State(ctx)
	if err != nil || !reflect.DeepEqual(st, fakeState()) {
		t.Errorf("State round trip:\n got %+v, %v\nwant %+v", st, err, fakeState())
	}

	h.Write([]byte("a\nb\nc\n"))
	var got []TraceLine
	err = c.Trace(ctx, 1, false, func(l TraceLine) error { got = append(got, l); return nil })
	if err != nil || !reflect.DeepEqual(got, []TraceLine{{Seq: 1, Line: "b"}, {Seq: 2, Line: "c"}}) {
		t.Errorf("Trace from 1: %v, %v", got, err)
	}
	stop := errors.New("enough")
	n := 0
	if err := c.Trace(ctx, 0, false, func(TraceLine) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Trace whose callback stops: %v after %d lines", err, n)
	}

	snap, err := c.Snapshot(ctx)
	if err != nil || string(snap) != `{"world":1}` {
		t.Errorf("Snapshot: %q, %v", snap, err)
	}
	if err := c.Restore(ctx, snap); err != nil || string(fb.restored) != `{"world":1}` {
		t.Errorf("Restore: %v, restored %q", err, fb.restored)
	}
	if err := c.Restore(ctx, []byte("junk")); !errors.As(err, &ce) || ce.Status != 400 || ce.Message != "not a snapshot" {
		t.Errorf("Restore of junk: %v", err)
	}

	var buf bytes.Buffer
	if err := c.LDIF(ctx, "DC2", &buf); err != nil || buf.String() != fb.ldif["DC2"] {
		t.Errorf("LDIF DC2: %q, %v", buf.String(), err)
	}
	buf.Reset()
	if err := c.LDIF(ctx, "", &buf); err != nil || buf.String() != fb.ldif[""] {
		t.Errorf("LDIF default: %q, %v", buf.String(), err)
	}
	if err := c.LDIF(ctx, "DC9", &buf); !errors.As(err, &ce) || ce.Status != 404 {
		t.Errorf("LDIF DC9: %v", err)
	}

	bad := NewClient(ts.URL, "wrong-token-wrong-token")
	if _, err := bad.State(ctx); !errors.As(err, &ce) || ce.Status != 401 || ce.Message != "wrong bearer token" {
		t.Errorf("State with a wrong token: %v", err)
	}
}

func TestCtlClientTraceFollowEndsWithContext(t *testing.T) {
	h := NewTraceHub(0)
	s, _ := newTestServer(t, Config{Trace: h})
	ts := serve(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan TraceLine)
	done := make(chan error, 1)
	go func() {
		done <- NewClient(ts.URL, testToken).Trace(ctx, 0, true, func(l TraceLine) error { got <- l; return nil })
	}()
	h.Write([]byte("one\n"))
	if l := <-got; l.Line != "one" {
		t.Errorf("first line %+v", l)
	}
	h.Write([]byte("two\n"))
	if l := <-got; l != (TraceLine{Seq: 1, Line: "two"}) {
		t.Errorf("second line %+v", l)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Trace after cancel: %v", err)
	}
}

func TestCtlLDIFFailingHalfWayIsAnError(t *testing.T) {
	s, fb := newTestServer(t, Config{})
	fb.ldifErr = errors.New("replica vanished")
	ts := serve(t, s)
	var buf bytes.Buffer
	err := NewClient(ts.URL, testToken).LDIF(t.Context(), "", &buf)
	if err == nil {
		t.Fatalf("an LDIF export that failed half-way looked complete: %q", buf.String())
	}
}

func TestCtlClientFromStateDir(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	ts := serve(t, s)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "endpoints.json"), []byte(`{"ldap":"127.0.0.1:3389","control":"`+ts.URL+`","kdc":{"tcp":"x"}}`), 0o600)
	os.WriteFile(filepath.Join(dir, "control.token"), []byte(testToken+"\n"), 0o600)
	c, err := ClientFromStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.State(t.Context()); err != nil || st.Realm != "CONTOSO.COM" {
		t.Errorf("State via the state dir: %+v, %v", st, err)
	}

	os.WriteFile(filepath.Join(dir, "endpoints.json"), []byte(`{"ldap":"127.0.0.1:3389"}`), 0o600)
	if _, err := ClientFromStateDir(dir); err == nil || !strings.Contains(err.Error(), `no "control" address`) {
		t.Errorf("endpoints.json without control: %v", err)
	}
	if _, err := ClientFromStateDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is gmsasim serve running") {
		t.Errorf("empty dir: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "endpoints.json"), []byte(`{"control":"`+ts.URL+`"}`), 0o600)
	os.WriteFile(filepath.Join(dir, "control.token"), []byte("\n"), 0o600)
	if _, err := ClientFromStateDir(dir); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty token file: %v", err)
	}
}
