package kdc

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// The in-process client: what a simulated host or user does at logon, at the world's time and with
// the world's randomness, through the same Exchange path as a request off the wire. Call it inside
// the world loop, like Handle.
//
// Two clocks: the KDC checks a request at its own time (now, the DC's clock), the client stamps it
// with its own (clientNow: the PA-ENC-TIMESTAMP of a logon, the authenticator's ctime of a TGS
// request). Logon, Renew and ServiceTicket are the ...At forms with the two equal. A client more
// than MaxSkew (5 minutes) off gets KRB_AP_ERR_SKEW (37) as an *Error.

// Error is a KRB-ERROR an in-process exchange came back with.
type Error struct {
	Exchange string // "AS", "TGS"
	Client   string
	Service  string
	Code     int32
	Text     string
}

func (e *Error) Error() string {
	return fmt.Sprintf("kdc: %s %s -> %s: %s: %s", e.Exchange, e.Client, e.Service, ErrorName(e.Code), e.Text)
}

func outcomeError(o Outcome) *Error {
	return &Error{Exchange: o.Exchange, Client: o.Client, Service: o.Service, Code: o.Code, Text: o.Text}
}

// Credentials are a logon: the TGT and its session key.
type Credentials struct {
	Client     string // the name logged on with: "WEB1$"
	Realm      string
	TGT        messages.Ticket
	SessionKey types.EncryptionKey
	AuthTime   time.Time
	EndTime    time.Time
	RenewTill  time.Time
	Flags      asn1.BitString
	// EType is what the client asks for in its TGS-REQs, in its order (the client host's allowed
	// encryption types); nil: AES256, AES128, RC4.
	EType []int32
}

// etypes are the etypes the client asks for in a TGS-REQ.
func (c *Credentials) etypes() []int32 {
	if len(c.EType) > 0 {
		return c.EType
	}
	return []int32{EtypeAES256, EtypeAES128, EtypeRC4}
}

// ServiceTicket is a ticket for a service with its session key.
type ServiceTicket struct {
	Service    string
	Ticket     messages.Ticket
	SessionKey types.EncryptionKey
	AuthTime   time.Time
	EndTime    time.Time
	Flags      asn1.BitString
	renewTill  time.Time
}

// Bytes is the ticket's DER encoding, as it travels in an AP-REQ.
func (t *ServiceTicket) Bytes() ([]byte, error) { return t.Ticket.Marshal() }

func (k *KDC) nonce() int {
	var b [4]byte
	k.rand().Read(b[:])
	return int(binary.BigEndian.Uint32(b[:]) & 0x7fffffff)
}

// Logon obtains a TGT for name with its long-term key (the host's machine key, a gMSA's current
// key, a user's key), pre-authenticated at now: a Windows logon, which skips the
// PREAUTH_REQUIRED round trip because it knows the salt. A KRB-ERROR comes back as *Error.
func (k *KDC) Logon(now time.Time, name string, key types.EncryptionKey) (*Credentials, error) {
	return k.LogonAt(now, now, name, key)
}

// LogonAt is Logon from a client whose clock reads clientNow while the KDC's reads now: the
// pre-authentication timestamp and the times asked for are the client's.
func (k *KDC) LogonAt(now, clientNow time.Time, name string, key types.EncryptionKey) (*Credentials, error) {
	now = now.UTC().Truncate(time.Second)
	cnow := clientNow.UTC().Truncate(time.Second)
	ts, err := asn1.Marshal(types.PAEncTSEnc{PATimestamp: cnow})
	if err != nil {
		return nil, err
	}
	ed, err := k.keys.seal(k.rand(), key, ts, keyusage.AS_REQ_PA_ENC_TIMESTAMP, 0, true)
	if err != nil {
		return nil, err
	}
	edb, err := ed.Marshal()
	if err != nil {
		return nil, err
	}
	opts := types.NewKrbFlags()
	types.SetFlags(&opts, []int{flags.Forwardable, flags.Renewable, flags.RenewableOK})
	cname := types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: []string{name}}
	req := messages.ASReq{KDCReqFields: messages.KDCReqFields{PVNO: 5, MsgType: msgtype.KRB_AS_REQ,
		PAData: types.PADataSequence{{PADataType: patype.PA_ENC_TIMESTAMP, PADataValue: edb}},
		ReqBody: messages.KDCReqBody{KDCOptions: opts, CName: cname, Realm: k.realm,
			SName: types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", k.realm}},
			Till:  cnow.Add(k.cfg.TicketLifetime), RTime: cnow.Add(k.cfg.RenewLifetime),
			Nonce: k.nonce(), EType: []int32{key.KeyType}}}}
	b, err := req.Marshal()
	if err != nil {
		return nil, err
	}
	o := k.Exchange(now, b)
	if o.Code != 0 || o.Reply == nil {
		return nil, outcomeError(o)
	}
	var rep messages.ASRep
	if err := rep.Unmarshal(o.Reply); err != nil {
		return nil, fmt.Errorf("kdc: AS-REP: %w", err)
	}
	pb, err := k.keys.open(key, rep.EncPart, keyusage.AS_REP_ENCPART, true)
	if err != nil {
		return nil, fmt.Errorf("kdc: AS-REP does not decrypt with the key given: %w", err)
	}
	var part messages.EncKDCRepPart
	if err := part.Unmarshal(pb); err != nil {
		return nil, fmt.Errorf("kdc: AS-REP encrypted part: %w", err)
	}
	return &Credentials{Client: name, Realm: k.realm, TGT: rep.Ticket, SessionKey: part.Key, AuthTime: part.AuthTime,
		EndTime: part.EndTime, RenewTill: part.RenewTill, Flags: part.Flags}, nil
}

// Renew renews the credentials' TGT (a TGS exchange with the RENEW option, the authenticator
// stamped at now): the same logon, with a new end within its renew-till. A KRB-ERROR comes back as
// *Error.
func (k *KDC) Renew(now time.Time, c *Credentials) (*Credentials, error) {
	return k.RenewAt(now, now, c)
}

// RenewAt is Renew from a client whose clock reads clientNow (the authenticator's time).
func (k *KDC) RenewAt(now, clientNow time.Time, c *Credentials) (*Credentials, error) {
	st, err := k.tgsExchange(now, clientNow, c, c.TGT.SName, []int{flags.Renew, flags.Forwardable, flags.Renewable})
	if err != nil {
		return nil, err
	}
	return &Credentials{Client: c.Client, Realm: c.Realm, TGT: st.Ticket, SessionKey: st.SessionKey,
		AuthTime: st.AuthTime, EndTime: st.EndTime, RenewTill: st.renewTill, Flags: st.Flags}, nil
}

// ServiceTicket obtains a ticket for spn ("http/ITFarm1.contoso.com") with the credentials'
// TGT, the authenticator stamped at now. A KRB-ERROR comes back as *Error.
func (k *KDC) ServiceTicket(now time.Time, c *Credentials, spn string) (*ServiceTicket, error) {
	return k.ServiceTicketAt(now, now, c, spn)
}

// ServiceTicketAt is ServiceTicket from a client whose clock reads clientNow (the
// authenticator's time).
func (k *KDC) ServiceTicketAt(now, clientNow time.Time, c *Credentials, spn string) (*ServiceTicket, error) {
	nt := nametype.KRB_NT_SRV_INST
	parts := strings.Split(spn, "/")
	if len(parts) == 1 {
		nt = nametype.KRB_NT_PRINCIPAL
	}
	st, err := k.tgsExchange(now, clientNow, c, types.PrincipalName{NameType: nt, NameString: parts},
		[]int{flags.Forwardable, flags.Renewable, flags.RenewableOK})
	if err != nil {
		return nil, err
	}
	st.Service = spn
	return st, nil
}

// tgsExchange sends a TGS-REQ for sname with the credentials' TGT and the KDC options given, the
// authenticator stamped at clientNow.
func (k *KDC) tgsExchange(now, clientNow time.Time, c *Credentials, sname types.PrincipalName, options []int) (*ServiceTicket, error) {
	now = now.UTC().Truncate(time.Second)
	cnow := clientNow.UTC().Truncate(time.Second)
	cname := types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: []string{c.Client}}
	auth := types.Authenticator{AVNO: 5, CRealm: c.Realm, CName: cname, CTime: cnow}
	ab, err := auth.Marshal()
	if err != nil {
		return nil, err
	}
	ed, err := k.keys.seal(k.rand(), c.SessionKey, ab, keyusage.TGS_REQ_PA_TGS_REQ_AP_REQ_AUTHENTICATOR, 0, true)
	if err != nil {
		return nil, err
	}
	ap := messages.APReq{PVNO: 5, MsgType: msgtype.KRB_AP_REQ, APOptions: types.NewKrbFlags(), Ticket: c.TGT, EncryptedAuthenticator: ed}
	apb, err := ap.Marshal()
	if err != nil {
		return nil, err
	}
	opts := types.NewKrbFlags()
	types.SetFlags(&opts, options)
	req := messages.TGSReq{KDCReqFields: messages.KDCReqFields{PVNO: 5, MsgType: msgtype.KRB_TGS_REQ,
		PAData: types.PADataSequence{{PADataType: patype.PA_TGS_REQ, PADataValue: apb}},
		ReqBody: messages.KDCReqBody{KDCOptions: opts, Realm: c.Realm, SName: sname,
			Till: cnow.Add(k.cfg.TicketLifetime), Nonce: k.nonce(),
			EType: c.etypes()}}}
	b, err := req.Marshal()
	if err != nil {
		return nil, err
	}
	o := k.Exchange(now, b)
	if o.Code != 0 || o.Reply == nil {
		return nil, outcomeError(o)
	}
	var rep messages.TGSRep
	if err := rep.Unmarshal(o.Reply); err != nil {
		return nil, fmt.Errorf("kdc: TGS-REP: %w", err)
	}
	if err := rep.DecryptEncPart(c.SessionKey); err != nil {
		return nil, fmt.Errorf("kdc: TGS-REP: %w", err)
	}
	p := rep.DecryptedEncPart
	return &ServiceTicket{Service: principalString(sname, ""), Ticket: rep.Ticket, SessionKey: p.Key, AuthTime: p.AuthTime,
		EndTime: p.EndTime, Flags: p.Flags, renewTill: p.RenewTill}, nil
}

// Accepted is a service ticket a service decrypted.
type Accepted struct {
	Client   string // cname@crealm
	Snapshot Snapshot
	EndTime  time.Time
	// KeyIndex is which of the keys given decrypted it (0 the first: the current key; 1 the
	// previous one, for a gMSA after a rotation).
	KeyIndex int
}

// AcceptTicket is the service side: it decrypts a ticket (DER) with the first of keys that
// works — a service holds its current and previous keys — and checks its times against now with
// the default 5-minute skew. Errors are *Error with KRB_AP_ERR_MODIFIED (no key decrypts it),
// KRB_AP_ERR_TKT_EXPIRED or KRB_AP_ERR_TKT_NYV. The client's clock is taken to read now; see
// AcceptTicketAt.
func AcceptTicket(now time.Time, ticket []byte, keys ...types.EncryptionKey) (*Accepted, error) {
	return AcceptTicketAt(now, now, ticket, keys...)
}

// AcceptTicketAt is AcceptTicket for an AP-REQ whose authenticator the client stamped at
// clientTime, checked against the service's clock now once the ticket decrypts ([RFC 4120]
// 3.2.3): more than DefaultMaxSkew apart is KRB_AP_ERR_SKEW (37), before the ticket's own times.
// Divergence: the authenticator itself is not built nor encrypted; its time is handed in.
func AcceptTicketAt(now, clientTime time.Time, ticket []byte, keys ...types.EncryptionKey) (*Accepted, error) {
	var t messages.Ticket
	if err := t.Unmarshal(ticket); err != nil {
		return nil, &Error{Exchange: "AP", Code: 31, Text: "malformed ticket"} // KRB_AP_ERR_BAD_INTEGRITY
	}
	svc := principalString(t.SName, t.Realm)
	for i, key := range keys {
		if key.KeyType != t.EncPart.EType {
			continue
		}
		if err := t.Decrypt(key); err != nil {
			continue
		}
		p := t.DecryptedEncPart
		client := principalString(p.CName, p.CRealm)
		switch {
		case skewed(now.UTC().Truncate(time.Second), clientTime.UTC().Truncate(time.Second), DefaultMaxSkew):
			return nil, &Error{Exchange: "AP", Client: client, Service: svc, Code: 37, Text: "clock skew too great"}
		case !now.Before(p.EndTime.Add(DefaultMaxSkew)):
			return nil, &Error{Exchange: "AP", Client: client, Service: svc, Code: 32, Text: "ticket expired"}
		case !p.StartTime.IsZero() && p.StartTime.Sub(now) > DefaultMaxSkew:
			return nil, &Error{Exchange: "AP", Client: client, Service: svc, Code: 33, Text: "ticket not yet valid"}
		}
		snap, err := snapshotOf(p.AuthorizationData, key)
		if err != nil && err != ErrNoSnapshot {
			return nil, err
		}
		return &Accepted{Client: client, Snapshot: snap, EndTime: p.EndTime, KeyIndex: i}, nil
	}
	return nil, &Error{Exchange: "AP", Service: svc, Code: 41,
		Text: fmt.Sprintf("no key given decrypts the ticket (etype %d, kvno %d)", t.EncPart.EType, t.EncPart.KVNO)}
}

// Snapshot is the group snapshot the credentials' TGT carries (its PAC, read with the krbtgt
// account's current key): what the logon's token holds until the next logon.
func (k *KDC) Snapshot(now time.Time, c *Credentials) (Snapshot, error) {
	krbtgt, err := k.cfg.Principals.KRBTGT(now)
	if err != nil {
		return Snapshot{}, err
	}
	key, ok := longTermKey(krbtgt, c.TGT.EncPart.EType)
	if !ok {
		return Snapshot{}, fmt.Errorf("kdc: no krbtgt key of etype %d", c.TGT.EncPart.EType)
	}
	b, err := c.TGT.Marshal()
	if err != nil {
		return Snapshot{}, err
	}
	return TicketSnapshot(b, key)
}
