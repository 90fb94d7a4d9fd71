package kdc

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Defaults of a Config: AD's Default Domain Policy Kerberos settings.
const (
	DefaultMaxSkew        = 5 * time.Minute
	DefaultTicketLifetime = 10 * time.Hour
	DefaultRenewLifetime  = 7 * 24 * time.Hour
	// AccountCheckAge is the TGT age past which the TGS checks the client's account again
	// ([MS-KILE] 3.3.5.7.1; 20 minutes on Windows).
	AccountCheckAge = 20 * time.Minute
	// MaxMessageSize bounds a request (AD's MaxTokenSize is 48000 bytes; a KDC request is far
	// smaller). Larger requests get no answer.
	MaxMessageSize = 64 << 10
)

// Config is what a KDC is built from.
type Config struct {
	Realm      string     // "CONTOSO.COM"; upper-cased
	Principals Principals // the account database (NewDirectory over a replica)
	// Rand is the seeded stream session keys and confounders are drawn from (the world's). Required.
	Rand io.Reader
	// NetBIOSName and DCName go in the PAC (LogonDomainName, LogonServer); "" takes the realm's
	// first label and "DC".
	NetBIOSName    string
	DCName         string
	MaxSkew        time.Duration // 0: DefaultMaxSkew
	TicketLifetime time.Duration // 0: DefaultTicketLifetime
	RenewLifetime  time.Duration // 0: DefaultRenewLifetime
}

// KDC answers AS and TGS requests over a Principals database, at the time it is handed.
type KDC struct {
	cfg   Config
	realm string
	mu    sync.Mutex // serialises draws from cfg.Rand
	keys  keyCache
}

// New checks cfg and builds a KDC.
func New(cfg Config) (*KDC, error) {
	if cfg.Realm == "" {
		return nil, errors.New("kdc: Config.Realm is empty")
	}
	if cfg.Principals == nil {
		return nil, errors.New("kdc: Config.Principals is nil")
	}
	if cfg.Rand == nil {
		return nil, errors.New("kdc: Config.Rand is nil (hand in the world's seeded stream)")
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = DefaultMaxSkew
	}
	if cfg.TicketLifetime <= 0 {
		cfg.TicketLifetime = DefaultTicketLifetime
	}
	if cfg.RenewLifetime <= 0 {
		cfg.RenewLifetime = DefaultRenewLifetime
	}
	cfg.Realm = strings.ToUpper(cfg.Realm)
	if cfg.NetBIOSName == "" {
		cfg.NetBIOSName, _, _ = strings.Cut(cfg.Realm, ".")
	}
	if cfg.DCName == "" {
		cfg.DCName = "DC"
	}
	return &KDC{cfg: cfg, realm: cfg.Realm}, nil
}

// Realm is the KDC's realm.
func (k *KDC) Realm() string { return k.realm }

// rand is a reader over cfg.Rand safe for concurrent Handle calls.
func (k *KDC) rand() io.Reader { return lockedReader{k} }

type lockedReader struct{ k *KDC }

func (l lockedReader) Read(p []byte) (int, error) {
	l.k.mu.Lock()
	defer l.k.mu.Unlock()
	return io.ReadFull(l.k.cfg.Rand, p)
}

// Outcome is what one request came to: the reply to send (nil: send nothing), and for tracing the
// exchange ("AS", "TGS", "" when the request was not recognised), the principals named and the
// KRB-ERROR code (0 for a ticket).
type Outcome struct {
	Reply    []byte
	Exchange string
	Client   string // cname@realm as requested
	Service  string // sname as requested
	Code     int32
	Text     string // e-text of an error
	// Panic is set when handling panicked (a bug: the reply is then KRB_ERR_GENERIC).
	Panic string
}

// String is a trace line: "AS alice@CONTOSO.COM -> krbtgt/CONTOSO.COM: ok".
func (o Outcome) String() string {
	res := "ok"
	if o.Code != 0 {
		res = ErrorName(o.Code)
	}
	if o.Exchange == "" {
		if o.Reply == nil {
			return "garbage: no reply"
		}
		return "bad request: " + res
	}
	return fmt.Sprintf("%s %s -> %s: %s", o.Exchange, o.Client, o.Service, res)
}

// Handle answers one request: an AS-REQ or TGS-REQ in, an AS-REP, TGS-REP or KRB-ERROR out, or
// nil for input that is not worth an answer. now is the DC's (the world's) time. It never panics.
func (k *KDC) Handle(now time.Time, req []byte) []byte { return k.Exchange(now, req).Reply }

// Exchange is Handle with the outcome spelled out.
func (k *KDC) Exchange(now time.Time, req []byte) Outcome { return k.ExchangeAt(now, now, req) }

// ExchangeAt is Exchange when the wire's clock is not the world's: world is the directory's time
// (which accounts exist, which keys a gMSA has, group membership), wire the time the messages
// carry and are checked against (the client's timestamp and the 5-minute skew, authtime,
// starttime, endtime, renew-till, the KRB-ERROR's stime). A world that has been advanced ahead of
// the wall clock (serve's time travel) hands the wall clock in as wire, so that a real client's
// tickets stay valid by its own clock while the accounts and keys are the world's.
func (k *KDC) ExchangeAt(world, wire time.Time, req []byte) (out Outcome) {
	now := wire.UTC().Truncate(time.Second)
	defer func() {
		if r := recover(); r != nil {
			out = k.fail(now, out, errorcode.KRB_ERR_GENERIC, nil, types.PrincipalName{}, "internal error", nil)
			out.Panic = fmt.Sprint(r)
		}
	}()
	world = world.UTC().Truncate(time.Second)
	if len(req) == 0 || len(req) > MaxMessageSize {
		return Outcome{}
	}
	switch req[0] {
	case 0x6a: // [APPLICATION 10] AS-REQ
		return k.as(now, world, req)
	case 0x6c: // [APPLICATION 12] TGS-REQ
		return k.tgs(now, world, req)
	}
	return Outcome{}
}

// fail builds a KRB-ERROR outcome.
func (k *KDC) fail(now time.Time, o Outcome, code int32, cname *types.PrincipalName, sname types.PrincipalName, text string, edata []byte) Outcome {
	e := messages.KRBError{PVNO: 5, MsgType: msgtype.KRB_ERROR, STime: now, ErrorCode: code,
		Realm: k.realm, SName: sname, EText: text, EData: edata}
	if len(sname.NameString) == 0 {
		e.SName = types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", k.realm}}
	}
	if cname != nil && len(cname.NameString) > 0 {
		e.CName, e.CRealm = *cname, k.realm
	}
	o.Reply, o.Code, o.Text = encodeKRBError(e), code, text
	return o
}

func principalString(p types.PrincipalName, realm string) string {
	s := strings.Join(p.NameString, "/")
	if realm != "" {
		s += "@" + realm
	}
	return s
}

// times computes a ticket's end and renew-till from the request and the policy, capped by limits
// (the TGT's, for a TGS exchange; zero for none).
func (k *KDC) times(now time.Time, body messages.KDCReqBody, renewable bool, capEnd, capRenew time.Time) (end, renewTill time.Time) {
	end = now.Add(k.cfg.TicketLifetime)
	if !body.Till.IsZero() && body.Till.After(now) && body.Till.Before(end) {
		end = body.Till.UTC()
	}
	if !capEnd.IsZero() && capEnd.Before(end) {
		end = capEnd
	}
	if renewable {
		renewTill = now.Add(k.cfg.RenewLifetime)
		if !body.RTime.IsZero() && body.RTime.After(now) && body.RTime.Before(renewTill) {
			renewTill = body.RTime.UTC()
		}
		if !capRenew.IsZero() && capRenew.Before(renewTill) {
			renewTill = capRenew
		}
		if renewTill.Before(end) {
			renewTill = end
		}
	}
	return end.Truncate(time.Second), renewTill.Truncate(time.Second)
}

// ErrorName is the RFC 4120 name of a KRB-ERROR code with the code: "KDC_ERR_PREAUTH_FAILED (24)".
func ErrorName(code int32) string {
	s := errorcode.Lookup(code) // "(24) KDC_ERR_PREAUTH_FAILED Pre-authentication information was invalid"
	if f := strings.Fields(s); len(f) >= 2 && strings.HasPrefix(f[0], "(") {
		return fmt.Sprintf("%s (%d)", f[1], code)
	}
	return fmt.Sprintf("error (%d)", code)
}
