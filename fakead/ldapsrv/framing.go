package ldapsrv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
)

// The framing layer. vjeantet/ldapserver reads PDUs with a single bufio Read per field, ignores
// short reads and panics (killing the process) on a first byte other than 0x30; goldap silently
// drops what it cannot decode. framedConn sits between the socket and the library: it reads each
// PDU whole with io.ReadFull, checks it, rewrites it into bytes goldap decodes (normalize.go) and
// hands the library first the PDU's header, then its body, each in one Read, so the library's
// bufio.Reader never sees a partial field. Whatever it refuses closes the connection with a Notice
// of Disconnection (RFC 4511 4.4.1); nothing reaches the library that it would drop or crash on.

// errFraming is what Read returns when the connection must close: the library then winds the
// connection down (waits for running handlers, flushes their responses, calls Close).
var errFraming = errors.New("ldapsrv: connection closed by the framing layer")

// noticeOfDisconnection is the unsolicited notification's OID (RFC 4511 4.4.1).
const noticeOfDisconnection = "1.3.6.1.4.1.1466.20036"

// framedConn is the net.Conn the library sees. Its embedded Conn is the TCP connection (deadlines,
// addresses); cur is what bytes flow over: the TCP connection, or TLS over it after StartTLS or
// on the LDAPS port.
type framedConn struct {
	net.Conn // raw TCP connection
	st       *connState
	lim      *Limits
	start    time.Time // accepted (wall clock: the socket limits are real time)

	lastActive atomic.Int64 // time.Duration since start of the last byte read or written
	gotFirst   atomic.Bool  // a complete request has been read (InitRecvTimeout no longer applies)
	dead       atomic.Bool  // the transport failed or was killed: nothing more can be written
	evicted    atomic.Bool  // closed to admit a new connection at MaxConnections

	mu       sync.Mutex
	cur      net.Conn
	notice   []byte        // Notice of Disconnection to write on close
	switchID int           // StartTLS: message ID whose response must be on the wire first
	switchCh chan struct{} // closed once that response is written
	gate     chan struct{} // a bind is being handled: the reader waits (its answer may install a SASL layer)
	// gateBinds arms the gate for every bind: set when the Backend accepts Kerberos or NTLM (only
	// then can a bind install a security layer). Immutable after creation.
	gateBinds bool
	done      chan struct{} // closed when the connection is closed or killed
	doneOnce  sync.Once

	// The worker goroutine that runs the connection's requests (worker.go), started with the first.
	workerOnce sync.Once
	work       chan *request
	workDone   chan struct{}

	aborted  atomic.Bool
	writeErr bool   // guarded by mu: a write failed, the library's bufio.Writer will not call Write again
	wbuf     []byte // search entries not yet written (the writing goroutine only, then Close)
	// libPending counts the response messages handlers gave the library that its writer has not
	// yet passed to Write: while any are, nothing is answered inline (inline.go).
	libPending atomic.Int64
	inline     inlineState // the request being answered inline (reading goroutine only)
	encBuf     []byte      // responses encoded inline (encode.go), reused (reading goroutine only)
	rawOnce    sync.Once
	raw        syscall.RawConn // the TCP connection's, for rawio_linux.go (rawTCP)

	// Read side: only the library's reading goroutine touches these (StartTLS runs inline there).
	br       *bufio.Reader // over cur: one read syscall per PDU instead of two
	pending  []byte
	bodyNext []byte
}

func newFramedConn(st *connState, raw, cur net.Conn, lim *Limits) *framedConn {
	fc := &framedConn{Conn: raw, st: st, lim: lim, cur: cur, done: make(chan struct{}),
		start: time.Now()} // wallclock: socket limits (idle, first request, TLS handshake)
	fc.br = bufio.NewReaderSize(&deadlineReader{fc: fc, r: cur}, 4096)
	return fc
}

// Read returns the next PDU's header, then its body; each call returns at least one byte or an
// error, never (0, nil).
func (fc *framedConn) Read(p []byte) (n int, err error) {
	defer func() {
		// A bug in the framing layer must cost this connection only.
		if r := recover(); r != nil {
			fc.abort(fakead.Other, fmt.Sprintf("internal error reading the request: %v", r))
			n, err = 0, errFraming
		}
		if err != nil {
			fc.st.stopReading()
		}
	}()
	if len(p) == 0 {
		return 0, nil
	}
	if fc.aborted.Load() {
		return 0, errFraming
	}
	for len(fc.pending) == 0 { // pending stays empty when readPDU answered a request itself
		if len(fc.bodyNext) > 0 {
			fc.pending, fc.bodyNext = fc.bodyNext, nil
		} else if err := fc.st.waitRoom(); err != nil {
			return 0, err // killed or aborted while waiting for answers to be written
		} else if err := fc.waitGate(); err != nil {
			return 0, err
		} else if err := fc.readPDU(); err != nil {
			return 0, err
		}
	}
	n = copy(p, fc.pending)
	fc.pending = fc.pending[n:]
	return n, nil
}

// readPDU reads one whole PDU from the wire and queues it for the library, or answers it here
// (inline.go) and queues nothing.
func (fc *framedConn) readPDU() error {
	cur := fc.br
	var hdr [6]byte
	if _, err := io.ReadFull(cur, hdr[:2]); err != nil {
		return err // EOF between PDUs is a client going away; a partial header is truncation
	}
	if hdr[0] != 0x30 {
		return fc.protocolError(fmt.Sprintf("PDU starts with %#02x, not a SEQUENCE", hdr[0]))
	}
	length := int(hdr[1])
	if hdr[1] >= 0x80 {
		n := int(hdr[1] & 0x7f)
		if n == 0 || n > 4 {
			return fc.protocolError("PDU with an indefinite or oversized length")
		}
		if _, err := io.ReadFull(cur, hdr[2:2+n]); err != nil {
			return err
		}
		length = 0
		for _, c := range hdr[2 : 2+n] {
			length = length<<8 | int(c)
		}
	}
	if length < 0 || length > fc.lim.MaxReceiveBuffer {
		return fc.protocolError(fmt.Sprintf("PDU of %d bytes exceeds MaxReceiveBuffer (%d)", length, fc.lim.MaxReceiveBuffer))
	}
	pdu, err := readBody(cur, length)
	if err != nil {
		return err
	}
	out, info, err := preparePDU(pdu)
	if err != nil {
		return fc.protocolError(err.Error())
	}
	_, _, _, h, _, err := readHeader(out)
	if err != nil || len(out)-h >= 1<<24 { // the library parses at most 3 length octets safely
		return fc.protocolError("request too large after normalisation")
	}
	fc.gotFirst.Store(true)
	if fc.inlineable(info) {
		fc.serveInline(info)
		return nil
	}
	if info.op != opAbandon && info.op != opUnbind {
		fc.st.enqueue(info.msgID)
	}
	if info.op == opBind && fc.gateBinds {
		fc.armGate() // nothing more is read until the bind is answered (RFC 4511 4.2.1 allows no pipelining)
	}
	if info.op != opUnbind { // the library runs a handler for every other request
		fc.st.requestRead()
	}
	fc.pending, fc.bodyNext = out[:h], out[h:]
	return nil
}

// readBody reads a PDU body of length bytes and returns the whole PDU, its header re-encoded
// minimally. A body up to 64 KiB is read into one buffer of its exact size; a larger one grows with
// the data actually received, so a claimed length costs nothing until sent.
func readBody(r io.Reader, length int) ([]byte, error) {
	hdr := appendHeader(make([]byte, 0, 6), classUniversal, true, tagSequence, length)
	if length <= smallPDU {
		pdu := make([]byte, len(hdr)+length)
		copy(pdu, hdr)
		if _, err := io.ReadFull(r, pdu[len(hdr):]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF // truncated PDU
			}
			return nil, err
		}
		return pdu, nil
	}
	var buf bytes.Buffer
	buf.Grow(smallPDU + len(hdr))
	buf.Write(hdr)
	if _, err := io.CopyN(&buf, r, int64(length)); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF // truncated PDU
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

// smallPDU is the largest body readBody reads into a buffer of its claimed size at once.
const smallPDU = 64 << 10

// protocolError arranges a Notice of Disconnection with protocolError and ends reading.
func (fc *framedConn) protocolError(diag string) error {
	fc.setNotice(fakead.ProtocolError, diag)
	return errFraming
}

func (fc *framedConn) setNotice(code fakead.ResultCode, diag string) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.notice == nil {
		fc.notice = noticeBytes(code, diag)
	}
}

// abort ends the connection from a handler: reading stops at once (the library then winds the
// connection down and calls Close, which sends the notice).
func (fc *framedConn) abort(code fakead.ResultCode, diag string) {
	fc.setNotice(code, diag)
	fc.aborted.Store(true)
	// A deadline in the past unblocks a Read in progress, on TCP and TLS alike.
	_ = fc.Conn.SetReadDeadline(time.Unix(1, 0))
	fc.openGate()
	fc.st.wake()
}

// kill closes the transport under the library's feet (Server.Close).
func (fc *framedConn) kill() {
	fc.dead.Store(true)
	fc.aborted.Store(true)
	_ = fc.Conn.Close()
	fc.doneOnce.Do(func() { close(fc.done) })
	fc.openGate()
	fc.st.wake()
}

// writeFailed ends a connection whose transport cannot take a response (the client went away,
// or did not read for WriteTimeout): reading stops, the handlers still queued skip their work,
// and the library's writer drains what is left without blocking (its bufio.Writer keeps the
// error).
func (fc *framedConn) writeFailed() {
	fc.dead.Store(true)
	fc.aborted.Store(true)
	_ = fc.Conn.SetReadDeadline(time.Unix(1, 0))
	fc.openGate()
	fc.st.wake()
}

// armGate holds the reader back from the next PDU until openGate: a bind's answer may switch the
// transport to a SASL layer, and the client's next bytes must be read through it.
func (fc *framedConn) armGate() {
	fc.mu.Lock()
	fc.gate = make(chan struct{})
	fc.mu.Unlock()
}

// openGate releases the reader (the bind handler returned, or the connection is ending).
func (fc *framedConn) openGate() {
	fc.mu.Lock()
	if fc.gate != nil {
		close(fc.gate)
		fc.gate = nil
	}
	fc.mu.Unlock()
}

func (fc *framedConn) waitGate() error {
	fc.mu.Lock()
	g := fc.gate
	fc.mu.Unlock()
	if g != nil {
		select {
		case <-g:
		case <-fc.done:
		}
	}
	if fc.aborted.Load() {
		return errFraming
	}
	return nil
}

// Write writes one response message (the library flushes each message in one Write) and signals a
// pending StartTLS switch once its response is on the wire.
func (fc *framedConn) Write(p []byte) (int, error) {
	n, err := fc.write(p)
	fc.libWritten()
	return n, err
}

// write writes one response message: the library's (Write) or one answered inline (inline.go).
func (fc *framedConn) write(p []byte) (int, error) {
	fc.mu.Lock()
	cur, sw, swID := fc.cur, fc.switchCh, fc.switchID
	fc.mu.Unlock()
	orig := len(p)
	p, info, ok := inspectResponse(p)
	// Search entries wait for the message that follows them (the search's done, at the latest),
	// so a search costs one write, not one per entry. Bounded; flushed on close.
	if ok && (info.op == 4 || info.op == 19) && len(fc.wbuf)+len(p) <= maxWriteBuffer {
		fc.wbuf = append(fc.wbuf, p...)
		return orig, nil
	}
	joined := len(fc.wbuf) > 0
	if joined {
		p = append(fc.wbuf, p...)
		fc.wbuf = nil
	}
	if joined && cap(p) <= keepBuffer {
		defer func() { fc.wbuf = p[:0] }() // ours, and free once written: reused for the next entries
	}
	var n int
	var err error
	if fc.dead.Load() {
		err = errFraming // fail fast, and through the same release of a StartTLS switch below
	} else {
		// A client that does not read must not hold the writer (and through it every handler
		// and the reader) forever.
		_ = fc.Conn.SetWriteDeadline(time.Now().Add(fc.lim.WriteTimeout)) // wallclock: socket deadline
		if tc, rc := fc.rawTCP(cur); rc != nil {
			n, err = writeTCP(tc, rc, p)
		} else {
			n, err = cur.Write(p)
		}
	}
	if err == nil {
		n = orig // the caller's bytes are all written; the fix-up and buffered entries are ours
		fc.touch()
	} else {
		n = min(n, orig-1)
		fc.writeFailed()
	}
	if err != nil || sw != nil && ok && info.msgID == swID {
		// The StartTLS response is out, or nothing more will be written: release the handler.
		fc.mu.Lock()
		fc.writeErr = fc.writeErr || err != nil
		ch := fc.switchCh
		fc.switchCh = nil
		fc.mu.Unlock()
		if ch != nil {
			close(ch)
		}
	}
	return n, err
}

// rawTCP returns c as a TCP connection with its raw connection (rawio_linux.go) when c is the
// accepted TCP connection itself (not TLS, not a SASL layer), else nil.
func (fc *framedConn) rawTCP(c net.Conn) (*net.TCPConn, syscall.RawConn) {
	tc, ok := c.(*net.TCPConn)
	if !ok || c != fc.Conn {
		return nil, nil
	}
	fc.rawOnce.Do(func() {
		if rc, err := tc.SyscallConn(); err == nil {
			fc.raw = rc
		}
	})
	return tc, fc.raw
}

// maxWriteBuffer bounds the search entries held back for one write.
const maxWriteBuffer = 64 << 10

// armSwitch registers the StartTLS response's message ID; the returned channel closes once it has
// been written.
func (fc *framedConn) armSwitch(id int) <-chan struct{} {
	ch := make(chan struct{})
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.writeErr {
		close(ch) // the response will never be written; the handshake then fails on the dead peer
		return ch
	}
	fc.switchID, fc.switchCh = id, ch
	return ch
}

// tlsTransport is what a StartTLS handshake runs over: the TCP connection, preceded by whatever
// the read buffer already holds (a client that sent its ClientHello without waiting).
func (fc *framedConn) tlsTransport() net.Conn {
	if fc.br.Buffered() == 0 {
		return fc.Conn
	}
	buffered, _ := fc.br.Peek(fc.br.Buffered())
	return &prefixConn{Conn: fc.Conn, prefix: append([]byte(nil), buffered...)}
}

// setCurrent switches the transport to c (TLS after StartTLS). Called from the reading goroutine.
func (fc *framedConn) setCurrent(c net.Conn) {
	fc.mu.Lock()
	fc.cur = c
	fc.mu.Unlock()
	fc.br = bufio.NewReaderSize(&deadlineReader{fc: fc, r: c}, 4096)
}

// prefixConn reads prefix before the connection.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// Close is called by the library once every handler of the connection has returned and every
// response has been written. It sends a pending Notice of Disconnection, closes TLS and TCP and
// tells the server this connection is gone.
func (fc *framedConn) Close() error {
	fc.mu.Lock()
	cur, notice := fc.cur, fc.notice
	fc.notice = nil
	fc.mu.Unlock()
	if pending := append(fc.wbuf, notice...); len(pending) > 0 && !fc.isDone() && !fc.dead.Load() {
		_ = fc.Conn.SetWriteDeadline(time.Now().Add(fc.lim.WriteTimeout)) // wallclock: socket deadline
		_, _ = cur.Write(pending)
	}
	var err error
	if cur != fc.Conn && !fc.isDone() && !fc.dead.Load() {
		err = cur.Close() // close_notify: crypto/tls bounds its write itself (5 s)
	}
	_ = fc.Conn.Close()
	fc.doneOnce.Do(func() { close(fc.done) })
	fc.st.closed()
	return err
}

func (fc *framedConn) isDone() bool {
	select {
	case <-fc.done:
		return true
	default:
		return false
	}
}

// inspectResponse reads an encoded LDAPMessage's messageID and protocolOp tag, and repairs
// goldap's INTEGER encoder, which writes the minimal number of octets without a sign octet:
// message ID 128 goes out as 0x80, which every client reads as -128, so it never matches the
// request and the client hangs (go-ldap's 128th request on a connection). The message IDs of
// responses are the only INTEGERs goldap writes for us that can have the top bit set (result
// codes are below 128), so each message written gets its messageID re-encoded here. ok is false
// (and p unchanged) when p is not one whole LDAPMessage.
func inspectResponse(p []byte) (out []byte, info pduInfo, ok bool) {
	_, _, _, h, l, err := readHeader(p)
	if err != nil || h+l != len(p) || h >= len(p) {
		return p, info, false
	}
	class, constructed, tag, h2, l2, err := readHeader(p[h:])
	idEnd := h + h2 + l2
	if err != nil || class != classUniversal || constructed || tag != tagInteger || l2 == 0 || idEnd >= len(p) {
		return p, info, false
	}
	id := p[h+h2 : idEnd]
	info.op = int(p[idEnd] & 0x1f)
	if id[0]&0x80 == 0 {
		v, err := parseInt(id)
		info.msgID = int(v)
		return p, info, err == nil
	}
	fixed := append([]byte{0}, id...)
	v, err := parseInt(fixed)
	info.msgID = int(v)
	out = appendHeader(make([]byte, 0, len(p)+6), classUniversal, true, tagSequence, l-h2-l2+2+len(fixed))
	out = appendTLV(out, classUniversal, false, tagInteger, fixed)
	return append(out, p[idEnd:]...), info, err == nil
}

// noticeBytes encodes a Notice of Disconnection: messageID 0, an ExtendedResponse with the code.
func noticeBytes(code fakead.ResultCode, diag string) []byte {
	op := berSeq(classApplication, 24,
		berInt(classUniversal, tagEnumerated, int64(code)),
		berString(""),
		berString(diag),
		berOctets(classContext, 10, []byte(noticeOfDisconnection)))
	return berSeq(classUniversal, tagSequence, berInt(classUniversal, tagInteger, 0), op)
}
