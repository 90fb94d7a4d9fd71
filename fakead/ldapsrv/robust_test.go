package ldapsrv_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// rawExchange sends b on a fresh connection, half-closes unless keepOpen, and returns every LDAP
// message the server sent before closing. The deadline only turns a hang into a failure.
func rawExchange(t *testing.T, addr string, b []byte, closeWrite bool) (msgs []*ber.Packet, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		c.(*net.TCPConn).CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(clientTimeout))
	for {
		p, err := ber.ReadPacket(c)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("server neither answered nor closed: %d messages so far", len(msgs))
			}
			return msgs, true
		}
		msgs = append(msgs, p)
	}
}

// served checks that a fresh client still gets answers.
func (f *fixture) served(t *testing.T) {
	t.Helper()
	c := f.dial(t)
	if err := c.Bind(adminDN, adminPW); err != nil {
		t.Fatalf("fresh client not served: %v", err)
	}
	who, err := c.WhoAmI(nil)
	if err != nil || who.AuthzID != `u:CONTOSO\Administrator` {
		t.Fatalf("fresh client WhoAmI = %+v, %v", who, err)
	}
}

// resultOf returns (messageID, application tag, resultCode, diagnostic) of a response message.
func resultOf(t *testing.T, p *ber.Packet) (id int64, tag ber.Tag, code int64, diag string) {
	t.Helper()
	if len(p.Children) < 2 || len(p.Children[1].Children) < 3 {
		t.Fatalf("not an LDAPResult message: %s", ber.DecodeString(p.Bytes()))
	}
	op := p.Children[1]
	id, _ = p.Children[0].Value.(int64)
	code, _ = ber.ParseInt64(op.Children[0].Data.Bytes())
	return id, op.Tag, code, op.Children[2].Data.String()
}

func wantNotice(t *testing.T, msgs []*ber.Packet, code fakead.ResultCode) {
	t.Helper()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want one Notice of Disconnection", len(msgs))
	}
	id, tag, got, diag := resultOf(t, msgs[0])
	if id != 0 || tag != 24 || got != int64(code) {
		t.Fatalf("notice = id %d tag %d code %d (%s); want id 0 tag 24 code %d", id, tag, got, diag, code)
	}
	if !bytes.Contains(msgs[0].Bytes(), []byte("1.3.6.1.4.1.1466.20036")) {
		t.Fatal("notice without the Notice of Disconnection OID")
	}
}

func hexPDU(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func TestMalformedInputClosesOnlyThatConnection(t *testing.T) {
	f := startMem(t)
	addr := f.srv.LDAPAddr().String()
	var deep []byte
	{
		// (!(!(!...(cn=x)...))) 100 deep: goldap would recurse; the framing layer refuses.
		inner := hexPDU("a3 06 04 02 63 6e 04 00")
		for i := 0; i < 100; i++ {
			inner = append(append([]byte{0xa2}, berLen(len(inner))...), inner...)
		}
		body := append(hexPDU("02 01 01 63"), berLen(len(inner)+19)...)
		body = append(body, hexPDU("04 00 0a 01 00 0a 01 00 02 01 00 02 01 00 01 01 00")...)
		body = append(body, inner...)
		body = append(body, 0x30, 0x00)
		deep = append(append([]byte{0x30}, berLen(len(body))...), body...)
	}
	cases := []struct {
		name string
		in   []byte
		want fakead.ResultCode // -1: closed without a notice
	}{
		{"text", []byte("hello world\r\n"), fakead.ProtocolError},
		{"zero-length body", hexPDU("30 00"), fakead.ProtocolError},
		{"indefinite length", hexPDU("30 80 02 01 01 42 00 00 00"), fakead.ProtocolError},
		{"oversized claim", hexPDU("30 84 7f ff ff ff 02 01"), fakead.ProtocolError},
		{"response as request", hexPDU("30 0c 02 01 01 61 07 0a 01 00 04 00 04 00"), fakead.ProtocolError},
		{"unknown op", hexPDU("30 05 02 01 01 5e 00"), fakead.ProtocolError},
		{"trailing garbage", hexPDU("30 07 02 01 01 42 00 ff ff"), fakead.ProtocolError},
		{"nesting too deep", deep, fakead.ProtocolError},
		{"truncated PDU", hexPDU("30 20 02 01 01 60 1b 02 01 03"), -1},
		{"truncated header", hexPDU("30 84 00"), -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs, closed := rawExchange(t, addr, tc.in, true)
			if !closed {
				t.Fatal("connection stayed open")
			}
			if tc.want < 0 {
				if len(msgs) != 0 {
					t.Fatalf("got %d messages for a truncated PDU, want none", len(msgs))
				}
			} else {
				wantNotice(t, msgs, tc.want)
			}
			f.served(t)
		})
	}
}

func berLen(n int) []byte {
	switch {
	case n < 0x80:
		return []byte{byte(n)}
	case n < 0x100:
		return []byte{0x81, byte(n)}
	default:
		return []byte{0x82, byte(n >> 8), byte(n)}
	}
}

func TestDecodableOddities(t *testing.T) {
	f := startMem(t)
	addr := f.srv.LDAPAddr().String()
	// Sicily/NTLM discovery bind ([9]) to a Backend without NTLMAcceptor: a clean
	// authMethodNotSupported, not a hang.
	msgs, _ := rawExchange(t, addr, hexPDU("30 0c 02 01 05 60 07 02 01 03 04 00 89 00"), true)
	if len(msgs) != 1 {
		t.Fatalf("%d responses to a Sicily bind", len(msgs))
	}
	if id, tag, code, _ := resultOf(t, msgs[0]); id != 5 || tag != 1 || code != int64(fakead.AuthMethodNotSupported) {
		t.Fatalf("Sicily bind answered id %d tag %d code %d", id, tag, code)
	}
	// Windows-style 4-octet lengths with leading zeros (goldap refuses them as non-DER).
	msgs, _ = rawExchange(t, addr, hexPDU("30 84 00 00 00 10 02 01 07 60 84 00 00 00 07 02 01 03 04 00 80 00"), true)
	if len(msgs) != 1 {
		t.Fatalf("%d responses to a long-length bind", len(msgs))
	}
	if id, tag, code, _ := resultOf(t, msgs[0]); id != 7 || tag != 1 || code != 0 {
		t.Fatalf("long-length bind answered id %d tag %d code %d", id, tag, code)
	}
	// Pipelined requests, in one write: answered once each, in order; Abandon answered never.
	bind := hexPDU("30 0c 02 01 01 60 07 02 01 03 04 00 80 00")
	abandon := hexPDU("30 06 02 01 02 50 01 63")
	who := hexPDU("30 1e 02 01 03 77 19 80 17 31 2e 33 2e 36 2e 31 2e 34 2e 31 2e 34 32 30 33 2e 31 2e 31 31 2e 33")
	unbind := hexPDU("30 05 02 01 04 42 00")
	msgs, _ = rawExchange(t, addr, bytes.Join([][]byte{bind, abandon, who, bind, unbind}, nil), false)
	var ids []int64
	for _, m := range msgs {
		id, _, code, _ := resultOf(t, m)
		if code != 0 {
			t.Fatalf("pipelined message %d: code %d", id, code)
		}
		ids = append(ids, id)
	}
	if len(ids) != 3 || ids[0] != 1 || ids[1] != 3 || ids[2] != 1 {
		t.Fatalf("pipelined responses %v, want [1 3 1]", ids)
	}
	f.served(t)
}

// TestLargeMessageIDs: goldap encodes message ID 128 as 0x80 (-128); the server repairs it.
func TestLargeMessageIDs(t *testing.T) {
	f := startMem(t)
	for _, id := range []int64{127, 128, 255, 256, 32767, 32768, 65535, 8388608, 2147483647} {
		msgs, _ := rawExchange(t, f.srv.LDAPAddr().String(), searchPDU(id, ""), true)
		if len(msgs) != 2 {
			t.Fatalf("id %d: %d responses, want entry and done", id, len(msgs))
		}
		for _, m := range msgs {
			if got, _ := m.Children[0].Value.(int64); got != id {
				t.Fatalf("response to message %d carries ID %d", id, got)
			}
		}
	}
}

func TestAbruptDisconnectAndPanicContainment(t *testing.T) {
	b := newMemBackend()
	b.panicDN = "CN=boom," + baseDN
	f := start(t, b, ldapsrv.Options{})
	// A search sent and the socket gone before the answer.
	c, err := net.Dial("tcp", f.srv.LDAPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write(searchPDU(9, baseDN))
	c.Close()
	f.served(t)

	// A backend panic closes that connection with a notice; others go on.
	msgs, closed := rawExchange(t, f.srv.LDAPAddr().String(), searchPDU(4, b.panicDN), false)
	if !closed {
		t.Fatal("connection stayed open after a panic")
	}
	wantNotice(t, msgs, fakead.Other)
	victim := f.dial(t)
	if _, err := victim.Search(ldap.NewSearchRequest(b.panicDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil)); err == nil {
		t.Fatal("search that panicked the backend succeeded")
	}
	f.served(t)
}

// searchPDU encodes a base-object search for (cn=*) as a client would.
func searchPDU(id int64, base string) []byte {
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 3, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, base, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(0), ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(0), ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(0), ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(0), ""))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, ""))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 7, "cn", ""))
	op.AppendChild(ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, ""))
	msg.AppendChild(op)
	return msg.Bytes()
}

func TestCloseStopsEverything(t *testing.T) {
	f := startMem(t)
	addr := f.srv.LDAPAddr().String()
	idle := f.dial(t)
	if err := idle.Bind(adminDN, adminPW); err != nil {
		t.Fatal(err)
	}
	// A client in the middle of a PDU.
	half, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	half.Write(hexPDU("30 0c 02 01"))
	// A TLS client that never sends its ClientHello.
	mute, err := net.Dial("tcp", f.srv.LDAPSAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()

	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	half.SetReadDeadline(time.Now().Add(clientTimeout))
	if _, err := io.ReadAll(half); err != nil {
		// EOF (nil from ReadAll) or a reset (unread bytes at close) both mean closed; a timeout does not.
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("half-sent connection not closed: %v", err)
		}
	}
	if _, err := idle.WhoAmI(nil); err == nil {
		t.Fatal("idle client still answered after Close")
	}
	if c, err := net.DialTimeout("tcp", addr, clientTimeout); err == nil {
		c.SetReadDeadline(time.Now().Add(clientTimeout))
		n, _ := c.Read(make([]byte, 1))
		c.Close()
		t.Fatalf("listener still accepts after Close (read %d bytes)", n)
	}
	if err := f.srv.ListenLDAP("127.0.0.1:0"); !errors.Is(err, ldapsrv.ErrServerClosed) {
		t.Fatalf("ListenLDAP after Close = %v, want ErrServerClosed", err)
	}
}

func TestMaxReceiveBufferAndLargeRequestOverTLS(t *testing.T) {
	f := start(t, newMemBackend(), ldapsrv.Options{Limits: ldapsrv.Limits{MaxReceiveBuffer: 100 << 10}})
	big := strings.Repeat("y", 70<<10)
	add := ldap.NewAddRequest("CN=tls-big,CN=Users,"+baseDN, nil)
	add.Attribute("description", []string{big})
	s := f.dialTLS(t, "localhost")
	if err := s.Bind(adminDN, adminPW); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(add); err != nil {
		t.Fatalf("70 KB add over LDAPS: %v", err)
	}
	res, err := s.Search(ldap.NewSearchRequest("CN=tls-big,CN=Users,"+baseDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil))
	if err != nil || res.Entries[0].GetAttributeValue("description") != big {
		t.Fatalf("read back over LDAPS: %v", err)
	}
	// Over the limit: the connection is closed with a notice, and only that one.
	huge := ldap.NewAddRequest("CN=huge,CN=Users,"+baseDN, nil)
	huge.Attribute("description", []string{strings.Repeat("z", 200<<10)})
	c := f.dial(t)
	if err := c.Bind(adminDN, adminPW); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(huge); err == nil {
		t.Fatal("add over MaxReceiveBuffer succeeded")
	}
	f.served(t)
}

func TestPlainLDAPOnTheLDAPSPort(t *testing.T) {
	f := startMem(t)
	msgs, closed := rawExchange(t, f.srv.LDAPSAddr().String(), searchPDU(1, ""), true)
	if !closed || len(msgs) != 0 {
		t.Fatalf("plain LDAP on LDAPS: closed=%v, %d LDAP messages", closed, len(msgs))
	}
	f.served(t)
	if err := f.dialTLS(t, "localhost").Bind(adminDN, adminPW); err != nil {
		t.Fatalf("LDAPS after a plain client: %v", err)
	}
}
