package ldapsrv

import (
	"bytes"

	"github.com/gmsasim/gmsasim/fakead"
)

// NTLM inside GSS-SPNEGO ([MS-SPNG], RFC 4178): chosen when the client's mechTypes list NTLM
// first, or NTLM and no Kerberos, and also for bare NTLMSSP tokens sent as GSS-SPNEGO credentials
// (Metasploit's LDAP client does that; the reply is then bare too). The exchange:
//
//	negTokenInit{mechTypes, mechToken NEGOTIATE} → 14, negTokenResp{accept-incomplete, NTLM, CHALLENGE}
//	negTokenResp{AUTHENTICATE, mechListMIC?}    → 0,  negTokenResp{accept-completed, mechListMIC?}
//
// (NTLM listed but not first, or no optimistic token: the first reply asks for the NEGOTIATE with
// accept-incomplete and supportedMech NTLM, and the exchange takes one step more.) The client's
// mechListMIC is an NTLM signature over the DER MechTypeList (sequence number 0 inbound), answered
// by ours (sequence number 0 outbound); after each, that direction's RC4 restarts while the
// sequence numbers go on ([MS-SPNG] 3.3.5.1; ntlm.Session.ResetInboundRC4/ResetOutboundRC4).
//
// Divergence: a client that picks NTLM though it is not its first mechanism and sends no
// mechListMIC is accepted; RFC 4178 5 makes the MIC mandatory then.

// oidNTLM is NTLMSSP's mechanism OID 1.3.6.1.4.1.311.2.2.10 (contents).
var oidNTLM = []byte{0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a}

var ntlmSSPSignature = []byte("NTLMSSP\x00")

// spnegoIsNTLM reports whether a GSS-SPNEGO bind's credentials are for NTLM.
func (r *request) spnegoIsNTLM(creds []byte, pending *ntlmBind) bool {
	if pending != nil && pending.spnego && !isFreshSPNEGO(creds) {
		return true
	}
	if bytes.HasPrefix(creds, ntlmSSPSignature) {
		return true
	}
	init, err := parseNegTokenInit(creds)
	if err != nil {
		return false
	}
	return ntlmChosen(init.mechTypes) >= 0
}

// ntlmChosen is NTLM's index in mechTypes when NTLM is the mechanism to select: first, or
// offered without any Kerberos OID. -1 otherwise.
func ntlmChosen(mechTypes [][]byte) int {
	at := -1
	for i, m := range mechTypes {
		if isKRB5(m) && at < 0 {
			return -1
		}
		if bytes.Equal(m, oidNTLM) && at < 0 {
			at = i
		}
	}
	return at
}

// isFreshSPNEGO reports whether creds start a new exchange (a GSS-framed negTokenInit, [APPLICATION
// 0]) rather than continue one: a client starting over drops the handshake in progress.
func isFreshSPNEGO(creds []byte) bool { return len(creds) > 0 && creds[0] == 0x60 }

// spnegoNTLM runs one step of an NTLM exchange inside GSS-SPNEGO.
func (r *request) spnegoNTLM(na NTLMAcceptor, creds []byte, pending *ntlmBind) {
	if pending != nil && (!pending.spnego || isFreshSPNEGO(creds)) {
		pending = nil
	}
	bad := func() { r.replySASL(wireErr(fakead.InvalidCredentials, "bind", diagNTLMInvalid), nil) }
	inProgress := func(nb *ntlmBind, tok []byte) {
		r.st.ntlm = nb
		r.replySASL(wireErr(fakead.SaslBindInProgress, "bind", ""), tok)
	}
	switch {
	case pending == nil && bytes.HasPrefix(creds, ntlmSSPSignature):
		chal, nb, err := r.ntlmChallenge(na, creds)
		if err != nil {
			r.replySASL(err, nil)
			return
		}
		nb.spnego, nb.raw = true, true
		inProgress(nb, chal)
	case pending == nil:
		init, err := parseNegTokenInit(creds)
		if err != nil {
			bad()
			return
		}
		nb := &ntlmBind{spnego: true, mechTypesDER: init.mechTypesDER}
		resp := &negTokenResp{state: negAcceptIncomplete, supportedMech: oidNTLM}
		if ntlmChosen(init.mechTypes) == 0 && init.mechToken != nil {
			chal, started, err := r.ntlmChallenge(na, init.mechToken)
			if err != nil {
				r.replySASL(err, nil)
				return
			}
			nb.srv, resp.responseToken = started.srv, chal
		}
		inProgress(nb, resp.encode())
	case pending.raw:
		sess, c, err := r.ntlmAuthenticate(na, pending, creds)
		if err != nil {
			r.replySASL(err, nil)
			return
		}
		r.completeNTLM(sess, c, func(err error) { r.replySASL(err, nil) })
	default:
		resp, err := parseNegTokenResp(creds)
		if err != nil || resp.responseToken == nil {
			bad()
			return
		}
		if pending.srv == nil { // the NEGOTIATE we asked for
			chal, started, err := r.ntlmChallenge(na, resp.responseToken)
			if err != nil {
				r.replySASL(err, nil)
				return
			}
			pending.srv = started.srv
			inProgress(pending, (&negTokenResp{state: negAcceptIncomplete, responseToken: chal}).encode())
			return
		}
		sess, c, err := r.ntlmAuthenticate(na, pending, resp.responseToken)
		if err != nil {
			r.replySASL(err, nil)
			return
		}
		final := &negTokenResp{state: negAcceptCompleted}
		if resp.mechListMIC != nil {
			if sess.Verify(pending.mechTypesDER, resp.mechListMIC) != nil {
				bad()
				return
			}
			sess.ResetInboundRC4()
			mic, err := sess.Sign(pending.mechTypesDER)
			if err != nil {
				bad()
				return
			}
			sess.ResetOutboundRC4()
			final.mechListMIC = mic
		}
		r.completeNTLM(sess, c, func(err error) {
			if err != nil {
				r.replySASL(err, nil)
				return
			}
			r.replySASL(nil, final.encode())
		})
	}
}
