package ldapsrv_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// bigDN is an entry whose answer is 64 KB, so the server's socket buffers fill after a few
// dozen answers rather than tens of thousands.
const bigDN = "CN=big," + baseDN

func withBigEntry(b *memBackend) *memBackend {
	b.put(bigDN, "objectClass", "container", "cn", "big", "description", string(bytes.Repeat([]byte("x"), 64<<10)))
	return b
}

// pipeline writes n search requests for bigDN on c without ever reading, until they are all written or
// the server stops taking them (a write makes no progress for stall). It returns how many went.
func pipeline(c net.Conn, n int, stall time.Duration) int {
	// One encoded request with a 4-octet message ID, patched per request (encoding 200,000 of
	// them with asn1-ber under -race would dominate the test).
	tpl := searchPDU(1<<24, bigDN)
	at := bytes.Index(tpl, []byte{0x02, 0x04, 0x01, 0, 0, 0}) + 2
	const batch = 500
	buf := make([]byte, 0, batch*len(tpl))
	sent := 0
	for sent < n {
		buf = buf[:0]
		for i := 0; i < batch && sent+i < n; i++ {
			buf = append(buf, tpl...)
			binary.BigEndian.PutUint32(buf[len(buf)-len(tpl)+at:], uint32(1<<24+sent+i))
		}
		c.SetWriteDeadline(time.Now().Add(stall))
		if _, err := c.Write(buf); err != nil {
			return sent
		}
		sent += min(batch, n-sent)
	}
	return sent
}

// dialSmallWindow dials with a small receive buffer, so the server's answers back up quickly.
func dialSmallWindow(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestPipelinedRequestsNeverRead: a client writes 200,000 requests and never reads an answer.
// The server must stop reading at MaxOutstanding unanswered requests (memory bounded by that,
// not by what the client sends), drop the connection once the client is gone, and Close must
// not hang on writes nobody takes.
func TestPipelinedRequestsNeverRead(t *testing.T) {
	const maxOutstanding, total = 32, 200_000
	b := withBigEntry(newMemBackend())
	f := start(t, b, ldapsrv.Options{Limits: ldapsrv.Limits{MaxOutstanding: maxOutstanding}})
	before := heapInuse()

	c := dialSmallWindow(t, f.srv.LDAPAddr())
	sent := pipeline(c, total, 2*time.Second)
	during := heapInuse()
	answered := b.searchCount()
	t.Logf("client wrote %d of %d requests before the server stopped reading; backend ran %d searches; heap in use %d MB → %d MB",
		sent, total, answered, before>>20, during>>20)
	if hw := ldapsrv.MaxOutstandingSeen(f.srv); hw > maxOutstanding {
		t.Fatalf("a connection had %d requests outstanding, limit %d", hw, maxOutstanding)
	}
	if sent == total {
		t.Fatal("the server read every request while none of its answers was taken: no backpressure")
	}
	if during > before+64<<20 {
		t.Fatalf("heap grew from %d MB to %d MB", before>>20, during>>20)
	}

	// The client goes away: the server drops the connection. A connection is released only
	// after every handler of it returned, so nothing works for the gone client any more.
	c.Close()
	waitConns(t, f.srv, 0)
	t.Logf("backend ran %d searches in all for the gone client", b.searchCount())

	// Close under the same load (a client pipelining, not reading, still connected) is prompt.
	c2 := dialSmallWindow(t, f.srv.LDAPAddr())
	pipeline(c2, total, time.Second)
	closed := make(chan time.Duration, 1)
	go func() {
		t0 := time.Now()
		f.srv.Close()
		closed <- time.Since(t0)
	}()
	select {
	case d := <-closed:
		t.Logf("Close with a non-reading pipelining client took %v", d)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5 s with a non-reading client connected")
	}
}

// TestWriteTimeoutDropsNonReader: a client that stays connected and never reads is dropped after
// WriteTimeout.
func TestWriteTimeoutDropsNonReader(t *testing.T) {
	f := start(t, withBigEntry(newMemBackend()), ldapsrv.Options{Limits: ldapsrv.Limits{MaxOutstanding: 8, WriteTimeout: 200 * time.Millisecond}})
	c := dialSmallWindow(t, f.srv.LDAPAddr())
	pipeline(c, 200_000, time.Second)
	waitConns(t, f.srv, 0)
	f.served(t)
}

// waitConns waits until the server has n connections; failBound turns a hang into a failure.
func waitConns(t *testing.T, srv *ldapsrv.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(failBound)
	for srv.ConnCount() != n {
		if time.Now().After(deadline) {
			t.Fatalf("server still has %d connections after %v, want %d", srv.ConnCount(), failBound, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
