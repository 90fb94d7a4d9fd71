package ldapsrv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"

	"github.com/jcmturner/gokrb5/v8/types"
	goldap "github.com/lor00x/goldap/message"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/gss"
)

// SASL binds with Kerberos: GSSAPI (RFC 4752) and GSS-SPNEGO (RFC 4178, [MS-SPNG]) with the
// Kerberos V5 mechanism (RFC 4121), both OIDs (1.2.840.113554.1.2.2 and Microsoft's
// 1.2.840.48018.1.2.2). This file runs the exchanges; gss.go holds the token codecs and
// sasllayer.go the security layer installed after the bind. The ticket itself is the Backend's
// business (KerberosAcceptor): it holds the DC's keys and the world's clock and randomness.

// SASL mechanism names.
const (
	MechGSSAPI    = "GSSAPI"
	MechGSSSPNEGO = "GSS-SPNEGO"
)

// KerberosAcceptor is an optional Backend extension: a DC that accepts Kerberos AP-REQs for its
// own service principals (ldap/<dc fqdn> and its other SPNs). Without it SASL binds answer
// authMethodNotSupported.
type KerberosAcceptor interface {
	// AcceptKerberos checks an AP-REQ (DER, without GSS framing) with the DC's current and previous
	// keys at the world's time and, when it is good, returns the context: the caller built from the
	// ticket's PAC and the AP-REP. Errors are *kdc.Error (a KRB_AP_ERR_* code) or *fakead.Error.
	AcceptKerberos(apReq []byte) (*KerberosContext, error)
}

// KerberosContext is an accepted Kerberos security context.
type KerberosContext struct {
	// Caller is the ticket's client with the groups its PAC carries (not re-read from the
	// directory: a group joined after the TGT was issued is not in it). Encrypted is set here.
	Caller fakead.Caller
	// Client is the client principal, "WEB1$@CONTOSO.COM".
	Client string
	// APRep is the AP-REP (DER) asserting AcceptorSubkey and the acceptor's initial sequence
	// number ServerSeq.
	APRep          []byte
	AcceptorSubkey types.EncryptionKey
	ServerSeq      uint64
	// InitiatorKey is the authenticator's subkey, or the ticket's session key when it has none.
	InitiatorKey types.EncryptionKey
	// GSSFlags are the GSS checksum flags the client asked for (kdc.GSSFlag*).
	GSSFlags uint32
}

// Windows' texts for failed SASL binds: AcceptSecurityContext's status first, as a DC writes it.
// Divergence: the DSID values are ours; Windows' vary by build.
const (
	diagSASLInvalidToken = "80090308: LdapErr: DSID-0C0906B5, comment: AcceptSecurityContext error, data 0, v4563"
	diagSASLWrongKey     = "80090322: LdapErr: DSID-0C0906B5, comment: AcceptSecurityContext error, data 0, v4563"
	diagSASLSkew         = "80090324: LdapErr: DSID-0C0906B5, comment: AcceptSecurityContext error, data 0, v4563"
	diagSASLExpired      = "80090317: LdapErr: DSID-0C0906B5, comment: AcceptSecurityContext error, data 0, v4563"
	// DiagSignSealOverTLS refuses a SASL bind asking for a security layer on a TLS connection.
	DiagSignSealOverTLS = "00002029: LdapErr: DSID-0C090CF8, comment: Cannot bind using sign/seal on a connection on which TLS or SSL is in effect, data 0, v4563"
)

// kerberosBindError maps an acceptor's failure to the bind's result: invalidCredentials with the
// SSPI status Windows reports for the Kerberos error.
func kerberosBindError(err error) error {
	var fe *fakead.Error
	if errors.As(err, &fe) {
		return err
	}
	diag := diagSASLInvalidToken
	var ke *kdc.Error
	if errors.As(err, &ke) {
		switch ke.Code {
		case 41, 36: // KRB_AP_ERR_MODIFIED, KRB_AP_ERR_BADMATCH
			diag = diagSASLWrongKey
		case 37: // KRB_AP_ERR_SKEW
			diag = diagSASLSkew
		case 32, 33: // KRB_AP_ERR_TKT_EXPIRED, KRB_AP_ERR_TKT_NYV
			diag = diagSASLExpired
		}
	}
	return wireErr(fakead.InvalidCredentials, "bind", diag)
}

// SASL security layers (RFC 4752 3.3).
const (
	layerNone  = 1
	layerInteg = 2
	layerConf  = 4
)

// saslStep is where a connection's multi-step SASL bind stands.
type saslStep int

const (
	stepNone        saslStep = iota
	stepGSSAPIEmpty          // GSSAPI: AP-REP sent; the client answers with an empty token
	stepGSSAPILayer          // GSSAPI: layer offer sent; the client answers with its choice
	stepSPNEGOMech           // SPNEGO: asked the client for a Kerberos token
	stepSPNEGOMIC            // SPNEGO: AP-REP and our MIC sent; the client's MIC is owed
)

// saslBind is a connection's SASL bind in progress (guarded by the turn, like caller).
type saslBind struct {
	mech    string
	step    saslStep
	ctx     *KerberosContext
	gss     gss.Context // the acceptor's per-message context (keys, sequence numbers)
	offered byte        // GSSAPI: the layers offered
	// SPNEGO
	oid          []byte // the Kerberos OID the client used (echoed in responses)
	mechTypesDER []byte
	micDone      bool // the client's mechListMIC was verified
}

// saslCredentials reads a SASL bind's credentials (nil when absent).
func saslCredentials(r goldap.BindRequest) ([]byte, error) {
	sc, ok := r.Authentication().(goldap.SaslCredentials)
	if !ok {
		return nil, fmt.Errorf("%w: SASL credentials are %T", errNoField, r.Authentication())
	}
	f, err := field(reflect.ValueOf(sc), "credentials")
	if err != nil {
		return nil, err
	}
	if f.Kind() != reflect.Pointer {
		return nil, fmt.Errorf("%w: credentials is %s", errNoField, f.Kind())
	}
	if f.IsNil() {
		return nil, nil
	}
	if f.Elem().Kind() != reflect.String {
		return nil, fmt.Errorf("%w: credentials is %s", errNoField, f.Elem().Kind())
	}
	return []byte(f.Elem().String()), nil
}

// replySASL writes a BindResponse with serverSaslCreds (nil: none).
func (r *request) replySASL(err error, creds []byte) {
	var extra [][]byte
	if creds != nil {
		extra = append(extra, berOctets(classContext, 7, creds))
	}
	if werr := r.writeEncoded(resultOp(1, err, extra...), nil); werr != nil {
		r.fc.abort(fakead.Other, werr.Error())
	}
}

// saslBindKerberos runs one step of a GSSAPI or GSS-SPNEGO bind.
func (r *request) saslBindKerberos(ka KerberosAcceptor, mech string, creds []byte) {
	st := r.st
	sb := st.sasl
	if sb == nil || sb.mech != mech {
		sb = &saslBind{mech: mech}
	}
	st.sasl = nil // kept only when a step answers saslBindInProgress
	fail := func(err error) { r.replySASL(err, nil) }
	bad := func() { fail(wireErr(fakead.InvalidCredentials, "bind", diagSASLInvalidToken)) }
	switch {
	case mech == MechGSSAPI && sb.step == stepNone:
		apReq, err := krb5APReq(creds)
		if err != nil {
			bad()
			return
		}
		if !r.accept(ka, sb, apReq, oidKRB5) {
			return
		}
		if sb.gss.InitiatorKey.KeyType == kdc.EtypeRC4 {
			// Divergence: RFC 4757 wrap tokens are not implemented, and GSSAPI needs one even for
			// "no security layer"; a DC would complete the bind.
			fail(wireErr(fakead.AuthMethodNotSupported, "bind", "00000000: LdapErr: SASL GSSAPI with an RC4-HMAC session key is not supported by this simulated DC (RFC 4757 wrap tokens)"))
			return
		}
		sb.step = stepGSSAPIEmpty
		st.sasl = sb
		r.replySASL(wireErr(fakead.SaslBindInProgress, "bind", ""), krb5APRepToken(oidKRB5, sb.ctx.APRep))
	case mech == MechGSSAPI && sb.step == stepGSSAPIEmpty:
		if len(creds) != 0 {
			bad()
			return
		}
		r.gssapiOffer(sb)
	case mech == MechGSSAPI && sb.step == stepGSSAPILayer:
		r.gssapiChoose(sb, creds)
	case mech == MechGSSSPNEGO:
		r.spnegoStep(ka, sb, creds)
	default:
		bad()
	}
}

// accept hands the AP-REQ to the Backend and sets up the context; on failure it answers.
func (r *request) accept(ka KerberosAcceptor, sb *saslBind, apReq, oid []byte) bool {
	ctx, err := ka.AcceptKerberos(apReq)
	if err != nil {
		r.replySASL(kerberosBindError(err), nil)
		return false
	}
	sb.ctx, sb.oid = ctx, oid
	sb.gss = gss.Context{AcceptorSubkey: ctx.AcceptorSubkey, InitiatorKey: ctx.InitiatorKey, Acceptor: true,
		WindowsRotation: true, SendSeq: ctx.ServerSeq}
	key := ctx.AcceptorSubkey
	if key.KeyType == 0 {
		key = ctx.InitiatorKey
	}
	sb.gss.Rand = &confounders{key: key.KeyValue}
	return true
}

// gssapiOffer sends RFC 4752 3.1's wrapped [layers, max buffer] offer: all three layers, on TLS
// too. [MS-ADTS] 5.1.1.1.2 ("Using SASL", SASL bind) and 5.1.2.1/5.1.2.2 (message security): AD
// "does not permit the use of SASL-layer encryption/integrity verification mechanisms" on an
// SSL/TLS-protected connection and from Windows Server 2008 on rejects a bind requesting them
// there, which gssapiChoose does (00002029); the offer itself is not narrowed, as a DC's is not:
// OpenLDAP's ldapsearch -Y GSSAPI over ldaps:// to AD picks sealing and fails that way unless
// given -O maxssf=0, and python ldap3 2.9.1's KERBEROS mechanism cannot take an offer of "no
// security layer" alone (it compares the buffer size, bytes, with a str and always refuses), yet
// binds to AD over TLS. The same holds on a connection that already has a layer.
func (r *request) gssapiOffer(sb *saslBind) {
	sb.offered = layerNone | layerInteg | layerConf
	if r.s.opts.RequireSigning && !r.st.encrypted && r.st.layer == nil {
		sb.offered = layerInteg | layerConf // the DC requires integrity: "none" is not on the menu
	}
	msg := binary.BigEndian.AppendUint32(nil, uint32(r.s.lim.MaxReceiveBuffer)&0xffffff)
	msg[0] = sb.offered
	tok, err := sb.gss.Wrap(msg, false)
	if err != nil {
		r.replySASL(err, nil)
		return
	}
	sb.step = stepGSSAPILayer
	r.st.sasl = sb
	r.replySASL(wireErr(fakead.SaslBindInProgress, "bind", ""), tok)
}

// gssapiChoose reads the client's wrapped [layer, max buffer, authzid] and completes the bind.
func (r *request) gssapiChoose(sb *saslBind, creds []byte) {
	payload, _, err := sb.gss.Unwrap(creds)
	if err != nil {
		r.replySASL(wireErr(fakead.InvalidCredentials, "bind", diagSASLInvalidToken), nil)
		return
	}
	layer, maxBuf, _, err := parseLayerMessage(payload)
	if err != nil {
		r.replySASL(wireErr(fakead.InvalidCredentials, "bind", diagSASLInvalidToken), nil)
		return
	}
	// Divergence: an authorization identity (the bytes after the first four) is ignored; AD does not
	// support proxied authorization either.
	switch {
	case layer != layerNone && (r.st.encrypted || r.st.layer != nil):
		r.replySASL(wireErr(fakead.UnwillingToPerform, "bind", DiagSignSealOverTLS), nil)
		return
	case layer&sb.offered == 0:
		if r.s.opts.RequireSigning {
			r.replySASL(wireErr(fakead.StrongerAuthRequired, "bind", DiagSigningRequired), nil)
			return
		}
		r.replySASL(wireErr(fakead.InvalidCredentials, "bind", diagSASLInvalidToken), nil)
		return
	case layer != layerNone && maxBuf < 64:
		r.replySASL(wireErr(fakead.InvalidCredentials, "bind", diagSASLInvalidToken), nil)
		return
	}
	var l *saslLayer
	if layer != layerNone {
		l = newSASLLayer(sb, layer == layerConf, maxBuf, r.s.lim.MaxReceiveBuffer)
		l.inSeq, l.inKnown = sb.gss.RecvSeq, true
	}
	r.completeSASL(sb, l, nil)
}

// parseLayerMessage reads RFC 4752 3.1's client message: one security layer (0, which go-ldap's
// gssapi client sends, is taken as "none"), the client's maximum buffer (3 octets) and an
// optional authorization identity.
func parseLayerMessage(b []byte) (layer byte, maxBuf int, authz []byte, err error) {
	if len(b) < 4 {
		return 0, 0, nil, fmt.Errorf("%w: security layer message of %d bytes", errGSS, len(b))
	}
	layer = b[0]
	if layer == 0 {
		layer = layerNone
	}
	if layer != layerNone && layer != layerInteg && layer != layerConf {
		return 0, 0, nil, fmt.Errorf("%w: security layer %#x is not exactly one layer", errGSS, b[0])
	}
	return layer, int(binary.BigEndian.Uint32(b) & 0xffffff), b[4:], nil
}

// completeSASL answers success (with creds as serverSaslCreds), binds the caller and installs the
// layer once the response is on the wire.
func (r *request) completeSASL(sb *saslBind, l *saslLayer, creds []byte) {
	c := sb.ctx.Caller
	r.st.caller = c
	if l == nil {
		r.replySASL(nil, creds)
		return
	}
	if !r.replyBeforeSwitch(func() { r.replySASL(nil, creds) }) {
		return
	}
	r.fc.setLayer(l)
	r.st.layer = l
}

// spnegoStep runs GSS-SPNEGO: the client's negTokenInit (or, after we asked for Kerberos, its
// negTokenResp) carries the Kerberos AP-REQ; we answer a negTokenResp with the AP-REP. The
// mechListMIC (RFC 4178 5) is exchanged when the client sends one or when Kerberos was not its
// first choice. The security layer follows the GSS flags of the AP-REQ: confidentiality → sealed,
// integrity → signed (as wldap32's LDAP_OPT_SIGN / LDAP_OPT_ENCRYPT ask for them).
func (r *request) spnegoStep(ka KerberosAcceptor, sb *saslBind, creds []byte) {
	bad := func() { r.replySASL(wireErr(fakead.InvalidCredentials, "bind", diagSASLInvalidToken), nil) }
	var apReq, clientMIC []byte
	first := false
	switch sb.step {
	case stepNone:
		init, err := parseNegTokenInit(creds)
		if err != nil {
			bad()
			return
		}
		sb.mechTypesDER = init.mechTypesDER
		krb := -1
		for i, m := range init.mechTypes {
			if isKRB5(m) {
				krb = i
				break
			}
		}
		switch {
		case krb < 0:
			// Neither Kerberos nor NTLM (NTLM is routed to spnegontlm.go before this).
			// Divergence: AD's text for it is not reproduced.
			r.replySASL(wireErr(fakead.AuthMethodNotSupported, "bind", "00000000: LdapErr: GSS-SPNEGO: neither Kerberos nor NTLM offered"),
				(&negTokenResp{state: negReject}).encode())
			return
		case krb > 0 || init.mechToken == nil:
			// Not the optimistic token: select Kerberos and ask for its token; MICs become mandatory.
			sb.oid = init.mechTypes[krb]
			sb.step = stepSPNEGOMech
			r.st.sasl = sb
			r.replySASL(wireErr(fakead.SaslBindInProgress, "bind", ""),
				(&negTokenResp{state: negAcceptIncomplete, supportedMech: sb.oid}).encode())
			return
		}
		first = true
		if apReq, err = spnegoAPReq(init.mechToken); err != nil {
			bad()
			return
		}
		sb.oid = init.mechTypes[0]
		clientMIC = init.mechListMIC
	case stepSPNEGOMech:
		resp, err := parseNegTokenResp(creds)
		if err != nil || resp.responseToken == nil {
			bad()
			return
		}
		if apReq, err = spnegoAPReq(resp.responseToken); err != nil {
			bad()
			return
		}
		clientMIC = resp.mechListMIC
	case stepSPNEGOMIC:
		resp, err := parseNegTokenResp(creds)
		if err != nil || resp.mechListMIC == nil || sb.gss.VerifyMIC(resp.mechListMIC, sb.mechTypesDER) != nil {
			bad()
			return
		}
		r.finishSPNEGO(sb, (&negTokenResp{state: negAcceptCompleted}).encode())
		return
	default:
		bad()
		return
	}
	oid := sb.oid
	if !r.accept(ka, sb, apReq, oid) {
		return
	}
	if clientMIC != nil {
		if sb.gss.VerifyMIC(clientMIC, sb.mechTypesDER) != nil {
			bad()
			return
		}
		sb.micDone = true
	}
	// The AP-REP is framed with the Kerberos OID proper even when the client listed Microsoft's, as
	// Windows does; supportedMech echoes the client's choice.
	resp := &negTokenResp{state: negAcceptCompleted, responseToken: krb5APRepToken(oidKRB5, sb.ctx.APRep)}
	if first {
		resp.supportedMech = oid
	}
	needMIC := !first || clientMIC != nil
	if needMIC {
		mic, err := sb.gss.GetMIC(sb.mechTypesDER)
		if err != nil {
			bad()
			return
		}
		resp.mechListMIC = mic
	}
	if needMIC && !sb.micDone {
		resp.state = negAcceptIncomplete
		sb.step = stepSPNEGOMIC
		r.st.sasl = sb
		r.replySASL(wireErr(fakead.SaslBindInProgress, "bind", ""), resp.encode())
		return
	}
	r.finishSPNEGO(sb, resp.encode())
}

// spnegoAPReq takes the AP-REQ out of a Kerberos token inside SPNEGO: the RFC 4121 initial
// context token, or the bare AP-REQ ([APPLICATION 14]) that impacket's LDAPConnection.kerberosLogin
// puts in mechToken and Windows accepts.
func spnegoAPReq(tok []byte) ([]byte, error) {
	if len(tok) > 0 && tok[0] == 0x6e {
		return tok, nil
	}
	return krb5APReq(tok)
}

// finishSPNEGO completes a GSS-SPNEGO bind with the layer its GSS flags ask for.
func (r *request) finishSPNEGO(sb *saslBind, creds []byte) {
	f := sb.ctx.GSSFlags
	wantLayer := f&(kdc.GSSFlagConf|kdc.GSSFlagInteg) != 0
	switch {
	case wantLayer && (r.st.encrypted || r.st.layer != nil):
		r.replySASL(wireErr(fakead.UnwillingToPerform, "bind", DiagSignSealOverTLS), nil)
		return
	case !wantLayer && r.s.opts.RequireSigning && !r.st.encrypted && r.st.layer == nil:
		r.replySASL(wireErr(fakead.StrongerAuthRequired, "bind", DiagSigningRequired), nil)
		return
	case wantLayer && sb.gss.InitiatorKey.KeyType == kdc.EtypeRC4:
		r.replySASL(wireErr(fakead.AuthMethodNotSupported, "bind", "00000000: LdapErr: signing or sealing with an RC4-HMAC session key is not supported by this simulated DC (RFC 4757 wrap tokens)"), nil)
		return
	}
	var l *saslLayer
	if wantLayer {
		// Divergence: the receive limit a GSS-SPNEGO peer accepts is not negotiated; the tokens we
		// send are bounded by MaxReceiveBuffer like the ones we accept.
		l = newSASLLayer(sb, f&kdc.GSSFlagConf != 0, r.s.lim.MaxReceiveBuffer, r.s.lim.MaxReceiveBuffer)
	}
	r.completeSASL(sb, l, creds)
}
