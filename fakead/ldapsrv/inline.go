package ldapsrv

import (
	"fmt"
	"sync/atomic"

	goldap "github.com/lor00x/goldap/message"
	"github.com/vjeantet/ldapserver"

	"github.com/gmsasim/gmsasim/fakead"
)

// Answering on the reading goroutine. Through the library, a request costs three goroutines: the
// reader decodes it and starts a goroutine for it (with the runtime's smallest stack, grown by
// copying as the request goes down through the Backend), which hands each response to the writer
// goroutine. Every handoff wakes a thread, and the waking, the parking and the stack copies were
// most of the server's CPU per operation, more than the work itself. A connection's requests run
// one at a time in order anyway, so when the connection is quiet — nothing read and unanswered,
// nothing the library still has to write — a simple bind or a search without controls (what
// clients send most) is answered by the reading goroutine itself, before it reads the next PDU:
// the same handler code, the same goldap decoding (the one the framing layer already made) and
// encoding, the same Write. Everything else, and any request while the connection is busy (a
// client pipelining), goes through the library as before.
//
// An inline request cannot be abandoned once it runs (nothing more is read until it is answered);
// RFC 4511 4.11 lets a server complete an operation it was asked to abandon. Search entries are
// written by the reading goroutine, so a client that does not read blocks it as it blocked the
// library's writer, until WriteTimeout.

// inlineState is the request being answered inline (reading goroutine only).
type inlineState struct {
	cancel atomic.Bool // never set: an inline request is not abandonable
	m      ldapserver.Message
	w      inlineWriter
	r      request
}

// inlineable reports whether the request just read is answered inline: a simple bind or a search,
// without controls, on a connection with nothing outstanding (no handler queued or running, every
// response of the library's written), not closing.
func (fc *framedConn) inlineable(info pduInfo) bool {
	srv := fc.st.srv
	if srv.noInline || srv.testHookWriter != nil || fc.aborted.Load() || fc.dead.Load() {
		return false
	}
	switch {
	case info.bind != nil: // a simple bind without controls
	case info.msg == nil:
		return false
	default:
		switch op := info.msg.ProtocolOp().(type) {
		case goldap.SearchRequest:
		case goldap.BindRequest:
			if op.AuthenticationChoice() != "simple" {
				return false // SASL and NTLM binds gate the reader and may install a layer
			}
		default:
			return false
		}
		if info.msg.Controls() != nil {
			return false
		}
	}
	if fc.libPending.Load() != 0 {
		return false
	}
	return fc.st.idle()
}

// serveInline answers the request read with the handler code, on this goroutine. The request counts
// as outstanding meanwhile (idle checks, MaxConnections eviction), as through the library.
func (fc *framedConn) serveInline(info pduInfo) {
	fc.st.srv.inlined.Add(1)
	fc.st.requestRead()
	defer fc.st.requestDone()
	in := &fc.inline
	in.m = ldapserver.Message{LDAPMessage: info.msg}
	in.w = inlineWriter{fc: fc, id: info.msgID}
	in.r = request{s: fc.st.srv, st: fc.st, fc: fc, w: &in.w, m: &in.m, id: info.msgID, cancel: &in.cancel}
	if info.bind != nil {
		in.r.serveSimpleBind(info.bind)
	} else {
		in.r.serve()
	}
	in.r, in.m = request{}, ldapserver.Message{} // drop the references to the request's data
}

// inlineWriter is the ResponseWriter of a request answered inline: it encodes each response as
// the library's writer does (goldap's LDAPMessage.Write) and writes it at once.
type inlineWriter struct {
	fc *framedConn
	id int
}

func (w *inlineWriter) Write(po goldap.ProtocolOp) {
	m := goldap.NewLDAPMessageWithProtocolOp(po)
	m.SetMessageID(w.id)
	w.writeMessage(m)
}

// writeEntry writes a SearchResultEntry for e, encoded here (encode.go).
func (w *inlineWriter) writeEntry(e *fakead.SearchEntry, typesOnly bool) {
	w.fc.encBuf = appendEntry(w.fc.encBuf[:0], w.id, e, typesOnly)
	w.writeEncodedMessage()
}

// writeResult writes an LDAPResult-shaped response with application tag appTag for err, encoded
// here (encode.go).
func (w *inlineWriter) writeResult(appTag int, err error) {
	w.fc.encBuf = appendResult(w.fc.encBuf[:0], w.id, appTag, err)
	w.writeEncodedMessage()
}

// writeEncodedMessage writes encBuf (write copies what it keeps, so the buffer is free again
// after); a buffer grown by a large entry is not kept.
func (w *inlineWriter) writeEncodedMessage() {
	_, _ = w.fc.write(w.fc.encBuf) // a failure ends the connection (writeFailed)
	if cap(w.fc.encBuf) > keepBuffer {
		w.fc.encBuf = nil
	}
}

// keepBuffer bounds the encoding and write buffers a connection keeps between responses.
const keepBuffer = 16 << 10

// writeMessage writes a whole message (with its controls). The library's writer ignores goldap's
// encoding errors and then dereferences nil; here such a response ends the connection.
func (w *inlineWriter) writeMessage(m *goldap.LDAPMessage) {
	data, err := m.Write()
	if err != nil {
		w.fc.abort(fakead.Other, fmt.Sprintf("internal error encoding the response to message %d", w.id))
		return
	}
	_, _ = w.fc.write(data.Bytes()) // a failure ends the connection (writeFailed)
}

// libWritten is called once per message the library's writer writes.
func (fc *framedConn) libWritten() {
	for {
		n := fc.libPending.Load()
		if n <= 0 || fc.libPending.CompareAndSwap(n, n-1) {
			return
		}
	}
}
