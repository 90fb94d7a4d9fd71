package control

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "0123456789abcdef0123456789abcdef"

// fakeBackend is a Backend whose answers the test sets.
type fakeBackend struct {
	mu       sync.Mutex
	steps    func(text string) (StepsResult, error)
	gotText  string
	state    State
	snapshot []byte
	restored []byte
	ldif     map[string]string // "" is the default DC
	ldifErr  error             // returned after writing the LDIF
}

func (f *fakeBackend) Steps(_ context.Context, text string) (StepsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gotText = text
	if f.steps == nil {
		return StepsResult{}, nil
	}
	return f.steps(text)
}

func (f *fakeBackend) State(context.Context) (State, error) { return f.state, nil }

func (f *fakeBackend) Snapshot(context.Context) ([]byte, error) { return f.snapshot, nil }

func (f *fakeBackend) Restore(_ context.Context, b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.HasPrefix(string(b), "{") {
		return &Error{Status: http.StatusBadRequest, Message: "not a snapshot"}
	}
	f.restored = b
	return nil
}

func (f *fakeBackend) LDIF(_ context.Context, dc string, w io.Writer) error {
	text, ok := f.ldif[dc]
	if !ok {
		return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("no DC %q", dc)}
	}
	io.WriteString(w, text)
	return f.ldifErr
}

// fakeState is a State with every field set, the seed past 2^53.
func fakeState() State {
	t0 := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	return State{
		Now: t0.Add(720 * time.Hour), Wire: t0, Offset: "720h0m0s", Elapsed: "720h0m0s",
		Seed: 1<<63 - 25, Domain: "contoso.com", Realm: "CONTOSO.COM",
		DCs: []DCState{{Name: "DC1", DNSName: "DC1.contoso.com", OS: "2016", PDC: true, Running: true,
			LDAP: "127.0.0.1:3389", LDAPS: "127.0.0.1:3636", KDC: "127.0.0.1:3088"},
			{Name: "DC2", DNSName: "DC2.contoso.com", OS: "2019"}},
		Links: []LinkState{{A: "DC1", B: "DC2", Delay: "1h0m0s", Cut: true}},
		Hosts: []HostState{{Name: "Host1", OS: "2016", Arch: "amd64", Running: true, InstalledAccounts: []string{"ITFarm1$"}}},
		GMSAs: []GMSAState{{Name: "ITFarm1", DN: "CN=ITFarm1,CN=Managed Service Accounts,DC=contoso,DC=com",
			DNSHostName: "ITFarm1.contoso.com", KVNO: 2, PasswordLastSet: t0, NextRotation: t0.Add(720 * time.Hour),
			IntervalDays: 30, PrincipalsAllowedToRetrieve: []string{"CN=ITFarmHosts,CN=Users,DC=contoso,DC=com"}}},
		Pending: 3,
	}
}

// scriptedSteps answers like a scenario runner would for the tests' step texts: "fail" fails,
// "bad" does not parse, anything else echoes its directive.
func scriptedSteps(text string) (StepsResult, error) {
	var res StepsResult
	for i, l := range strings.Split(text, "\n") {
		switch {
		case l == "bad":
			return StepsResult{}, &SyntaxError{Line: i + 1, Msg: `unknown directive "bad"`}
		case l == "fail":
			res.Failure = &StepFailure{Line: i + 1, Step: l, Message: "DC9: no such DC"}
			return res, nil
		case strings.HasPrefix(l, "advance ") || strings.HasPrefix(l, "ps "):
			res.Steps = append(res.Steps, StepOutput{Line: i + 1, Step: l, Output: "ran " + l, Match: true})
		}
	}
	return res, nil
}

func newTestServer(t *testing.T, cfg Config) (*Server, *fakeBackend) {
	t.Helper()
	fb := &fakeBackend{steps: scriptedSteps, state: fakeState(), snapshot: []byte(`{"world":1}`),
		ldif: map[string]string{"": "dn: DC=contoso,DC=com\n", "DC2": "dn: DC=contoso,DC=com\nserver: DC2\n"}}
	if cfg.Backend == nil {
		cfg.Backend = fb
	}
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, fb
}

// serve runs s.Handler on an httptest server; the control server closes first, so that trace
// followers end before httptest waits for them.
func serve(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.Close(); ts.Close() })
	return ts
}

// call sends one request to the handler and returns the recorded answer.
func call(s *Server, method, target, token string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}
