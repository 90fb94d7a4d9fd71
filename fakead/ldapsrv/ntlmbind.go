package ldapsrv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/ntlm"
)

// NTLM binds: Sicily ([MS-ADTS] 5.1.1.1.3: package discovery, negotiate, response) and NTLM inside
// GSS-SPNEGO (spnegontlm.go). The handshake itself is package ntlm's (NTLMv2 only); the accounts,
// the clock and the randomness are the Backend's (NTLMAcceptor). After a bind that negotiated
// SIGN or SEAL every PDU travels in a security-layer buffer: a 4-octet big-endian length, then the
// 16-byte NTLMSSP_MESSAGE_SIGNATURE and the (sealed) LDAP message (ntlm.Session.Wrap).

// NTLMAcceptor is an optional Backend extension: a DC that verifies NTLM logons against the
// accounts of its replica. Without it Sicily binds answer authMethodNotSupported.
type NTLMAcceptor interface {
	// NTLMConfig returns the configuration of one handshake: the DC's NetBIOS and DNS names, the
	// world's clock (Now) and a reader of the world's randomness (Rand), both safe to call from a
	// connection goroutine.
	NTLMConfig() (ntlm.ServerConfig, error)
	// NTLMAccount returns the NT hash of the account an AUTHENTICATE_MESSAGE names (domain and user
	// as the client wrote them: NetBIOS or DNS domain or empty, any case; user a sAMAccountName or
	// a UPN) and the caller it binds as (its groups as the directory has them now: NTLM has no
	// PAC, the DC builds the token at logon). No such account, or one in another domain: an error
	// wrapping ntlm.ErrUnknownUser. A disabled account: its hash and caller with an error wrapping
	// ErrAccountDisabled, so the password is checked first (data 533 only for the right one).
	NTLMAccount(domain, user string) (ntHash []byte, caller fakead.Caller, err error)
}

// ErrAccountDisabled is what an NTLMAcceptor returns (wrapped, with the hash) for a disabled account.
var ErrAccountDisabled = errors.New("ldapsrv: account disabled")

// SicilyPackages is the package list a DC returns to sicilyPackageDiscovery in the matchedDN
// field. [MS-ADTS] 5.1.1.1.3: Active Directory "exposes and supports only the NTLM authentication
// protocol ... via Sicily". python ldap3 needs it: it parses a BindResponse's matchedDN as Sicily
// server credentials only when it starts with "NTLM" (strategy/base.py) and proceeds only when
// "NTLM" is among the ';'-separated names (core/connection.py), so a list led by GSS-SPNEGO would
// fail it.
const SicilyPackages = "NTLM"

// AD's texts for failed NTLM binds. An NTLM logon failure is SEC_E_LOGON_DENIED (8009030C) with
// the NTSTATUS in "data"; a token that does not parse is SEC_E_INVALID_TOKEN (80090308). The
// 8009030C text with DSID-0C090569 and v4563 (Windows Server 2019/2022) is what a DC answers to
// an NTLM bind with a wrong password (as seen from .NET's LdapConnection and reproduced by
// NTLM relay tools; impacket against another 2019 DC shows DSID-0C090690: DSIDs vary by build).
//
// NTLMv1 refused: a DC at LAN Manager authentication level 5 does not verify an NTLMv1 or LM
// response at all, so the logon fails as a wrong password does (event 4625 with sub-status
// C000006A STATUS_WRONG_PASSWORD, and the bad-password count goes up): data 52e, the same text.
const (
	diagNTLMBadCreds = "8009030C: LdapErr: DSID-0C090569, comment: AcceptSecurityContext error, data 52e, v4563"
	diagNTLMDisabled = "8009030C: LdapErr: DSID-0C090569, comment: AcceptSecurityContext error, data 533, v4563"
	diagNTLMInvalid  = "80090308: LdapErr: DSID-0C090569, comment: AcceptSecurityContext error, data 0, v4563"
)

// ntlmBind is a connection's NTLM handshake between the CHALLENGE and the AUTHENTICATE.
type ntlmBind struct {
	srv    *ntlm.Server
	spnego bool // inside GSS-SPNEGO (else Sicily)
	// SPNEGO
	raw          bool   // the client sent bare NTLMSSP tokens, not SPNEGO ones
	mechTypesDER []byte // the client's MechTypeList, what the mechListMICs cover
}

// ntlmBindError maps a failed Authenticate (or Challenge) to the bind's result.
func ntlmBindError(err error) error {
	var fe *fakead.Error
	switch {
	case errors.As(err, &fe):
		return err
	case errors.Is(err, ntlm.ErrWrongPassword), errors.Is(err, ntlm.ErrUnknownUser), errors.Is(err, ntlm.ErrNTLMv1Refused):
		return wireErr(fakead.InvalidCredentials, "bind", diagNTLMBadCreds)
	case errors.Is(err, ErrAccountDisabled):
		return wireErr(fakead.InvalidCredentials, "bind", diagNTLMDisabled)
	}
	return wireErr(fakead.InvalidCredentials, "bind", diagNTLMInvalid)
}

// sicilyBind runs one Sicily step; mech is the normalize marker of the choice, pending the
// handshake a previous negotiate started on the connection (nil: none).
func (r *request) sicilyBind(na NTLMAcceptor, mech string, payload []byte, pending *ntlmBind) {
	st := r.st
	reply := func(err error, matched []byte) {
		code, _, diag := resultOf(err)
		op := berSeq(classApplication, 1, berInt(classUniversal, tagEnumerated, int64(code)),
			berOctets(classUniversal, tagOctetString, matched), berString(diag))
		if werr := r.writeEncoded(op, nil); werr != nil {
			r.fc.abort(fakead.Other, werr.Error())
		}
	}
	switch mech {
	case sicilyDiscoveryMarker:
		reply(nil, []byte(SicilyPackages))
	case sicilyNegotiateMarker:
		chal, nb, err := r.ntlmChallenge(na, payload)
		if err != nil {
			reply(err, nil)
			return
		}
		st.ntlm = nb
		// The CHALLENGE_MESSAGE travels as the matchedDN (ldap3, impacket and go-ldap read it
		// there); goldap keeps a string's bytes as they are, so binary survives its encoder.
		reply(nil, chal)
	case sicilyResponseMarker:
		if pending == nil || pending.spnego {
			reply(wireErr(fakead.InvalidCredentials, "bind", diagNTLMInvalid), nil)
			return
		}
		sess, c, err := r.ntlmAuthenticate(na, pending, payload)
		if err != nil {
			reply(err, nil)
			return
		}
		r.completeNTLM(sess, c, func(err error) { reply(err, nil) })
	}
}

// ntlmChallenge starts a handshake on the client's NEGOTIATE_MESSAGE.
func (r *request) ntlmChallenge(na NTLMAcceptor, negotiate []byte) ([]byte, *ntlmBind, error) {
	cfg, err := na.NTLMConfig()
	if err != nil {
		return nil, nil, ntlmBindError(err)
	}
	srv := ntlm.NewServer(cfg)
	chal, err := srv.Challenge(negotiate)
	if err != nil {
		return nil, nil, ntlmBindError(err)
	}
	return chal, &ntlmBind{srv: srv}, nil
}

// ntlmAuthenticate verifies the AUTHENTICATE_MESSAGE and returns the session and the caller.
func (r *request) ntlmAuthenticate(na NTLMAcceptor, nb *ntlmBind, auth []byte) (*ntlm.Session, fakead.Caller, error) {
	var caller fakead.Caller
	var deferred error // a disabled account: reported only once the password proved right
	sess, err := nb.srv.Authenticate(auth, func(domain, user string) ([]byte, error) {
		h, c, err := na.NTLMAccount(domain, user)
		if errors.Is(err, ErrAccountDisabled) && len(h) == 16 {
			deferred, err = err, nil
		}
		caller = c
		return h, err
	})
	if err == nil {
		err = deferred
	}
	if err != nil {
		return nil, fakead.Caller{}, ntlmBindError(err)
	}
	return sess, caller, nil
}

// completeNTLM binds the caller after a verified AUTHENTICATE_MESSAGE and installs the session
// security the client negotiated, once reply (success) is on the wire. The rules are the SASL
// ones: no layer on a TLS connection (00002029), and under RequireSigning a bind over plain LDAP
// without SIGN or SEAL is refused (strongerAuthRequired).
func (r *request) completeNTLM(sess *ntlm.Session, c fakead.Caller, reply func(error)) {
	st := r.st
	layered := sess.Signing()
	switch {
	case layered && (st.encrypted || st.layer != nil):
		reply(wireErr(fakead.UnwillingToPerform, "bind", DiagSignSealOverTLS))
		return
	case !layered && r.s.opts.RequireSigning && !st.encrypted && st.layer == nil:
		reply(wireErr(fakead.StrongerAuthRequired, "bind", DiagSigningRequired))
		return
	}
	st.caller = c
	if !layered {
		reply(nil)
		return
	}
	if !r.replyBeforeSwitch(func() { reply(nil) }) {
		return
	}
	l := &ntlmLayer{sess: sess, maxIn: r.s.lim.MaxReceiveBuffer}
	r.fc.setLayer(l)
	st.layer = l
}

// ntlmLayer is NTLM session security on a connection: each buffer is Session.Wrap's output.
type ntlmLayer struct {
	mu    sync.Mutex // the writer goroutine
	sess  *ntlm.Session
	maxIn int
}

func (l *ntlmLayer) wrap(p []byte) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	body, err := l.sess.Wrap(p)
	if err != nil {
		return nil, err
	}
	return append(binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(body)), uint32(len(body))), body...), nil
}

func (l *ntlmLayer) unwrap(buf []byte) ([]byte, error) {
	out, err := l.sess.Unwrap(buf)
	if err != nil {
		return nil, fmt.Errorf("NTLM session security: %w", err)
	}
	return out, nil
}

func (l *ntlmLayer) bufferLimits() (int, int) { return ntlm.SignatureSize, l.maxIn }
func (l *ntlmLayer) encrypts() bool           { return l.sess.Sealing() }
