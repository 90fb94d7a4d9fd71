package control

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCtlUnauthorizedOnEveryRoute(t *testing.T) {
	s, fb := newTestServer(t, Config{})
	auths := []struct{ name, header string }{
		{"no header", ""},
		{"wrong token", "Bearer " + strings.Repeat("f", len(testToken))},
		{"token prefix", "Bearer " + testToken[:10]},
		{"basic", "Basic " + testToken},
		{"bare token", testToken},
	}
	n := 0
	for _, rt := range routes {
		if rt.Public {
			continue
		}
		n++
		for _, a := range auths {
			req, _ := http.NewRequest(rt.Method, rt.Path, strings.NewReader("advance 1h\n"))
			if a.header != "" {
				req.Header.Set("Authorization", a.header)
			}
			rec := newRecorder(s, req)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s, %s: status %d, want 401", rt.Method, rt.Path, a.name, rec.Code)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer realm="gmsasim"` {
				t.Errorf("%s %s, %s: WWW-Authenticate %q", rt.Method, rt.Path, a.name, got)
			}
			var eb errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == "" {
				t.Errorf("%s %s, %s: body %q is not {\"error\": ...}", rt.Method, rt.Path, a.name, rec.Body)
			}
		}
	}
	if n != 6 {
		t.Errorf("%d authenticated routes, want 6", n)
	}
	if fb.gotText != "" || fb.restored != nil {
		t.Errorf("an unauthenticated request reached the backend: steps %q, restore %q", fb.gotText, fb.restored)
	}
	// Unknown routes are not revealed without the token either.
	if rec := call(s, "GET", "/nothing", "", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /nothing without token: %d, want 401", rec.Code)
	}
	// The document is public; the right token opens the rest.
	if rec := call(s, "GET", "/openapi.yaml", "", nil); rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "openapi: 3.0") {
		t.Errorf("GET /openapi.yaml without token: %d %.40q", rec.Code, rec.Body)
	}
	if rec := call(s, "GET", "/state", testToken, nil); rec.Code != 200 {
		t.Errorf("GET /state with the token: %d %s", rec.Code, rec.Body)
	}
	if rec := call(s, "GET", "/state", "", nil); rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("401 Content-Type %q", rec.Header().Get("Content-Type"))
	}
}

func TestCtlNotFoundAndMethodNotAllowed(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	rec := call(s, "GET", "/steps", testToken, nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
		t.Errorf("GET /steps: %d Allow=%q, want 405 Allow=POST", rec.Code, rec.Header().Get("Allow"))
	}
	if rec := call(s, "GET", "/nothing", testToken, nil); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("GET /nothing: %d %s", rec.Code, rec.Body)
	}
}

func TestCtlNewServerChecksConfig(t *testing.T) {
	if _, err := NewServer(Config{Token: testToken}); err == nil || !strings.Contains(err.Error(), "Backend") {
		t.Errorf("no backend: %v", err)
	}
	if _, err := NewServer(Config{Backend: &fakeBackend{}, Token: "short"}); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("short token: %v", err)
	}
}

func TestCtlNewToken(t *testing.T) {
	a, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewToken()
	if len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" || a == b {
		t.Errorf("tokens %q, %q: want two different 64-hex-digit strings", a, b)
	}
}

func TestCtlBodyTooBig(t *testing.T) {
	s, fb := newTestServer(t, Config{MaxSnapshot: 100})
	big := strings.Repeat("x", DefaultMaxBody+1)
	if rec := call(s, "POST", "/steps", testToken, strings.NewReader(big)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("steps of %d bytes: %d, want 413", len(big), rec.Code)
	}
	// Without a Content-Length the limit holds while reading.
	req, _ := http.NewRequest("POST", "/steps", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+testToken)
	if rec := newRecorder(s, req); rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "1048576") {
		t.Errorf("chunked steps of %d bytes: %d %s, want 413 naming the limit", len(big), rec.Code, rec.Body)
	}
	if fb.gotText != "" {
		t.Errorf("the backend ran a body over the limit")
	}
	// At the limit it passes; restore has its own limit.
	if rec := call(s, "POST", "/steps", testToken, strings.NewReader(big[1:])); rec.Code != 200 {
		t.Errorf("steps of exactly the limit: %d", rec.Code)
	}
	snap := "{" + strings.Repeat(" ", 98) + "}"
	if rec := call(s, "POST", "/restore", testToken, strings.NewReader(snap+" ")); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("restore of 101 bytes, limit 100: %d", rec.Code)
	}
	if rec := call(s, "POST", "/restore", testToken, strings.NewReader(snap)); rec.Code != http.StatusNoContent || string(fb.restored) != snap {
		t.Errorf("restore of 100 bytes: %d, restored %q", rec.Code, fb.restored)
	}
}

func TestCtlListenLoopbackOnly(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	for _, addr := range []string{"0.0.0.0:0", ":0", "localhost:0", "192.0.2.1:0", "[::]:0", "example.com:80"} {
		if err := s.Listen(addr); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("Listen(%q) = %v, want a refusal naming loopback", addr, err)
		}
	}
	if s.Addr() != nil {
		t.Fatalf("a refused Listen left Addr %v", s.Addr())
	}
	if err := s.Listen("nonsense"); err == nil {
		t.Errorf("Listen(nonsense) succeeded")
	}
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Listen("127.0.0.1:0"); err == nil {
		t.Errorf("a second Listen succeeded")
	}
	st, err := NewClient("http://"+s.Addr().String(), testToken).State(t.Context())
	if err != nil || st.Domain != "contoso.com" {
		t.Fatalf("State over the listener: %+v, %v", st, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := NewClient("http://"+s.Addr().String(), testToken).State(t.Context()); err == nil {
		t.Errorf("State after Close succeeded")
	}
}

func TestCtlStepsAnswers(t *testing.T) {
	s, fb := newTestServer(t, Config{})
	text := "advance 30d\n\nps on=DC1\nGet-ADServiceAccount ITFarm1\n----\nexpected\n"
	rec := call(s, "POST", "/steps", testToken, strings.NewReader(text))
	if rec.Code != 200 || fb.gotText != text {
		t.Fatalf("200 case: %d %s; backend got %q", rec.Code, rec.Body, fb.gotText)
	}
	want := `{"steps":[{"line":1,"step":"advance 30d","output":"ran advance 30d","match":true},` +
		`{"line":3,"step":"ps on=DC1","output":"ran ps on=DC1","match":true}]}` + "\n"
	if rec.Body.String() != want {
		t.Errorf("200 body\n got %s\nwant %s", rec.Body, want)
	}

	rec = call(s, "POST", "/steps", testToken, strings.NewReader("advance 1h\n\nfail\n"))
	want = `{"steps":[{"line":1,"step":"advance 1h","output":"ran advance 1h","match":true}],` +
		`"failure":{"line":3,"step":"fail","message":"DC9: no such DC"},"error":"line 3: fail: DC9: no such DC"}` + "\n"
	if rec.Code != http.StatusUnprocessableEntity || rec.Body.String() != want {
		t.Errorf("422 case: %d\n got %s\nwant %s", rec.Code, rec.Body, want)
	}

	rec = call(s, "POST", "/steps", testToken, strings.NewReader("advance 1h\n\nbad\n"))
	want = `{"error":"line 3: unknown directive \"bad\"","line":3,"msg":"unknown directive \"bad\""}` + "\n"
	if rec.Code != http.StatusBadRequest || rec.Body.String() != want {
		t.Errorf("400 case: %d\n got %s\nwant %s", rec.Code, rec.Body, want)
	}

	// No step at all: an empty list, not null.
	if rec = call(s, "POST", "/steps", testToken, strings.NewReader("")); rec.Body.String() != `{"steps":[]}`+"\n" {
		t.Errorf("no steps: %s", rec.Body)
	}
	if rec = call(s, "POST", "/steps?format=xml", testToken, strings.NewReader("advance 1h")); rec.Code != 400 {
		t.Errorf("format=xml: %d", rec.Code)
	}
}

func TestCtlStepsSCN(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	text := "advance 30d\n\nps on=DC1\nGet-ADServiceAccount ITFarm1\n----\nold\n\nfail\n"
	rec := call(s, "POST", "/steps?format=scn", testToken, strings.NewReader(text))
	want := "advance 30d\n----\nran advance 30d\n\n" +
		"ps on=DC1\nGet-ADServiceAccount ITFarm1\n----\nran ps on=DC1\n\n" +
		"fail\n----\n# error: DC9: no such DC\n\n"
	if rec.Code != http.StatusUnprocessableEntity || rec.Body.String() != want {
		t.Errorf("scn: %d\n got %q\nwant %q", rec.Code, rec.Body, want)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("scn Content-Type %q", ct)
	}
}

func TestCtlFormatSCN(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		res        StepsResult
		want       string
	}{
		{
			name: "output with a blank line is fenced",
			text: "ps on=DC1\nGet-ADServiceAccount X\n",
			res:  StepsResult{Steps: []StepOutput{{Line: 1, Step: "ps on=DC1", Output: "\nName : X\n\nSID  : S-1\n  \n"}}},
			want: "ps on=DC1\nGet-ADServiceAccount X\n----\n----\nName : X\n\nSID  : S-1\n----\n----\n\n",
		},
		{
			name: "empty output",
			text: "cut DC1 DC2",
			res:  StepsResult{Steps: []StepOutput{{Line: 1, Step: "cut DC1 DC2"}}},
			want: "cut DC1 DC2\n----\n\n",
		},
		{
			name: "the failing step gave output",
			text: "ps on=DC1\nGet-X\n----\nwant\n",
			res: StepsResult{Steps: []StepOutput{{Line: 1, Step: "ps on=DC1", Output: "got"}},
				Failure: &StepFailure{Line: 1, Step: "ps on=DC1", Message: "output differs\nsecond line"}},
			want: "ps on=DC1\nGet-X\n----\ngot\n# error: output differs\n# second line\n\n",
		},
		{
			name: "a backend numbering otherwise keeps the directive only",
			text: "advance 1h\nwhat\n",
			res:  StepsResult{Steps: []StepOutput{{Line: 7, Step: "advance 1h", Output: "x"}}},
			want: "advance 1h\n----\nx\n\n",
		},
		{
			name: "CRLF text",
			text: "ps on=H1\r\nGet-Y\r\n",
			res:  StepsResult{Steps: []StepOutput{{Line: 1, Step: "ps on=H1", Output: "y\r\n"}}},
			want: "ps on=H1\nGet-Y\n----\ny\n\n",
		},
	} {
		if got := FormatSCN(tc.text, tc.res); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestCtlStateSnapshotLDIF(t *testing.T) {
	s, fb := newTestServer(t, Config{})
	rec := call(s, "GET", "/state", testToken, nil)
	var st map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if st["seed"] != "9223372036854775783" || st["offset"] != "720h0m0s" || st["now"] != "2026-12-23T10:30:00Z" {
		t.Errorf("state: seed %v offset %v now %v", st["seed"], st["offset"], st["now"])
	}
	dc := st["dcs"].([]any)[0].(map[string]any)
	if dc["dnsName"] != "DC1.contoso.com" || dc["ldaps"] != "127.0.0.1:3636" || dc["pdc"] != true {
		t.Errorf("state DC1: %v", dc)
	}
	// An empty world has empty lists, not nulls.
	fb.state = State{Hosts: []HostState{{Name: "H"}}}
	rec = call(s, "GET", "/state", testToken, nil)
	for _, want := range []string{`"dcs":[]`, `"links":[]`, `"gmsas":[]`, `"installedAccounts":[]`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("empty state lacks %s: %s", want, rec.Body)
		}
	}

	rec = call(s, "POST", "/snapshot", testToken, nil)
	if rec.Code != 200 || rec.Body.String() != `{"world":1}` || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("snapshot: %d %q %q", rec.Code, rec.Body, rec.Header().Get("Content-Type"))
	}
	if rec = call(s, "POST", "/restore", testToken, strings.NewReader("")); rec.Code != 400 {
		t.Errorf("empty restore: %d", rec.Code)
	}
	if rec = call(s, "POST", "/restore", testToken, strings.NewReader("garbage")); rec.Code != 400 || !strings.Contains(rec.Body.String(), "not a snapshot") {
		t.Errorf("bad restore: %d %s", rec.Code, rec.Body)
	}

	if rec = call(s, "GET", "/ldif?dc=DC2", testToken, nil); rec.Code != 200 || rec.Body.String() != fb.ldif["DC2"] {
		t.Errorf("ldif DC2: %d %q", rec.Code, rec.Body)
	}
	if rec = call(s, "GET", "/ldif", testToken, nil); rec.Body.String() != fb.ldif[""] {
		t.Errorf("ldif default: %q", rec.Body)
	}
	if rec = call(s, "GET", "/ldif?dc=DC9", testToken, nil); rec.Code != 404 || rec.Body.String() != `{"error":"no DC \"DC9\""}`+"\n" {
		t.Errorf("ldif DC9: %d %s", rec.Code, rec.Body)
	}
}

func newRecorder(s *Server, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}
