package control

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func lineTexts(ls []TraceLine) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Line)
	}
	return out
}

func TestCtlTraceHubNumbersLinesAndJoinsPartialWrites(t *testing.T) {
	h := NewTraceHub(0)
	for _, w := range []string{"+0s a\n+1s b", "b\n", "+2s", " c\n+3s d\n+4s"} {
		if n, err := h.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", w, n, err)
		}
	}
	lines, dropped, next, _, closed := h.Since(0, 0)
	want := []string{"+0s a", "+1s bb", "+2s c", "+3s d"}
	if strings.Join(lineTexts(lines), "|") != strings.Join(want, "|") || dropped != 0 || next != 4 || closed {
		t.Fatalf("Since(0) = %q dropped %d next %d closed %v, want %q next 4", lineTexts(lines), dropped, next, closed, want)
	}
	for i, l := range lines {
		if l.Seq != i {
			t.Errorf("line %q has seq %d, want %d", l.Line, l.Seq, i)
		}
	}
	if lines, _, next, _, _ := h.Since(2, 1); len(lines) != 1 || lines[0].Seq != 2 || next != 3 {
		t.Errorf("Since(2, limit 1) = %v next %d", lines, next)
	}
	if lines, _, next, _, _ := h.Since(9, 0); len(lines) != 0 || next != 9 {
		t.Errorf("Since(9) past the end = %v next %d, want nothing and next 9", lines, next)
	}
	// The partial "+4s" becomes a line once its newline comes.
	h.Write([]byte(" e\n"))
	if lines, _, _, _, _ := h.Since(4, 0); len(lines) != 1 || lines[0].Line != "+4s e" {
		t.Errorf("after the rest of line 4: %v", lines)
	}
}

func TestCtlTraceHubIsBounded(t *testing.T) {
	h := NewTraceHub(3)
	for _, l := range []string{"l0", "l1", "l2", "l3", "l4"} {
		h.Write([]byte(l + "\n"))
	}
	lines, dropped, next, _, _ := h.Since(0, 0)
	if got := strings.Join(lineTexts(lines), ","); got != "l2,l3,l4" || dropped != 2 || next != 5 || lines[0].Seq != 2 {
		t.Errorf("Since(0) on a hub of 3 after 5 lines: %q (first seq %d) dropped %d next %d, want l2,l3,l4 from 2, dropped 2",
			got, lines[0].Seq, dropped, next)
	}
	if len(h.ring) != 3 {
		t.Errorf("ring holds %d lines, want 3", len(h.ring))
	}
	if _, dropped, _, _, _ := h.Since(3, 0); dropped != 0 {
		t.Errorf("Since(3): dropped %d, want 0", dropped)
	}
	// A line that never ends is cut at maxPartialLine rather than grow without bound.
	h.Write([]byte(strings.Repeat("x", maxPartialLine+5)))
	if lines, _, _, _, _ := h.Since(5, 0); len(lines) != 1 || len(lines[0].Line) != maxPartialLine || len(h.partial) != 5 {
		t.Errorf("an endless line: %d lines, partial %d", len(lines), len(h.partial))
	}
}

func TestCtlTraceHubWakesWaiters(t *testing.T) {
	h := NewTraceHub(0)
	_, _, _, wait, _ := h.Since(0, 0)
	h.Write([]byte("partial"))
	select {
	case <-wait:
		t.Fatal("a partial line woke the waiter")
	default:
	}
	h.Write([]byte("\n"))
	select {
	case <-wait:
	default:
		t.Fatal("a complete line did not wake the waiter")
	}
	_, _, _, wait, _ = h.Since(1, 0)
	h.Close()
	_, _, _, wait2, closed := h.Since(1, 0)
	select {
	case <-wait:
	default:
		t.Fatal("Close did not wake the waiter")
	}
	select {
	case <-wait2:
	default:
		t.Fatal("after Close a wait channel is open")
	}
	if !closed {
		t.Error("Since after Close does not report closed")
	}
	h.Write([]byte("after close\n")) // must not panic on the closed channel
	if lines, _, _, _, _ := h.Since(1, 0); len(lines) != 1 {
		t.Errorf("a line written after Close was not kept: %v", lines)
	}
}

// readTrace decodes an NDJSON body.
func readTrace(t *testing.T, body string) []TraceLine {
	t.Helper()
	var out []TraceLine
	for _, l := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if l == "" {
			continue
		}
		var tl TraceLine
		if err := json.Unmarshal([]byte(l), &tl); err != nil {
			t.Fatalf("NDJSON line %q: %v", l, err)
		}
		out = append(out, tl)
	}
	return out
}

func TestCtlTraceWithoutFollow(t *testing.T) {
	h := NewTraceHub(3)
	s, _ := newTestServer(t, Config{Trace: h})
	for _, l := range []string{"+0s DC1 started", "+1h00m00s DC2 replicated 1 change from DC1", "c", "d"} {
		h.Write([]byte(l + "\n"))
	}
	rec := call(s, "GET", "/trace?from=0", testToken, nil)
	want := `{"seq":1,"dropped":1}` + "\n" +
		`{"seq":1,"line":"+1h00m00s DC2 replicated 1 change from DC1"}` + "\n" +
		`{"seq":2,"line":"c"}` + "\n" + `{"seq":3,"line":"d"}` + "\n"
	if rec.Code != 200 || rec.Body.String() != want || rec.Header().Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("trace from 0: %d %q\n got %s\nwant %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body, want)
	}
	if rec = call(s, "GET", "/trace?from=3", testToken, nil); rec.Body.String() != `{"seq":3,"line":"d"}`+"\n" {
		t.Errorf("trace from 3: %s", rec.Body)
	}
	if rec = call(s, "GET", "/trace?from=4", testToken, nil); rec.Code != 200 || rec.Body.String() != "" {
		t.Errorf("trace from the end: %d %q", rec.Code, rec.Body)
	}
	for _, q := range []string{"from=-1", "from=x", "follow=yes"} {
		if rec = call(s, "GET", "/trace?"+q, testToken, nil); rec.Code != 400 {
			t.Errorf("trace?%s: %d, want 400", q, rec.Code)
		}
	}
}

// followTrace opens GET /trace?follow=1; the answer's headers arrive once the server holds a
// follower slot.
func followTrace(t *testing.T, base string, from string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/trace?follow=1&from="+from, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestCtlTraceFollowGetsLaterLines(t *testing.T) {
	h := NewTraceHub(0)
	s, _ := newTestServer(t, Config{Trace: h})
	ts := serve(t, s)
	h.Write([]byte("before\n"))
	resp := followTrace(t, ts.URL, "0")
	if resp.StatusCode != 200 {
		t.Fatalf("follow: %s", resp.Status)
	}
	rd := bufio.NewReader(resp.Body)
	next := func() TraceLine {
		t.Helper()
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		return readTrace(t, l)[0]
	}
	if got := next(); got != (TraceLine{Seq: 0, Line: "before"}) {
		t.Errorf("first line %+v", got)
	}
	// Written after the request is under way: the follower is woken and the line flushed.
	h.Write([]byte("+1h after\n"))
	if got := next(); got != (TraceLine{Seq: 1, Line: "+1h after"}) {
		t.Errorf("later line %+v", got)
	}
	h.Write([]byte("x\ny\n"))
	if a, b := next(), next(); a.Line != "x" || b.Seq != 3 {
		t.Errorf("two more lines: %+v %+v", a, b)
	}
	// Closing the server ends the stream.
	s.Close()
	if rest, err := io.ReadAll(rd); len(rest) != 0 || err != nil {
		t.Errorf("after Close: %q, %v; want the end of the stream", rest, err)
	}
}

func TestCtlTraceFollowerLimit(t *testing.T) {
	h := NewTraceHub(0)
	s, _ := newTestServer(t, Config{Trace: h, MaxFollowers: 2})
	ts := serve(t, s)
	for i := range 2 {
		if resp := followTrace(t, ts.URL, "0"); resp.StatusCode != 200 {
			t.Fatalf("follower %d: %s", i, resp.Status)
		}
	}
	resp := followTrace(t, ts.URL, "0")
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(b), `"error":"already 2 trace followers`) {
		t.Errorf("third follower: %s %s", resp.Status, b)
	}
	// Reading without follow takes no slot.
	if rec := call(s, "GET", "/trace", testToken, nil); rec.Code != 200 {
		t.Errorf("a non-following read with every slot taken: %d", rec.Code)
	}
}
