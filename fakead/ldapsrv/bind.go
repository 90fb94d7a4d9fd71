package ldapsrv

import (
	"crypto/tls"
	"fmt"
	"time"

	goldap "github.com/lor00x/goldap/message"
	"github.com/vjeantet/ldapserver"

	"github.com/gmsasim/gmsasim/fakead"
)

// DiagSigningRequired is AD's text when a DC enforcing LDAP signing refuses a simple bind over an
// unencrypted connection (strongerAuthRequired).
const DiagSigningRequired = `00002028: LdapErr: DSID-0C090259, comment: The server requires binds to turn on integrity checking if SSL\TLS are not already active on the connection, data 0, v4563`

// Extended operation OIDs.
const (
	OIDStartTLS = "1.3.6.1.4.1.1466.20037"  // RFC 4511 4.14
	OIDWhoAmI   = "1.3.6.1.4.1.4203.1.11.3" // RFC 4532
)

// WhoAmIer is an optional Backend extension: the authzId AD answers to WhoAmI for a caller
// ("u:CONTOSO\Administrator"). Without it the server answers "dn:<bound DN>".
type WhoAmIer interface {
	WhoAmI(c fakead.Caller) string
}

func (r *request) bind(req goldap.BindRequest) {
	v, verr := bindVersion(req)
	if verr == nil && req.AuthenticationChoice() == "simple" {
		r.simpleBind(v, string(req.Name()), string(req.AuthenticationSimple()))
		return
	}
	pendingNTLM := r.bindStart()
	reply := func(err error) { r.writeResult(1, err) }
	if verr != nil || (v != 2 && v != 3) {
		reply(errBindVersion(v))
		return
	}
	if req.AuthenticationChoice() != "simple" {
		mech, _ := saslMechanism(req)
		na, isNTLM := r.s.b.(NTLMAcceptor)
		switch mech {
		case sicilyDiscoveryMarker, sicilyNegotiateMarker, sicilyResponseMarker:
			r.st.sasl = nil
			if !isNTLM {
				reply(wireErr(fakead.AuthMethodNotSupported, "bind", "NTLM/Sicily authentication is not supported by this simulated DC"))
				return
			}
			creds, err := saslCredentials(req)
			if err != nil {
				reply(wireErr(fakead.ProtocolError, "bind", err.Error()))
				return
			}
			r.sicilyBind(na, mech, creds, pendingNTLM)
			return
		case MechGSSSPNEGO:
			if creds, err := saslCredentials(req); isNTLM && err == nil && r.spnegoIsNTLM(creds, pendingNTLM) {
				r.st.sasl = nil
				r.spnegoNTLM(na, creds, pendingNTLM)
				return
			}
		}
		if ka, ok := r.s.b.(KerberosAcceptor); ok && (mech == MechGSSAPI || mech == MechGSSSPNEGO) {
			creds, err := saslCredentials(req)
			if err != nil {
				r.st.sasl = nil
				reply(wireErr(fakead.ProtocolError, "bind", err.Error()))
				return
			}
			r.saslBindKerberos(ka, mech, creds)
			return
		}
		r.st.sasl = nil
		what := "SASL mechanism " + mech
		if mech == sicilyMarker {
			what = "An authentication choice other than simple, SASL and Sicily"
		}
		// Divergence: a DC supports EXTERNAL and DIGEST-MD5 SASL binds; this server does GSSAPI
		// and GSS-SPNEGO (Kerberos and NTLM) and Sicily NTLM only.
		reply(wireErr(fakead.AuthMethodNotSupported, "bind", what+" is not supported by this simulated DC"))
		return
	}
}

// bindStart is what every bind does first. It returns the NTLM handshake in progress, if any.
func (r *request) bindStart() (pendingNTLM *ntlmBind) {
	// RFC 4511 4.2.1: the connection is anonymous until a bind succeeds, also when it fails.
	// Paged-search state holds entries projected for the previous identity (a gMSA's password
	// read by a host allowed to): any bind, whatever its outcome or method, discards it.
	r.st.caller = fakead.Caller{}
	r.st.dropAllPages(false)
	// An NTLM handshake continues only with the very next bind (its AUTHENTICATE_MESSAGE); a bind
	// of any other kind in between abandons it.
	pendingNTLM = r.st.ntlm
	r.st.ntlm = nil
	return pendingNTLM
}

func errBindVersion(v int) error {
	return wireErr(fakead.ProtocolError, "bind", fmt.Sprintf("00000057: LdapErr: unsupported LDAP version %d", v))
}

// simpleBind is a simple bind with protocol version v.
func (r *request) simpleBind(v int, name, password string) {
	r.bindStart()
	reply := func(err error) { r.writeResult(1, err) }
	if v != 2 && v != 3 {
		reply(errBindVersion(v))
		return
	}
	r.st.sasl = nil
	if r.s.opts.RequireSigning && !r.st.encrypted && r.st.layer == nil && password != "" {
		reply(wireErr(fakead.StrongerAuthRequired, "bind", DiagSigningRequired))
		return
	}
	c, err := r.s.b.Bind(r.st.encrypted, name, password)
	if err == nil {
		c.Encrypted = r.st.encrypted
		r.st.caller = c
	}
	reply(err)
}

func (r *request) extended(req goldap.ExtendedRequest) {
	switch string(req.RequestName()) {
	case OIDStartTLS:
		r.startTLS()
	case OIDWhoAmI:
		c := r.caller()
		authz := "" // anonymous, as AD answers
		if wa, ok := r.s.b.(WhoAmIer); ok && c.DN != "" {
			authz = wa.WhoAmI(c)
		} else if c.DN != "" {
			authz = "dn:" + c.DN
		}
		op := resultOp(24, nil, berOctets(classContext, 11, []byte(authz)))
		if err := r.writeEncoded(op, nil); err != nil {
			r.fc.abort(fakead.Other, err.Error())
		}
	default:
		// Divergence: AD's diagnostic text for an unknown extended operation is not reproduced.
		err := wireErr(fakead.ProtocolError, "extended",
			"00000057: LdapErr: unsupported extended operation "+string(req.RequestName()))
		var res goldap.ExtendedResponse
		res.LDAPResult = result(err)
		r.w.Write(res)
	}
}

// replyBeforeSwitch sends the response that precedes a change of the connection's transport
// (StartTLS, a SASL or NTLM security layer) and waits until it is on the wire: the old transport
// carries it, the new one everything after. It reports false when the connection closed first.
func (r *request) replyBeforeSwitch(reply func()) bool {
	written := r.fc.armSwitch(r.id)
	reply()
	select {
	case <-written:
		return true
	case <-r.fc.done:
		return false
	}
}

// startTLS runs inline in the library's reading goroutine (the library does not start a handler
// goroutine for it), so no request is read until TLS is up or the connection is given up.
func (r *request) startTLS() {
	reply := func(err error) {
		res := goldap.ExtendedResponse{LDAPResult: result(err)}
		res.SetResponseName(goldap.LDAPOID(OIDStartTLS))
		r.w.Write(res)
	}
	switch {
	case r.s.opts.TLS == nil:
		// Divergence: AD's text for a DC without a certificate is not reproduced.
		reply(wireErr(fakead.Unavailable, "extended", "00000000: LdapErr: StartTLS is not available: no server certificate"))
		return
	case r.st.encrypted:
		reply(wireErr(fakead.OperationsError, "extended", "00000000: LdapErr: TLS is already active on this connection"))
		return
	case r.st.layer != nil:
		// [MS-ADTS] 5.1.2.2: no TLS under a SASL security layer (nor a layer over TLS, sasl.go).
		reply(wireErr(fakead.OperationsError, "extended", "00000000: LdapErr: a SASL security layer is active on this connection"))
		return
	}
	// RFC 4511 4.14.1 asks for operationsError while other operations are outstanding. None can
	// be: requests run one at a time in order, and the library reads nothing more until this
	// handler returns.
	if !r.replyBeforeSwitch(func() { reply(nil) }) {
		return
	}
	tc := tls.Server(r.fc.tlsTransport(), r.s.opts.TLS)
	// Bounded: a client that asks for TLS and never sends its ClientHello is closed.
	_ = r.fc.Conn.SetDeadline(time.Now().Add(r.s.lim.TLSHandshakeTimeout)) // wallclock: socket deadline
	if err := tc.Handshake(); err != nil {
		// The peer is not speaking TLS: nothing sensible can be written any more.
		r.fc.aborted.Store(true)
		_ = r.fc.Conn.Close()
		return
	}
	_ = r.fc.Conn.SetWriteDeadline(time.Time{}) // each response write sets its own
	r.fc.setCurrent(tc)
	r.st.encrypted = true
}

// compile-time check that the library's message type is what the handler expects.
var _ ldapserver.Handler = (*handler)(nil)
