package kdc

import (
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// tgs answers a TGS-REQ ([RFC 4120] 3.3, [MS-KILE] 3.3.5.7).
// Divergence: the authenticator's checksum over the request body is not verified (gokrb5 does not
// keep the body's encoding); validation (VALIDATE), user-to-user, S4U, FAST and
// cross-realm referrals are not modelled (KDC_ERR_BADOPTION); of the account check on old TGTs
// only existence and ACCOUNTDISABLE are modelled (not expiry, lockout, logon hours).
// now is the wire's time (timestamps, skew, ticket times); world the directory's (accounts, keys).
func (k *KDC) tgs(now, world time.Time, raw []byte) Outcome {
	o := Outcome{Exchange: "TGS"}
	req, err := decodeTGSReq(raw)
	if err != nil {
		return k.fail(now, Outcome{}, errorcode.KRB_ERR_GENERIC, nil, types.PrincipalName{}, "malformed TGS-REQ", nil)
	}
	body := req.ReqBody
	sname := body.SName
	o.Service = principalString(sname, "")
	var ap *messages.APReq
	for _, pa := range req.PAData {
		if pa.PADataType == patype.PA_TGS_REQ {
			a, err := decodeAPReq(pa.PADataValue)
			if err != nil {
				return k.fail(now, o, errorcode.KRB_AP_ERR_MSG_TYPE, nil, sname, "malformed PA-TGS-REQ", nil)
			}
			ap = &a
			break
		}
	}
	if ap == nil {
		return k.fail(now, o, errorcode.KDC_ERR_PADATA_TYPE_NOSUPP, nil, sname, "no PA-TGS-REQ", nil)
	}
	tgt := ap.Ticket
	if !equalFoldRealm(tgt.Realm, k.realm) || !isKRBTGT(tgt.SName.NameString, k.realm) {
		return k.fail(now, o, errorcode.KRB_AP_ERR_NOT_US, nil, sname, "the ticket is not a TGT of this realm", nil)
	}
	krbtgt, err := k.cfg.Principals.KRBTGT(world)
	if err != nil {
		return k.fail(now, o, errorcode.KRB_ERR_GENERIC, nil, sname, "no krbtgt account", nil)
	}
	// Divergence: AD keeps the krbtgt account's previous keys and still accepts TGTs encrypted
	// with them after a krbtgt password reset; this KDC knows only the current keys.
	tkey, ok := longTermKey(krbtgt, tgt.EncPart.EType)
	if !ok {
		return k.fail(now, o, errorcode.KRB_AP_ERR_NOKEY, nil, sname, "no krbtgt key of the ticket's etype", nil)
	}
	tb, err := k.keys.open(tkey, tgt.EncPart, keyusage.KDC_REP_TICKET, true)
	if err != nil {
		return k.fail(now, o, errorcode.KRB_AP_ERR_BAD_INTEGRITY, nil, sname, "the TGT does not decrypt", nil)
	}
	tp, err := decodeEncTicketPart(tb)
	if err != nil {
		return k.fail(now, o, errorcode.KRB_AP_ERR_BAD_INTEGRITY, nil, sname, "malformed TGT", nil)
	}
	cname := tp.CName
	o.Client = principalString(cname, tp.CRealm)
	ab, err := k.keys.open(tp.Key, ap.EncryptedAuthenticator, keyusage.TGS_REQ_PA_TGS_REQ_AP_REQ_AUTHENTICATOR, true)
	if err != nil {
		return k.fail(now, o, errorcode.KRB_AP_ERR_BAD_INTEGRITY, &cname, sname, "the authenticator does not decrypt", nil)
	}
	auth, err := decodeAuthenticator(ab)
	if err != nil {
		return k.fail(now, o, errorcode.KRB_AP_ERR_MSG_TYPE, &cname, sname, "malformed authenticator", nil)
	}
	if !auth.CName.Equal(cname) || !equalFoldRealm(auth.CRealm, tp.CRealm) {
		return k.fail(now, o, errorcode.KRB_AP_ERR_BADMATCH, &cname, sname, "ticket and authenticator don't match", nil)
	}
	if skewed(now, auth.CTime, k.cfg.MaxSkew) {
		return k.fail(now, o, errorcode.KRB_AP_ERR_SKEW, &cname, sname, "clock skew too great", nil)
	}
	if !now.Before(tp.EndTime) {
		return k.fail(now, o, errorcode.KRB_AP_ERR_TKT_EXPIRED, &cname, sname, "ticket expired", nil)
	}
	if start := tp.StartTime; !start.IsZero() && start.Sub(now) > k.cfg.MaxSkew {
		return k.fail(now, o, errorcode.KRB_AP_ERR_TKT_NYV, &cname, sname, "ticket not yet valid", nil)
	}
	// [MS-KILE] 3.3.5.7.1: a TGT older than 20 minutes is checked against the account, which must
	// still exist and be enabled.
	if now.Sub(tp.AuthTime) > AccountCheckAge && len(cname.NameString) == 1 {
		client, err := k.cfg.Principals.Client(world, cname.NameString[0])
		if err != nil {
			return k.lookupFail(now, o, err, errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN, &cname, sname)
		}
		if client.Disabled() {
			return k.fail(now, o, errorcode.KDC_ERR_CLIENT_REVOKED, &cname, sname, "account disabled", nil)
		}
	}
	opts := body.KDCOptions
	for _, f := range []int{flags.Validate, flags.EncTktInSkey, flags.Forwarded, flags.Proxy} {
		if types.IsFlagSet(&opts, f) {
			return k.fail(now, o, errorcode.KDC_ERR_BADOPTION, &cname, sname, "option not supported", nil)
		}
	}

	if types.IsFlagSet(&opts, flags.Renew) {
		return k.renew(now, o, body, tgt.SName, tp, auth, krbtgt)
	}
	var svc *Principal
	if isKRBTGT(sname.NameString, k.realm) {
		svc = krbtgt
	} else {
		svc, err = k.cfg.Principals.Service(world, sname.NameString)
		if err != nil {
			return k.lookupFail(now, o, err, errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN, &cname, sname)
		}
	}
	sessEt := svc.sessionEtype(body.EType)
	tktEt := svc.ticketEtype()
	if sessEt == 0 || tktEt == 0 {
		return k.fail(now, o, errorcode.KDC_ERR_ETYPE_NOSUPP, &cname, sname, "no encryption type in common", nil)
	}

	tf := types.NewKrbFlags()
	if types.IsFlagSet(&tp.Flags, flags.PreAuthent) {
		types.SetFlag(&tf, flags.PreAuthent)
	}
	if types.IsFlagSet(&tp.Flags, flags.Forwardable) && types.IsFlagSet(&opts, flags.Forwardable) {
		types.SetFlag(&tf, flags.Forwardable)
	}
	renewable := types.IsFlagSet(&tp.Flags, flags.Renewable) &&
		(types.IsFlagSet(&opts, flags.Renewable) || types.IsFlagSet(&opts, flags.RenewableOK))
	if renewable {
		types.SetFlag(&tf, flags.Renewable)
	}
	if svc.UserAccountControl&UACTrustedForDelegation != 0 {
		types.SetFlag(&tf, flags.OKAsDelegate)
	}
	end, renewTill := k.times(now, body, renewable, tp.EndTime, tp.RenewTill)
	// The service ticket carries the TGT's PAC, the snapshot of the logon, signed for the service.
	t := ticketSpec{flags: tf, cname: cname, sname: sname, authTime: tp.AuthTime, start: now, end: end,
		renewTill: renewTill, addrs: tp.CAddr}
	return k.tgsReply(now, o, body, t, svc, tktEt, sessEt, tp, auth, krbtgt)
}

// renew answers a TGS-REQ with the RENEW option (RFC 4120 3.3.3): the TGT of the AP-REQ comes
// back with a new start and end, within its renew-till, with its PAC.
// Divergence: only TGTs are renewed (the AP-REQ's ticket must be a TGT here); AD renews service
// tickets too.
func (k *KDC) renew(now time.Time, o Outcome, body messages.KDCReqBody, sname types.PrincipalName,
	tp messages.EncTicketPart, auth types.Authenticator, krbtgt *Principal) Outcome {
	cname := tp.CName
	if !types.IsFlagSet(&tp.Flags, flags.Renewable) {
		return k.fail(now, o, errorcode.KDC_ERR_BADOPTION, &cname, sname, "the ticket is not renewable", nil)
	}
	if !now.Before(tp.RenewTill) {
		return k.fail(now, o, errorcode.KRB_AP_ERR_TKT_EXPIRED, &cname, sname, "the ticket's renewable lifetime is over", nil)
	}
	sessEt, tktEt := krbtgt.sessionEtype(body.EType), krbtgt.ticketEtype()
	if sessEt == 0 || tktEt == 0 {
		return k.fail(now, o, errorcode.KDC_ERR_ETYPE_NOSUPP, &cname, sname, "no encryption type in common", nil)
	}
	start := tp.StartTime
	if start.IsZero() {
		start = tp.AuthTime
	}
	end := now.Add(tp.EndTime.Sub(start))
	if end.After(tp.RenewTill) {
		end = tp.RenewTill
	}
	t := ticketSpec{flags: tp.Flags, cname: cname, sname: sname, authTime: tp.AuthTime, start: now, end: end,
		renewTill: tp.RenewTill, addrs: tp.CAddr}
	return k.tgsReply(now, o, body, t, krbtgt, tktEt, sessEt, tp, auth, krbtgt)
}

// tgsReply issues the ticket t for svc, carrying the PAC of tp signed for svc, and encodes the
// TGS-REP encrypted for the client (the authenticator's subkey, or the TGT session key).
func (k *KDC) tgsReply(now time.Time, o Outcome, body messages.KDCReqBody, t ticketSpec, svc *Principal, tktEt, sessEt int32,
	tp messages.EncTicketPart, auth types.Authenticator, krbtgt *Principal) Outcome {
	cname, sname := t.cname, t.sname
	skeyLT, _ := longTermKey(svc, tktEt)
	kkey, _ := longTermKey(krbtgt, krbtgt.ticketEtype())
	var err error
	if t.authz, err = k.keys.resignPAC(tp.AuthorizationData, skeyLT, kkey); err != nil {
		return k.fail(now, o, errorcode.KRB_ERR_GENERIC, &cname, sname, "the TGT's PAC is malformed", nil)
	}
	tkt, skey, err := k.issue(t, svc, tktEt, sessEt)
	if err != nil {
		return k.fail(now, o, errorcode.KRB_ERR_GENERIC, &cname, sname, "issuing the ticket failed", nil)
	}
	part := messages.EncKDCRepPart{Key: skey, LastReqs: []messages.LastReq{{LRType: 0, LRValue: now}},
		Nonce: body.Nonce, Flags: t.flags, AuthTime: t.authTime, StartTime: t.start, EndTime: t.end, RenewTill: t.renewTill,
		SRealm: k.realm, SName: sname, CAddr: t.addrs}
	pb := encodeEncKDCRepPart(nil, part, asnAppTag.EncTGSRepPart)
	// With a subkey in the authenticator the reply is encrypted with it (RFC 4120 5.4.2).
	rkey, usage := tp.Key, uint32(keyusage.TGS_REP_ENCPART_SESSION_KEY)
	if len(auth.SubKey.KeyValue) > 0 {
		rkey, usage = auth.SubKey, keyusage.TGS_REP_ENCPART_AUTHENTICATOR_SUB_KEY
	}
	enc, err := k.keys.seal(k.rand(), rkey, pb, usage, 0, true)
	if err != nil {
		return k.fail(now, o, errorcode.KRB_ERR_GENERIC, &cname, sname, "encrypting the reply failed", nil)
	}
	rep := messages.TGSRep{KDCRepFields: messages.KDCRepFields{PVNO: 5, MsgType: msgtype.KRB_TGS_REP,
		CRealm: k.realm, CName: cname, Ticket: tkt, EncPart: enc}}
	o.Reply = encodeKDCRep(rep.KDCRepFields, asnAppTag.TGSREP)
	return o
}
