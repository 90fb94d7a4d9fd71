package kdc_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/gmsasim/gmsasim/fakead"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// frame prefixes msg with its 4-byte length.
func frame(msg []byte) []byte {
	out := make([]byte, 4+len(msg))
	binary.BigEndian.PutUint32(out, uint32(len(msg)))
	copy(out[4:], msg)
	return out
}

// roundTripTCP sends raw bytes on a new connection and reads one framed reply, or reports that
// the server closed the connection without one.
func roundTripTCP(t *testing.T, addr string, raw []byte) (reply []byte, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(raw); err != nil {
		return nil, true
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return nil, true
	}
	reply = make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatalf("short reply: %v", err)
	}
	return reply, false
}

func TestServerTCPFraming(t *testing.T) {
	f := newFixture(t)
	addr := f.srv.TCPAddr().String()
	as := marshalAS(t, asReq(t, "alice", []int32{18}, nil, time.Time{}))
	// Two requests pipelined on one connection: two replies, in order.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(append(frame(as), frame(as)...)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		var hdr [4]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		io.ReadFull(c, b)
		var e messages.KRBError
		if err := e.Unmarshal(b); err != nil || e.ErrorCode != 25 {
			t.Fatalf("reply %d: %v code %d", i, err, e.ErrorCode)
		}
	}
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"text", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"length past the bound", []byte{0x00, 0x10, 0x00, 0x01, 0x6a}},
		{"extension bit", []byte{0x80, 0x00, 0x00, 0x04, 1, 2, 3, 4}},
		{"zero length", []byte{0, 0, 0, 0}},
		{"framed garbage", frame([]byte{0x30, 0x03, 0x02, 0x01, 0x05})},
	} {
		if reply, closed := roundTripTCP(t, addr, tc.raw); !closed {
			t.Errorf("%s: got a reply %x, want the connection closed", tc.name, reply)
		}
	}
	// A framed but malformed AS-REQ gets KRB_ERR_GENERIC.
	reply, closed := roundTripTCP(t, addr, frame([]byte{0x6a, 0x03, 0x30, 0x01, 0x00}))
	if closed {
		t.Fatal("malformed AS-REQ: no reply")
	}
	var e messages.KRBError
	if err := e.Unmarshal(reply); err != nil || e.ErrorCode != 60 {
		t.Errorf("malformed AS-REQ: %v code %d, want 60", err, e.ErrorCode)
	}
	// The server still answers afterwards.
	if reply, closed := roundTripTCP(t, addr, frame(as)); closed || reply[0] != 0x7e {
		t.Errorf("after garbage: closed=%v", closed)
	}
}

// Requests larger than the connection's read buffer, pipelined around smaller ones, and one
// sent a byte at a time are each answered, in order.
func TestServerTCPLargeAndSplit(t *testing.T) {
	f := newFixture(t)
	addr := f.srv.TCPAddr().String()
	small := marshalAS(t, asReq(t, "alice", []int32{18}, nil, time.Time{}))
	r := asReq(t, "alice", []int32{18}, nil, time.Time{})
	r.PAData = append(r.PAData, types.PAData{PADataType: 149, PADataValue: bytes.Repeat([]byte{7}, 9000)})
	big := marshalAS(t, r)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(slices.Concat(frame(small), frame(big), frame(small), frame(big))); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if code := readKRBError(t, c, fmt.Sprintf("pipelined reply %d", i)); code != 25 {
			t.Errorf("pipelined reply %d: code %d, want 25", i, code)
		}
	}
	for _, b := range frame(small) {
		if _, err := c.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	if code := readKRBError(t, c, "a byte at a time"); code != 25 {
		t.Errorf("a byte at a time: code %d, want 25", code)
	}
}

func TestServerUDP(t *testing.T) {
	f := newFixture(t)
	c, err := net.Dial("udp", f.srv.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Garbage gets no answer; the next request does. UDP delivery on loopback is reliable, and the
	// server answers datagrams in order, so the first reply read belongs to the second datagram.
	c.Write([]byte("garbage"))
	c.Write(marshalAS(t, asReq(t, "alice", []int32{18}, nil, time.Time{})))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	var e messages.KRBError
	if err := e.Unmarshal(buf[:n]); err != nil || e.ErrorCode != 25 {
		t.Fatalf("%v code %d", err, e.ErrorCode)
	}
}

// A stopped DC's KDC does not answer; a panicking executor ends one connection only.
func TestServerExecFailures(t *testing.T) {
	w := newWorld(t)
	k := newKDC(t, w)
	var mu sync.Mutex
	mode := "ok"
	srv, err := kdc.NewServer(kdc.ServerConfig{KDC: k, Exec: func(fn func(now time.Time) error) error {
		mu.Lock()
		m := mode
		mu.Unlock()
		switch m {
		case "stopped":
			return errors.New("the domain controller DC1 is stopped")
		case "panic":
			panic("executor broke")
		}
		return worldExec(w)(fn)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	req := frame(marshalAS(t, asReq(t, "alice", []int32{18}, nil, time.Time{})))
	for _, m := range []string{"stopped", "panic", "ok"} {
		mu.Lock()
		mode = m
		mu.Unlock()
		_, closed := roundTripTCP(t, srv.TCPAddr().String(), req)
		if closed != (m != "ok") {
			t.Errorf("%s: closed=%v", m, closed)
		}
	}
}

// Close returns while a client holds a half-sent frame, and Listen afterwards is refused.
func TestServerClose(t *testing.T) {
	f := newFixture(t)
	c, err := net.Dial("tcp", f.srv.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{0, 0, 1, 0, 0x6a}) // announces 256 bytes, sends 1
	// The write above is in the server's socket buffer before Close; Close must not wait for the
	// rest of the frame.
	if err := f.srv.Close(); err != nil && !strings.Contains(err.Error(), "closed") {
		t.Fatalf("close: %v", err)
	}
	if err := f.srv.ListenTCP("127.0.0.1:0"); !errors.Is(err, kdc.ErrServerClosed) {
		t.Errorf("listen after close: %v", err)
	}
	var buf [1]byte
	if _, err := c.Read(buf[:]); err == nil {
		t.Error("the connection is still open after Close")
	}
}

// krb5.conf lists every KDC of the realm in the order given (the DCs' order: clients try the first
// and fail over to the next), and gokrb5 reads them back in that order.
func TestWriteKrb5Conf(t *testing.T) {
	var b strings.Builder
	if err := kdc.WriteKrb5Conf(&b, "contoso.com", []string{"127.0.0.1:3088", "127.0.0.1:3089", "127.0.0.1:3090"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"default_realm = CONTOSO.COM", "dns_lookup_kdc = false",
		"kdc = 127.0.0.1:3088\n\t\tkdc = 127.0.0.1:3089\n\t\tkdc = 127.0.0.1:3090\n\t\tadmin_server = 127.0.0.1:3088\n",
		"default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96", ".contoso.com = CONTOSO.COM"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("krb5.conf lacks %q:\n%s", want, b.String())
		}
	}
	cfg, err := config.NewFromString(b.String())
	if err != nil {
		t.Fatalf("gokrb5 does not parse krb5.conf: %v", err)
	}
	// Realms[].KDC, not GetKDCs, which shuffles the list (gokrb5 picks a KDC at random).
	var kdcs []string
	for _, r := range cfg.Realms {
		if r.Realm == "CONTOSO.COM" {
			kdcs = r.KDC
		}
	}
	if want := []string{"127.0.0.1:3088", "127.0.0.1:3089", "127.0.0.1:3090"}; !slices.Equal(kdcs, want) {
		t.Errorf("gokrb5 reads the KDCs %v, want %v in that order", kdcs, want)
	}
	if err := kdc.WriteKrb5Conf(&b, "contoso.com", nil); err == nil {
		t.Error("WriteKrb5Conf with no KDC: no error")
	}
}

// A reply too big for a datagram becomes KRB_ERR_RESPONSE_TOO_BIG over UDP; the client retries
// over TCP and gets it.
func TestServerUDPResponseTooBig(t *testing.T) {
	f := newFixture(t)
	err := f.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		for i := 0; i < 40; i++ {
			if err := d.Add(now, fakead.SystemCaller, fmt.Sprintf("CN=Team %02d,%s", i, users), []fakead.Attribute{
				attr("objectClass", "group"), attr("sAMAccountName", fmt.Sprintf("Team %02d", i)),
				attr("member", "CN=alice,"+users)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := f.login("alice", pwAlice, false) // UDP first
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, _, err := cl.GetServiceTicket("http/ITFarm1.contoso.com"); err != nil {
		t.Fatalf("service ticket: %v", err)
	}
	// The TGS-REQ carries the big TGT: past udp_preference_limit, gokrb5 sends it over TCP at once.
	want := []string{
		"AS alice@CONTOSO.COM -> krbtgt/CONTOSO.COM: KDC_ERR_PREAUTH_REQUIRED (25)",
		"AS alice@CONTOSO.COM -> krbtgt/CONTOSO.COM: KRB_ERR_RESPONSE_TOO_BIG (52)",
		"AS alice@CONTOSO.COM -> krbtgt/CONTOSO.COM: ok",
		"TGS alice@CONTOSO.COM -> http/ITFarm1.contoso.com: ok",
	}
	if got := f.traceLines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
