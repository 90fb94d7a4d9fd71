package kdc

import (
	"errors"
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

// as answers an AS-REQ ([RFC 4120] 3.1.2, [MS-KILE] 3.3.5.6).
// now is the wire's time (timestamps, skew, ticket times); world the directory's (accounts, keys).
func (k *KDC) as(now, world time.Time, raw []byte) Outcome {
	o := Outcome{Exchange: "AS"}
	req, err := decodeASReq(raw)
	if err != nil {
		return k.fail(now, Outcome{}, errorcode.KRB_ERR_GENERIC, nil, types.PrincipalName{}, "malformed AS-REQ", nil)
	}
	body := req.ReqBody
	cname, sname := body.CName, body.SName
	o.Client, o.Service = principalString(cname, body.Realm), principalString(sname, "")
	if !equalFoldRealm(body.Realm, k.realm) {
		return k.fail(now, o, errorcode.KDC_ERR_WRONG_REALM, &cname, sname, "realm "+body.Realm+" is not served here", nil)
	}
	if len(cname.NameString) != 1 {
		return k.fail(now, o, errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN, &cname, sname, "client not found", nil)
	}
	client, err := k.cfg.Principals.Client(world, cname.NameString[0])
	if err != nil {
		return k.lookupFail(now, o, err, errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN, &cname, sname)
	}
	if client.Disabled() {
		return k.fail(now, o, errorcode.KDC_ERR_CLIENT_REVOKED, &cname, sname, "account disabled", nil)
	}
	var svc *Principal
	if isKRBTGT(sname.NameString, k.realm) {
		svc, err = k.cfg.Principals.KRBTGT(world)
	} else {
		svc, err = k.cfg.Principals.Service(world, sname.NameString)
	}
	if err != nil {
		return k.lookupFail(now, o, err, errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN, &cname, sname)
	}
	replyEt := firstCommon(body.EType, client)
	sessEt := svc.sessionEtype(body.EType)
	tktEt := svc.ticketEtype()
	if replyEt == 0 || sessEt == 0 || tktEt == 0 {
		return k.fail(now, o, errorcode.KDC_ERR_ETYPE_NOSUPP, &cname, sname, "no encryption type in common", nil)
	}

	// Pre-authentication: PA-ENC-TIMESTAMP with one of the client's keys.
	var pa *types.PAData
	for i := range req.PAData {
		if req.PAData[i].PADataType == patype.PA_ENC_TIMESTAMP {
			pa = &req.PAData[i]
			break
		}
	}
	if pa == nil {
		return k.fail(now, o, errorcode.KDC_ERR_PREAUTH_REQUIRED, &cname, sname, "pre-authentication required", k.preauthMethods(body.EType, client))
	}
	ed, err := decodeEncryptedData(pa.PADataValue)
	if err != nil {
		return k.fail(now, o, errorcode.KDC_ERR_PREAUTH_FAILED, &cname, sname, "malformed PA-ENC-TIMESTAMP", k.preauthMethods(body.EType, client))
	}
	ckey, ok := longTermKey(client, ed.EType)
	if !ok {
		return k.fail(now, o, errorcode.KDC_ERR_PREAUTH_FAILED, &cname, sname, "pre-authentication with an unsupported key", k.preauthMethods(body.EType, client))
	}
	plain, err := k.keys.open(ckey, ed, keyusage.AS_REQ_PA_ENC_TIMESTAMP, true)
	if err != nil {
		return k.fail(now, o, errorcode.KDC_ERR_PREAUTH_FAILED, &cname, sname, "pre-authentication failed", k.preauthMethods(body.EType, client))
	}
	ts, err := decodePAEncTSEnc(plain)
	if err != nil {
		return k.fail(now, o, errorcode.KDC_ERR_PREAUTH_FAILED, &cname, sname, "malformed PA-ENC-TS-ENC", k.preauthMethods(body.EType, client))
	}
	if skewed(now, ts.PATimestamp, k.cfg.MaxSkew) {
		return k.fail(now, o, errorcode.KRB_AP_ERR_SKEW, &cname, sname, "clock skew too great", nil)
	}
	// The reply is encrypted with the key the client proved it has.
	replyEt = ed.EType

	// The ticket: the group snapshot of this logon goes in its authorization data.
	groups, err := k.cfg.Principals.Groups(world, client)
	if err != nil {
		return k.fail(now, o, errorcode.KRB_ERR_GENERIC, &cname, sname, "reading group membership failed", nil)
	}
	krbtgt := svc
	if svc.Kind != KindKRBTGT {
		if krbtgt, err = k.cfg.Principals.KRBTGT(world); err != nil {
			return k.fail(now, o, errorcode.KRB_ERR_GENERIC, &cname, sname, "no krbtgt account", nil)
		}
	}
	tkey, _ := longTermKey(svc, tktEt)
	kkey, _ := longTermKey(krbtgt, krbtgt.ticketEtype())
	ad, err := k.keys.newPAC(pacLogon{authTime: now, name: client.Name, userSID: client.SID,
		primaryGroupRID: client.PrimaryGroupID, groups: groups, uac: client.UserAccountControl,
		domain: k.cfg.NetBIOSName, server: k.cfg.DCName}, tkey, kkey)
	if err != nil {
		return k.fail(now, o, errorcode.KRB_ERR_GENERIC, &cname, sname, "encoding authorization data failed", nil)
	}
	tf := types.NewKrbFlags()
	types.SetFlag(&tf, flags.Initial)
	types.SetFlag(&tf, flags.PreAuthent)
	opts := body.KDCOptions
	if types.IsFlagSet(&opts, flags.Forwardable) && client.UserAccountControl&UACNotDelegated == 0 {
		types.SetFlag(&tf, flags.Forwardable)
	}
	renewable := types.IsFlagSet(&opts, flags.Renewable) ||
		(types.IsFlagSet(&opts, flags.RenewableOK) && !body.Till.IsZero() && body.Till.After(now.Add(k.cfg.TicketLifetime)))
	if renewable {
		types.SetFlag(&tf, flags.Renewable)
	}
	end, renewTill := k.times(now, body, renewable, time.Time{}, time.Time{})
	t := ticketSpec{flags: tf, cname: cname, sname: sname, authTime: now, start: now, end: end,
		renewTill: renewTill, addrs: body.Addresses, authz: ad}
	tkt, skey, err := k.issue(t, svc, tktEt, sessEt)
	if err != nil {
		return k.fail(now, o, errorcode.KRB_ERR_GENERIC, &cname, sname, "issuing the ticket failed", nil)
	}
	part := messages.EncKDCRepPart{Key: skey, LastReqs: []messages.LastReq{{LRType: 0, LRValue: now}},
		Nonce: body.Nonce, Flags: tf, AuthTime: now, StartTime: now, EndTime: end, RenewTill: renewTill,
		SRealm: k.realm, SName: sname, CAddr: body.Addresses}
	pb := encodeEncKDCRepPart(nil, part, asnAppTag.EncASRepPart)
	rkey, _ := longTermKey(client, replyEt)
	enc, err := k.keys.seal(k.rand(), rkey, pb, keyusage.AS_REP_ENCPART, int(client.KVNO), true)
	if err != nil {
		return k.fail(now, o, errorcode.KRB_ERR_GENERIC, &cname, sname, "encrypting the reply failed", nil)
	}
	ei := types.ETypeInfo2Entry{EType: replyEt}
	if replyEt != EtypeRC4 {
		ei.Salt = client.Salt
	}
	info := encodeETypeInfo2(types.ETypeInfo2{ei})
	rep := messages.ASRep{KDCRepFields: messages.KDCRepFields{PVNO: 5, MsgType: msgtype.KRB_AS_REP,
		PAData: types.PADataSequence{{PADataType: patype.PA_ETYPE_INFO2, PADataValue: info}},
		CRealm: k.realm, CName: cname, Ticket: tkt, EncPart: enc}}
	o.Reply = encodeKDCRep(rep.KDCRepFields, asnAppTag.ASREP)
	return o
}

// preauthMethods is the METHOD-DATA of KDC_ERR_PREAUTH_REQUIRED: PA-ETYPE-INFO2 with an entry per
// etype the client asked for and the account has (client's order), with the account's AD salt,
// then PA-ENC-TIMESTAMP.
func (k *KDC) preauthMethods(want []int32, p *Principal) []byte {
	var info types.ETypeInfo2
	seen := map[int32]bool{}
	for _, et := range want {
		if !seen[et] && p.supports(et) {
			seen[et] = true
			e := types.ETypeInfo2Entry{EType: et}
			if et != EtypeRC4 {
				e.Salt = p.Salt
			}
			info = append(info, e)
		}
	}
	return encodeMethodData(types.PADataSequence{
		{PADataType: patype.PA_ETYPE_INFO2, PADataValue: encodeETypeInfo2(info)},
		{PADataType: patype.PA_ENC_TIMESTAMP, PADataValue: []byte{}},
	})
}

// lookupFail maps a principal lookup error to its KRB-ERROR.
func (k *KDC) lookupFail(now time.Time, o Outcome, err error, notFound int32, cname *types.PrincipalName, sname types.PrincipalName) Outcome {
	if errors.Is(err, ErrNoPrincipal) {
		text := "client not found"
		if notFound == errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN {
			text = "service not found"
		}
		return k.fail(now, o, notFound, cname, sname, text, nil)
	}
	return k.fail(now, o, errorcode.KRB_ERR_GENERIC, cname, sname, "directory lookup failed", nil)
}

func skewed(now, t time.Time, max time.Duration) bool {
	d := now.Sub(t)
	return d > max || d < -max
}

func equalFoldRealm(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
