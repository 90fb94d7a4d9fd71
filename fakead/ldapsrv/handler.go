package ldapsrv

import (
	"errors"
	"fmt"
	"sync/atomic"

	goldap "github.com/lor00x/goldap/message"
	"github.com/vjeantet/ldapserver"

	"github.com/gmsasim/gmsasim/fakead"
)

// handler is the library's single Handler: it takes the request's turn on its connection,
// contains panics to that connection and dispatches on the protocolOp type.
type handler struct{ s *Server }

// request is one request being handled.
type request struct {
	s  *Server
	st *connState
	fc *framedConn
	w  ldapserver.ResponseWriter
	m  *ldapserver.Message
	id int

	cancel *atomic.Bool // set by an Abandon of this request
}

func (h *handler) ServeLDAP(w ldapserver.ResponseWriter, m *ldapserver.Message) {
	if h.s.testHookWriter != nil {
		h.s.testHookWriter(w)
	}
	fc, ok := m.Client.GetConn().(*framedConn)
	if !ok {
		return // cannot happen: every connection the library gets is ours
	}
	st := fc.st
	defer st.requestDone() // last: after the responses are with the writer
	id := m.MessageID().Int()
	if _, ok := m.ProtocolOp().(goldap.BindRequest); ok {
		defer fc.openGate() // last: after a SASL layer is installed
	}
	if a, ok := m.ProtocolOp().(goldap.AbandonRequest); ok {
		st.abandon(int(a)) // no response, no turn (RFC 4511 4.11)
		return
	}
	cancel := st.register(id)
	defer st.unregister(id, cancel)
	run := st.acquire(id)
	defer st.release()
	r := &request{s: h.s, st: st, fc: fc, w: &libWriter{w: w, fc: fc}, m: m, id: id, cancel: cancel}
	if !run || r.abandoned() || fc.dead.Load() {
		return // abandoned, or nothing can be written any more: skip the work
	}
	fc.runOnWorker(r) // holding the turn: one request of the connection at a time
}

// serve runs a request that holds its connection's turn, on the connection's worker goroutine. A
// panic is contained to the connection.
func (r *request) serve() {
	defer r.contain()
	if !r.checkControls() {
		return
	}
	switch op := r.m.ProtocolOp().(type) {
	case goldap.BindRequest:
		r.bind(op)
	case goldap.SearchRequest:
		r.search(op)
	case goldap.AddRequest:
		r.add(op)
	case goldap.ModifyRequest:
		r.modify(op)
	case goldap.DelRequest:
		r.delete(op)
	case goldap.ModifyDNRequest:
		r.modifyDN(op)
	case goldap.CompareRequest:
		r.compare(op)
	case goldap.ExtendedRequest:
		r.extended(op)
	default:
		// The framing layer lets only requests through; anything else is a protocol error.
		r.fc.abort(fakead.ProtocolError, fmt.Sprintf("unexpected protocolOp %T", op))
	}
}

// serveSimpleBind runs a simple bind without controls decoded by parseSimpleBind, as serve runs
// a goldap-decoded one.
func (r *request) serveSimpleBind(b *simpleBindReq) {
	defer r.contain()
	r.simpleBind(b.version, b.name, b.password)
}

// contain, deferred, turns a handler's panic into the end of its connection: no response for the
// request, a Notice of Disconnection, close.
func (r *request) contain() {
	if p := recover(); p != nil {
		r.fc.abort(fakead.Other, fmt.Sprintf("internal error handling message %d", r.id))
	}
}

// abandoned reports whether an Abandon cancelled this request.
func (r *request) abandoned() bool { return r.cancel.Load() }

// caller is the connection's bound caller, Encrypted set from the connection.
func (r *request) caller() fakead.Caller { return r.st.currentCaller() }

// writeEncoded sends an operation encoded here (with optional response controls) through the
// library's writer: controls need the chanOut route, everything else goes through Write.
func (r *request) writeEncoded(op []byte, controls []byte) error {
	parts := [][]byte{berInt(classUniversal, tagInteger, int64(r.id)), op}
	if controls != nil {
		parts = append(parts, controls)
	}
	msg, err := decodeMessage(berSeq(classUniversal, tagSequence, parts...))
	if err != nil {
		return err
	}
	if controls == nil {
		r.w.Write(msg.ProtocolOp())
		return nil
	}
	switch w := r.w.(type) {
	case *inlineWriter:
		w.writeMessage(msg)
		return nil
	case *libWriter:
		ch, err := outChannel(w.w)
		if err != nil {
			return err
		}
		w.fc.libPending.Add(1)
		ch <- msg // the library closes chanOut only after every handler returned: safe
		return nil
	}
	return fmt.Errorf("ldapsrv: no route for response controls through %T", r.w)
}

// libWriter is the library's ResponseWriter, counting what it is given (framedConn.libPending).
type libWriter struct {
	w  ldapserver.ResponseWriter
	fc *framedConn
}

func (lw *libWriter) Write(po goldap.ProtocolOp) {
	lw.fc.libPending.Add(1)
	lw.w.Write(po)
}

// writeResult sends a BindResponse (appTag 1) or SearchResultDone (5) without controls for err:
// encoded here when the request is answered inline, built for the library otherwise.
func (r *request) writeResult(appTag int, err error) {
	if iw, ok := r.w.(*inlineWriter); ok {
		iw.writeResult(appTag, err)
		return
	}
	switch appTag {
	case 1:
		r.w.Write(goldap.BindResponse{LDAPResult: result(err)})
	case 5:
		r.w.Write(goldap.SearchResultDone(result(err)))
	default:
		panic(fmt.Sprintf("ldapsrv: writeResult for application tag %d", appTag)) // contained by serve
	}
}

// result maps err to an LDAPResult. The one place model errors become wire results.
func result(err error) goldap.LDAPResult {
	code, matched, diag := resultOf(err)
	var res goldap.LDAPResult
	res.SetResultCode(int(code))
	res.SeMatchedDN(matched)
	res.SetDiagnosticMessage(diag)
	if refs := referralsOf(err); len(refs) > 0 {
		r := make(goldap.Referral, len(refs))
		for i, u := range refs {
			r[i] = goldap.URI(u)
		}
		res.SetReferral(&r)
	}
	return res
}

// referralsOf is the referral field (RFC 4511 4.1.9) of err's result: the LDAP URLs of a
// *fakead.Error with code referral, nil otherwise.
func referralsOf(err error) []string {
	var e *fakead.Error
	if errors.As(err, &e) && e.Code == fakead.Referral {
		return e.Referrals
	}
	return nil
}

// resultOf is result's plain form: the code, matchedDN and diagnosticMessage for err. A
// *fakead.Error maps field for field; anything else is "other" with its text.
func resultOf(err error) (code fakead.ResultCode, matchedDN, diag string) {
	if err == nil {
		return fakead.Success, "", ""
	}
	var e *fakead.Error
	if errors.As(err, &e) {
		return e.Code, e.MatchedDN, e.Diag
	}
	return fakead.Other, "", err.Error()
}

// resultOp encodes an LDAPResult-shaped operation with application tag appTag; extra holds
// trailing fields (responseName, responseValue, serverSaslCreds).
func resultOp(appTag int, err error, extra ...[]byte) []byte {
	code, matched, diag := resultOf(err)
	parts := [][]byte{
		berInt(classUniversal, tagEnumerated, int64(code)),
		berString(matched),
		berString(diag),
	}
	if refs := referralsOf(err); len(refs) > 0 {
		urls := make([][]byte, len(refs))
		for i, u := range refs {
			urls[i] = berString(u)
		}
		parts = append(parts, berSeq(classContext, 3, urls...)) // referral [3] Referral
	}
	parts = append(parts, extra...)
	return berSeq(classApplication, appTag, parts...)
}

// wireErr builds a *fakead.Error for failures the wire edge detects itself.
func wireErr(code fakead.ResultCode, op, diag string) error {
	return &fakead.Error{Code: code, Op: op, Diag: diag}
}
