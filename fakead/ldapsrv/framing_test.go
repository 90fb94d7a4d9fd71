package ldapsrv

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
)

// byteConn is a net.Conn reading from a fixed byte slice, for driving framedConn directly.
type byteConn struct {
	r   *bytes.Reader
	out bytes.Buffer
}

func (c *byteConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *byteConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *byteConn) Close() error                     { return nil }
func (c *byteConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *byteConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *byteConn) SetDeadline(time.Time) error      { return nil }
func (c *byteConn) SetReadDeadline(time.Time) error  { return nil }
func (c *byteConn) SetWriteDeadline(time.Time) error { return nil }
func newByteFramed(b []byte, maxPDU int) *framedConn {
	bc := &byteConn{r: bytes.NewReader(b)}
	srv := New(nil, Options{Limits: Limits{MaxReceiveBuffer: maxPDU}})
	st := newConnState(srv, false)
	fc := newFramedConn(st, bc, bc, &srv.lim)
	st.fc = fc
	return fc
}

// readAllPDUs reads PDUs through fc the way the library does (a bufio.Reader: header bytes one
// at a time, then the body in one Read) and checks the framing contract on every call.
func readAllPDUs(t testing.TB, fc *framedConn) (pdus [][]byte, err error) {
	br := bufio.NewReader(&contractReader{t: t, fc: fc})
	for {
		var pdu []byte
		b, err := br.ReadByte()
		if err != nil {
			return pdus, err
		}
		if b != 0x30 {
			t.Fatalf("framing handed the library first byte %#x", b)
		}
		pdu = append(pdu, b)
		l, err := br.ReadByte()
		if err != nil {
			t.Fatalf("header cut after its first byte: %v", err)
		}
		pdu = append(pdu, l)
		length := int(l)
		if l >= 0x80 {
			length = 0
			for i := 0; i < int(l&0x7f); i++ {
				c, err := br.ReadByte()
				if err != nil {
					t.Fatalf("header cut: %v", err)
				}
				pdu = append(pdu, c)
				length = length<<8 | int(c)
			}
		}
		body := make([]byte, length)
		// One Read, as the library does: it must return the whole body.
		n, err := br.Read(body)
		if length > 0 && (n != length || err != nil) {
			t.Fatalf("body read returned %d of %d bytes, %v", n, length, err)
		}
		pdu = append(pdu, body...)
		if !goldapDecodes(pdu) {
			t.Fatalf("framing passed a PDU goldap cannot decode: %x", pdu)
		}
		pdus = append(pdus, pdu)
	}
}

type contractReader struct {
	t  testing.TB
	fc *framedConn
}

func (c *contractReader) Read(p []byte) (int, error) {
	n, err := c.fc.Read(p)
	if n == 0 && err == nil && len(p) > 0 {
		c.t.Fatal("framedConn.Read returned (0, nil)")
	}
	return n, err
}

func TestFramingPassesLargeAndNormalisedPDUs(t *testing.T) {
	// A 70 KB add split nowhere in particular, then a search with typesOnly TRUE as 0x01.
	big := bytes.Repeat([]byte{'x'}, 70<<10)
	add := berSeq(classUniversal, tagSequence, berInt(classUniversal, tagInteger, 1),
		berSeq(classApplication, opAdd, berString("cn=big"), berSeq(classUniversal, tagSequence,
			berSeq(classUniversal, tagSequence, berString("description"),
				berSeq(classUniversal, tagSet, berOctets(classUniversal, tagOctetString, big))))))
	search := berSeq(classUniversal, tagSequence, berInt(classUniversal, tagInteger, 2),
		berSeq(classApplication, opSearch, berString(""), berInt(classUniversal, tagEnumerated, 0),
			berInt(classUniversal, tagEnumerated, 0), berInt(classUniversal, tagInteger, 0),
			berInt(classUniversal, tagInteger, 0), []byte{0x01, 0x01, 0x01},
			berOctets(classContext, filterTagPres, []byte("objectClass")), berSeq(classUniversal, tagSequence)))
	fc := newByteFramed(append(add, search...), MaxReceiveBufferLimit)
	pdus, err := readAllPDUs(t, fc)
	if !errors.Is(err, io.EOF) || len(pdus) != 2 {
		t.Fatalf("got %d PDUs, %v; want 2 then EOF", len(pdus), err)
	}
	if !bytes.Equal(pdus[0], add) {
		t.Fatal("a decodable PDU was altered")
	}
	if bytes.Equal(pdus[1], search) || !bytes.Contains(pdus[1], []byte{0x01, 0x01, 0xff}) {
		t.Fatalf("typesOnly 0x01 not normalised: %x", pdus[1])
	}
	if got := fc.st.queue; len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("queue = %v, want [1 2]", got)
	}
}

func TestFramingRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		in     []byte
		notice bool
	}{
		{"not a sequence", []byte{0x31, 0x00}, true},
		{"zero-length body", []byte{0x30, 0x00}, true},
		{"over MaxReceiveBuffer", append([]byte{0x30, 0x82, 0x10, 0x00}, make([]byte, 4096)...), true},
		{"truncated body", []byte{0x30, 0x05, 0x02, 0x01}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fc := newByteFramed(c.in, 1024)
			pdus, err := readAllPDUs(t, fc)
			if len(pdus) != 0 || err == nil || errors.Is(err, io.EOF) && c.notice {
				t.Fatalf("pdus %d, err %v", len(pdus), err)
			}
			if (fc.notice != nil) != c.notice {
				t.Fatalf("notice %x, want notice=%v", fc.notice, c.notice)
			}
			if !fc.st.readerDone {
				t.Fatal("reader not marked done")
			}
		})
	}
	n := noticeBytes(fakead.ProtocolError, "x")
	if out, info, ok := inspectResponse(n); !ok || info.msgID != 0 || info.op != 24 || !bytes.Equal(out, n) {
		t.Fatalf("notice inspected as %+v, %v", info, ok)
	}
	// goldap's encoding of message ID 128 (0x80, i.e. -128) is repaired to 0x00 0x80.
	bad := []byte{0x30, 0x0c, 0x02, 0x01, 0x80, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}
	want := []byte{0x30, 0x0d, 0x02, 0x02, 0x00, 0x80, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}
	if out, info, ok := inspectResponse(bad); !ok || info.msgID != 128 || info.op != 1 || !bytes.Equal(out, want) {
		t.Fatalf("repair of ID 128 = %x %+v %v", out, info, ok)
	}
}

// FuzzFraming feeds raw bytes to the framing layer: it must never panic, never return (0, nil),
// and only ever hand on PDUs goldap decodes.
func FuzzFraming(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fc := newByteFramed(b, 1<<20)
		_, _ = readAllPDUs(t, fc)
	})
}

// fuzzSeeds are PDUs go-ldap v3.4.15 sent in the wire tests (captured with a recording proxy),
// plus hand-made edge cases.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, h := range capturedGoLDAP {
		seeds = append(seeds, unhex(h))
	}
	seeds = append(seeds, []byte{0x30, 0x00}, []byte{0x30, 0x80}, []byte("garbage"),
		[]byte{0x30, 0x84, 0x00, 0x00, 0x00, 0x05, 0x02, 0x01, 0x01, 0x42, 0x00})
	return seeds
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err) // generated seeds are valid hex
	}
	return b
}

// FuzzCheckTLV: checkTLV (no tree) accepts exactly what parseTLV accepts, with the same error.
func FuzzCheckTLV(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Add(bytes.Repeat([]byte{0x30, 0x80}, 70))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, perr := parseTLV(b)
		cerr := checkTLV(b)
		if (perr == nil) != (cerr == nil) || perr != nil && perr.Error() != cerr.Error() {
			t.Fatalf("parseTLV: %v, checkTLV: %v", perr, cerr)
		}
	})
}

// preparePDUTree is preparePDU as it was before checkTLV: the tree built for every PDU. The
// reference of FuzzPreparePDU.
func preparePDUTree(pdu []byte) ([]byte, pduInfo, error) {
	root, err := parseTLV(pdu)
	if err != nil {
		return nil, pduInfo{}, err
	}
	if root.class != classUniversal || !root.constructed || root.tag != tagSequence || len(root.children) < 2 {
		return nil, pduInfo{}, fmt.Errorf("%w: not an LDAPMessage", errBER)
	}
	idT, op := root.children[0], root.children[1]
	if idT.class != classUniversal || idT.constructed || idT.tag != tagInteger {
		return nil, pduInfo{}, fmt.Errorf("%w: bad messageID", errBER)
	}
	id, err := parseInt(idT.value)
	if err != nil || id < 0 || id > maxMessageID {
		return nil, pduInfo{}, fmt.Errorf("%w: messageID out of range", errBER)
	}
	info := pduInfo{msgID: int(id), op: op.tag}
	if op.class != classApplication {
		return nil, info, errNotRequest
	}
	switch op.tag {
	case opBind, opUnbind, opSearch, opModify, opAdd, opDelete, opModifyDN, opCompare, opAbandon, opExtended:
	default:
		return nil, info, errNotRequest
	}
	if goldapDecodes(pdu) {
		return pdu, info, nil
	}
	normalize(root)
	out := root.encode(make([]byte, 0, len(pdu)+8))
	if !goldapDecodes(out) {
		return nil, info, fmt.Errorf("%w: request goldap cannot decode", errBER)
	}
	return out, info, nil
}

// FuzzPreparePDU: preparePDU gives the bytes, message ID, operation and error the tree-based
// version gave, and a decoded message exactly when it succeeds.
func FuzzPreparePDU(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gi, gerr := preparePDU(b)
		want, wi, werr := preparePDUTree(b)
		if !bytes.Equal(got, want) || gi.msgID != wi.msgID || gi.op != wi.op ||
			(gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
			t.Fatalf("preparePDU = %x %+v %v, tree version %x %+v %v", got, gi, gerr, want, wi, werr)
		}
		if (gi.msg != nil || gi.bind != nil) != (gerr == nil) {
			t.Fatalf("decoded message %v with error %v", gi.msg != nil, gerr)
		}
	})
}
