package ldapsrv

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/gmsasim/gmsasim/gss"
)

// The SASL security layer (RFC 4752 3.3, RFC 4422 3.7; [MS-ADTS] 5.1.2.1): after a bind that
// negotiated integrity or confidentiality, every LDAP PDU in both directions travels in SASL
// buffers — a 4-octet big-endian length, then an RFC 4121 wrap token, signed or sealed. The
// framing layer switches to it like it switches to TLS: after the successful BindResponse is on
// the wire (setLayer), with the reader held back until then (the bind gate, framing.go). Incoming
// buffers are bounded by MaxReceiveBuffer (what the bind offered); a malformed, forged, replayed
// or reordered token closes the connection with a Notice of Disconnection (protocolError).

// securityLayer is a connection's installed layer: RFC 4121 wrap tokens after a Kerberos bind
// (saslLayer), NTLM session security after an NTLM one (ntlmLayer, ntlmbind.go). Both frame each
// buffer with a 4-octet big-endian length.
type securityLayer interface {
	// wrap protects p (one or more whole LDAP messages) as one or more length-prefixed buffers.
	wrap(p []byte) ([]byte, error)
	// unwrap opens one incoming buffer (without its length).
	unwrap(buf []byte) ([]byte, error)
	// bufferLimits bounds an incoming buffer's length.
	bufferLimits() (minLen, maxLen int)
	// encrypts reports whether the layer seals (counts as encrypted for msDS-ManagedPassword).
	encrypts() bool
}

// saslLayer is one connection's installed Kerberos layer.
type saslLayer struct {
	seal   bool
	maxOut int // the peer's receive limit: no buffer we send is larger
	maxIn  int // our limit

	mu   sync.Mutex  // the writer goroutine and Close
	send gss.Context // the writer's copy of the context: its sequence numbers

	// Read side: the reading goroutine only.
	recv    gss.Context
	inSeq   uint64
	inKnown bool // GSS-SPNEGO: the initiator's first sequence number is learnt from its first token
}

func newSASLLayer(sb *saslBind, seal bool, maxOut, maxIn int) *saslLayer {
	return &saslLayer{seal: seal, maxOut: maxOut, maxIn: maxIn, send: sb.gss, recv: sb.gss}
}

func (l *saslLayer) bufferLimits() (int, int) { return gss.HeaderLen, l.maxIn }
func (l *saslLayer) encrypts() bool           { return l.seal }

// sealOverhead bounds what a wrap token adds to its payload: the header, and for a sealed token
// the confounder, the encrypted header copy and the integrity tag (AES: 16+16+12); for a signed
// one the checksum.
const sealOverhead = gss.HeaderLen + 16 + gss.HeaderLen + 16

// wrap protects p in as many SASL buffers as the peer's limit needs.
func (l *saslLayer) wrap(p []byte) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	chunk := max(l.maxOut-4-sealOverhead, 1)
	var out []byte
	for len(p) > 0 {
		n := min(len(p), chunk)
		tok, err := l.send.Wrap(p[:n], l.seal)
		if err != nil {
			return nil, err
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(tok)))
		out = append(out, tok...)
		p = p[n:]
	}
	return out, nil
}

// unwrap opens one incoming token, checking its protection and its sequence number.
func (l *saslLayer) unwrap(tok []byte) ([]byte, error) {
	payload, sealed, err := l.recv.Unwrap(tok)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errGSS, err)
	}
	if l.seal && !sealed {
		return nil, fmt.Errorf("%w: an unsealed token on a sealed connection", errGSS)
	}
	if seq := l.recv.RecvSeq - 1; l.inKnown && seq != l.inSeq {
		return nil, fmt.Errorf("%w: sequence number %d, want %d", errGSS, seq, l.inSeq)
	}
	l.inSeq, l.inKnown = l.recv.RecvSeq, true
	return payload, nil
}

// saslConn is the transport the framing layer writes to once a layer is installed: every Write
// (one or more whole LDAP messages) goes out wrapped.
type saslConn struct {
	net.Conn // the TCP connection (a layer is never combined with TLS)
	l        securityLayer
}

func (c *saslConn) Write(p []byte) (int, error) {
	b, err := c.l.wrap(p)
	if err != nil {
		return 0, err
	}
	if _, err := c.Conn.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// saslReader unwraps SASL buffers into the LDAP byte stream the framing layer reads.
type saslReader struct {
	fc  *framedConn
	src *bufio.Reader // over the deadline reader over TCP
	l   securityLayer
	buf []byte
}

func (s *saslReader) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		var h [4]byte
		if _, err := io.ReadFull(s.src, h[:]); err != nil {
			return 0, err
		}
		n := int(binary.BigEndian.Uint32(h[:]))
		if lo, hi := s.l.bufferLimits(); n > hi || n < lo {
			return 0, s.fc.protocolError(fmt.Sprintf("SASL buffer of %d bytes (limits %d..%d)", n, lo, hi))
		}
		tok := make([]byte, 0, min(n, 64<<10))
		var bb = sliceWriter{b: tok}
		if _, err := io.CopyN(&bb, s.src, int64(n)); err != nil {
			if err == io.EOF {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		out, err := s.l.unwrap(bb.b)
		if err != nil {
			return 0, s.fc.protocolError("SASL security layer: " + err.Error())
		}
		s.buf = out
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// sliceWriter grows with the bytes actually received, so a claimed length costs nothing until sent.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// setLayer installs a SASL layer on both directions. Called by the bind handler once its
// BindResponse is written, while the reader waits at the bind gate.
func (fc *framedConn) setLayer(l securityLayer) {
	src := bufio.NewReaderSize(&deadlineReader{fc: fc, r: fc.tlsTransport()}, 4096)
	fc.mu.Lock()
	fc.cur = &saslConn{Conn: fc.Conn, l: l}
	fc.mu.Unlock()
	fc.br = bufio.NewReaderSize(&saslReader{fc: fc, src: src, l: l}, 4096)
}
