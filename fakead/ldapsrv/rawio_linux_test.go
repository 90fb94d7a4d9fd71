package ldapsrv

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair is a connected pair of loopback TCP connections.
func tcpPair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); c.Close() })
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

// TestRawTCPIO: writeTCP delivers a write far larger than the socket buffers whole and in order
// (waiting while the peer reads slowly), readTCP reads it back, reports a read deadline as a
// timeout and the peer's close as io.EOF, and both fail on a closed connection.
func TestRawTCPIO(t *testing.T) {
	s, c := tcpPair(t)
	rs, err := s.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 8<<20)
	for i := range want {
		want[i] = byte(i * 7)
	}
	errc := make(chan error, 1)
	go func() {
		n, err := writeTCP(s, rs, want)
		if err == nil && n != len(want) {
			err = errors.New("short write")
		}
		errc <- err
	}()
	var got []byte
	buf := make([]byte, 3000)
	for len(got) < len(want) {
		n, err := readTCP(c, rc, buf)
		if err != nil {
			t.Fatalf("read after %d bytes: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
		if len(got) < 1<<20 {
			time.Sleep(time.Microsecond) // a slow reader at first: the writer must wait, not fail
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("writeTCP: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the bytes read differ from the bytes written")
	}

	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond)) // wallclock: the deadline under test
	var ne net.Error
	if _, err := readTCP(c, rc, buf); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	_ = c.SetReadDeadline(time.Time{})

	if n, err := writeTCP(s, rs, []byte("last")); n != 4 || err != nil {
		t.Fatalf("write = %d, %v", n, err)
	}
	s.Close()
	if n, err := readTCP(c, rc, buf); n != 4 || err != nil || string(buf[:4]) != "last" {
		t.Fatalf("read = %d %q, %v", n, buf[:n], err)
	}
	if n, err := readTCP(c, rc, buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed = %d, %v, want io.EOF", n, err)
	}
	c.Close()
	if _, err := readTCP(c, rc, buf); err == nil {
		t.Fatal("read on a closed connection succeeded")
	}
	if _, err := writeTCP(c, rc, []byte("x")); err == nil {
		t.Fatal("write on a closed connection succeeded")
	}
}
