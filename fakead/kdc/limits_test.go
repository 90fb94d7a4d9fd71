package kdc_test

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gokrb5/v8/messages"
)

// failAfter bounds every wait in these tests. It is a failure bound, not a speed assertion: each
// wait ends in microseconds when the server behaves, and the limits under test are either far
// shorter (timeouts set to a fraction of a second) or far longer (an hour, where the test shows
// that nothing waits for them).
const failAfter = 20 * time.Second

// hour is a limit the test must not rely on.
const hour = time.Hour

// dialN opens n TCP connections that send nothing.
func dialN(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	cs := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range cs {
			c.Close()
		}
	})
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", len(cs), err)
		}
		cs = append(cs, c)
	}
	return cs
}

// closedByServer reads c until the server ends it (EOF or reset, within failAfter) and fails if
// data arrives or nothing happens.
func closedByServer(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(failAfter))
	var b [1]byte
	n, err := c.Read(b[:])
	switch {
	case n > 0:
		t.Errorf("%s: got data %x, want the connection closed", what, b[:n])
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Errorf("%s: still open after %v", what, failAfter)
	case err == nil:
		t.Errorf("%s: empty read without error", what)
	}
}

// readKRBError reads one framed reply from c and returns its KRB-ERROR code.
func readKRBError(t *testing.T, c net.Conn, what string) int32 {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(failAfter))
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatalf("%s: no reply: %v", what, err)
	}
	b := make([]byte, int(hdr[0])<<24|int(hdr[1])<<16|int(hdr[2])<<8|int(hdr[3]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("%s: short reply: %v", what, err)
	}
	var e messages.KRBError
	if err := e.Unmarshal(b); err != nil {
		t.Fatalf("%s: reply is not a KRB-ERROR: %v", what, err)
	}
	return e.ErrorCode
}

// An undecodable datagram gets no reply (no amplifier); a decodable request on the same socket,
// even a wrong one, gets its KRB-ERROR.
func TestServerUDPDropsUndecodable(t *testing.T) {
	f := newFixture(t)
	c, err := net.Dial("udp", f.srv.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	good := marshalAS(t, asReq(t, "alice", []int32{18}, nil, time.Time{}))
	garbage := [][]byte{
		{0x6a},                         // 1 byte: the AS-REQ tag alone
		{0x6c},                         // the TGS-REQ tag alone
		{0x6a, 0x03, 0x30, 0x01, 0x00}, // an AS-REQ tag over a malformed body
		{0x30, 0x03, 0x02, 0x01, 0x05}, // DER, not Kerberos
		[]byte("garbage"),
		good[:len(good)/2], // a truncated AS-REQ
	}
	for _, g := range garbage {
		if _, err := c.Write(g); err != nil {
			t.Fatal(err)
		}
	}
	// Then an AS-REQ for an unknown principal and one for alice. Loopback UDP delivery is
	// reliable and the server answers datagrams in order, so the first two replies read belong to
	// these two if the garbage got none.
	c.Write(marshalAS(t, asReq(t, "nobody", []int32{18}, nil, time.Time{})))
	c.Write(good)
	buf := make([]byte, 4096)
	for _, want := range []int32{6, 25} { // C_PRINCIPAL_UNKNOWN, PREAUTH_REQUIRED
		c.SetReadDeadline(time.Now().Add(failAfter))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("reply %d: %v", want, err)
		}
		var e messages.KRBError
		if err := e.Unmarshal(buf[:n]); err != nil || e.ErrorCode != want {
			t.Fatalf("got %v code %d, want %d (a reply to garbage?)", err, e.ErrorCode, want)
		}
	}
	// The server counted each garbage datagram before reading the next one.
	if got := f.srv.Stats().UDPDropped; got != uint64(len(garbage)) {
		t.Errorf("UDPDropped = %d, want %d", got, len(garbage))
	}
	// And nothing more arrives: a reply to garbage would have come before the two above anyway.
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("an extra datagram of %d bytes arrived (%v)", n, err)
	}
	want := []string{
		"AS nobody@CONTOSO.COM -> krbtgt/CONTOSO.COM: KDC_ERR_C_PRINCIPAL_UNKNOWN (6)",
		"AS alice@CONTOSO.COM -> krbtgt/CONTOSO.COM: KDC_ERR_PREAUTH_REQUIRED (25)",
	}
	if got := f.traceLines(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("trace %q, want %q", got, want)
	}
}

// A connection idle past IdleTimeout is closed, before or after a request; so is one whose
// message stalls past ReadTimeout (two bytes of the length prefix, or the prefix and part of the
// body).
func TestServerTCPTimeouts(t *testing.T) {
	f := newFixtureWith(t, func(c *kdc.ServerConfig) {
		// Short, so the test is: a client that talks sends its request right after connecting,
		// well within half a second even on a loaded machine.
		c.IdleTimeout = 500 * time.Millisecond
		c.ReadTimeout = 500 * time.Millisecond
	})
	addr := f.srv.TCPAddr().String()
	req := frame(marshalAS(t, asReq(t, "alice", []int32{18}, nil, time.Time{})))
	cs := dialN(t, addr, 4)
	cs[1].Write(req)
	cs[2].Write([]byte{0, 0})
	cs[3].Write([]byte{0, 0, 1, 0, 0x6a})
	closedByServer(t, cs[0], "idle")
	if code := readKRBError(t, cs[1], "idle after a reply"); code != 25 {
		t.Errorf("reply code %d, want 25", code)
	}
	closedByServer(t, cs[1], "idle after a reply")
	closedByServer(t, cs[2], "half a length prefix")
	closedByServer(t, cs[3], "part of a body")
	if st := f.srv.Stats(); st.TCPTimedOut != 4 {
		t.Errorf("TCPTimedOut = %d, want 4 (%+v)", st.TCPTimedOut, st)
	}
}

// A client that does not read its reply is cut off by WriteTimeout. net.Pipe has no buffer, so
// the server's write blocks at once, as it would on a socket once the buffers fill.
func TestServerTCPWriteTimeout(t *testing.T) {
	f := newFixtureWith(t, func(c *kdc.ServerConfig) { c.WriteTimeout = 200 * time.Millisecond })
	cli, srv := net.Pipe()
	defer cli.Close()
	f.srv.ServeConn(srv)
	cli.SetWriteDeadline(time.Now().Add(failAfter))
	if _, err := cli.Write(frame(marshalAS(t, asReq(t, "alice", []int32{18}, nil, time.Time{})))); err != nil {
		t.Fatal(err)
	}
	// Wait for the server to give up on the write: the pipe then reports closed.
	cli.SetWriteDeadline(time.Now().Add(failAfter))
	if _, err := cli.Write([]byte{0}); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("write after the stalled reply: %v, want the pipe closed", err)
	}
	if st := f.srv.Stats(); st.TCPTimedOut != 1 {
		t.Errorf("TCPTimedOut = %d, want 1 (%+v)", st.TCPTimedOut, st)
	}
}

// At the default cap, 256 idle connections do not lock out a client: it takes the place of the
// oldest, and logs on over TCP.
func TestServerTCPCapEvictsIdle(t *testing.T) {
	f := newFixtureWith(t, func(c *kdc.ServerConfig) { c.IdleTimeout = hour })
	idle := dialN(t, f.srv.TCPAddr().String(), kdc.DefaultMaxConns)
	if _, err := f.login("alice", pwAlice, true); err != nil {
		t.Fatalf("login over TCP with %d idle connections open: %v", len(idle), err)
	}
	// gokrb5 opens a connection per request (two here): each new one evicted an idle one when the
	// cap was reached, the oldest first.
	closedByServer(t, idle[0], "the oldest idle connection")
	st := f.srv.Stats()
	if st.TCPEvicted < 1 || st.TCPEvicted > 2 || st.TCPRefused != 0 {
		t.Errorf("stats %+v, want 1 or 2 evicted, none refused", st)
	}
	// The connections not evicted still work.
	last := idle[len(idle)-1]
	last.Write(frame(marshalAS(t, asReq(t, "alice", []int32{18}, nil, time.Time{}))))
	if code := readKRBError(t, last, "the newest idle connection"); code != 25 {
		t.Errorf("reply code %d, want 25", code)
	}
}

// Past the cap, the connection idle longest goes first, then the one whose partial message
// started first; a newcomer is closed only when every connection is being answered. The
// connections are net.Pipe ends: a write to one returns once the server has read it, so each step
// knows what state the server has seen.
func TestServerTCPCapOrder(t *testing.T) {
	var gate sync.Mutex // held: requests wait inside Exec
	entered := make(chan struct{}, 4)
	f := newFixtureWith(t, func(c *kdc.ServerConfig) {
		c.MaxConns, c.IdleTimeout, c.ReadTimeout = 2, hour, hour
		exec := c.Exec
		c.Exec = func(fn func(time.Time) error) error {
			entered <- struct{}{}
			gate.Lock()
			defer gate.Unlock()
			return exec(fn)
		}
	})
	req := frame(marshalAS(t, asReq(t, "alice", []int32{18}, nil, time.Time{})))
	open := func() net.Conn {
		cli, srv := net.Pipe()
		t.Cleanup(func() { cli.Close() })
		f.srv.ServeConn(srv)
		return cli
	}
	send := func(c net.Conn, b []byte) {
		c.SetWriteDeadline(time.Now().Add(failAfter))
		if _, err := c.Write(b); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	// The first byte, then two more: the second write returns once the server reads again, which
	// it does only after marking the connection as reading a message (one read may take all
	// three bytes at once, before the mark).
	partial := func(c net.Conn) {
		send(c, req[:1])
		send(c, req[1:3])
	}
	reading := open()
	partial(reading) // the server has the first bytes of a message
	idle := open()
	newer := open() // the cap is reached: idle goes, though reading is older
	closedByServer(t, idle, "idle, for a newcomer")
	partial(newer)
	newest := open() // nothing idle: the oldest partial message goes
	closedByServer(t, reading, "the older partial message, for a newcomer")

	gate.Lock()
	send(newer, req[3:])
	send(newest, req)
	<-entered
	<-entered // both connections are being answered
	refused := open()
	closedByServer(t, refused, "a newcomer while every connection is answered")
	gate.Unlock()
	for _, c := range []net.Conn{newer, newest} {
		if code := readKRBError(t, c, "answered"); code != 25 {
			t.Errorf("reply code %d, want 25", code)
		}
	}
	if st := f.srv.Stats(); st.TCPEvicted != 2 || st.TCPRefused != 1 || st.TCPTimedOut != 0 {
		t.Errorf("stats %+v, want 2 evicted, 1 refused, none timed out", st)
	}
}

// Close returns with idle connections, stalled messages and unread replies open, without
// waiting for any timeout (they are an hour here), and every client sees its connection end.
func TestServerCloseUnderLoad(t *testing.T) {
	f := newFixtureWith(t, func(c *kdc.ServerConfig) {
		c.IdleTimeout, c.ReadTimeout, c.WriteTimeout = hour, hour, hour
	})
	const n = 16
	req := frame(marshalAS(t, asReq(t, "alice", []int32{18}, nil, time.Time{})))
	idle := dialN(t, f.srv.TCPAddr().String(), n)
	stalled := dialN(t, f.srv.TCPAddr().String(), n)
	for i, c := range stalled {
		if i%2 == 0 {
			c.Write(req[:2]) // half a length prefix
		} else {
			c.Write(req[:len(req)-1]) // all but the last byte
		}
	}
	var unread []net.Conn // replies the clients never read: the server's write blocks
	for range n {
		cli, srv := net.Pipe()
		defer cli.Close()
		f.srv.ServeConn(srv)
		cli.SetWriteDeadline(time.Now().Add(failAfter))
		if _, err := cli.Write(req); err != nil {
			t.Fatal(err)
		}
		unread = append(unread, cli)
	}
	// A UDP client too, whose datagram is in flight or answered.
	u, err := net.Dial("udp", f.srv.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write(req[4:])

	done := make(chan error, 1)
	go func() { done <- f.srv.Close() }()
	select {
	case <-done:
	case <-time.After(failAfter):
		t.Fatalf("Close still blocked after %v", failAfter)
	}
	for _, group := range [][]net.Conn{idle, stalled, unread} {
		for _, c := range group {
			closedByServer(t, c, "after Close")
		}
	}
}
