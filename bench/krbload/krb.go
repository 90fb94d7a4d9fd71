package main

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// maxReply bounds a KDC reply read off TCP.
const maxReply = 1 << 20

// Kerberos error codes the client looks for (RFC 4120 7.5.9).
const errPreauthRequired = 25

// KRBError is a KRB-ERROR answer where another message was expected.
type KRBError struct {
	Code int32
	Text string
}

func (e *KRBError) Error() string { return fmt.Sprintf("KRB-ERROR %d %s", e.Code, e.Text) }

// exchange sends one request over a new TCP connection (RFC 4120 7.2.2: 4-byte big-endian length,
// then the message) and returns the reply, closing the connection, as MIT libkrb5 does over TCP.
func exchange(addr string, timeout time.Duration, req []byte) ([]byte, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil { // wallclock: socket deadline
		return nil, err
	}
	msg := make([]byte, 4+len(req))
	binary.BigEndian.PutUint32(msg, uint32(len(req)))
	copy(msg[4:], req)
	if _, err := conn.Write(msg); err != nil {
		return nil, err
	}
	return readFrame(conn)
}

// readFrame reads one length-prefixed message (bounded by maxReply).
func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("reading the reply length: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxReply {
		return nil, fmt.Errorf("reply length %d: want 1…%d", n, maxReply)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("reading a %d-byte reply: %w", n, err)
	}
	return b, nil
}

// asKRBError returns the KRB-ERROR in b, or nil when b is not one (application tag 30).
func asKRBError(b []byte) *messages.KRBError {
	if len(b) == 0 || b[0] != 0x7e {
		return nil
	}
	var e messages.KRBError
	if e.Unmarshal(b) != nil {
		return nil
	}
	return &e
}

func krbErr(e *messages.KRBError) error { return &KRBError{Code: e.ErrorCode, Text: e.EText} }

// servicePrincipal parses "svc/host" (or a one-component name) into a principal name.
func servicePrincipal(s string) (types.PrincipalName, error) {
	parts := strings.Split(s, "/")
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, "@ ") {
			return types.PrincipalName{}, fmt.Errorf("%q: want service/host without a realm", s)
		}
	}
	nt := nametype.KRB_NT_SRV_INST
	if len(parts) == 1 {
		nt = nametype.KRB_NT_PRINCIPAL
	}
	return types.PrincipalName{NameType: nt, NameString: parts}, nil
}

// client holds what every exchange of one invocation shares.
type client struct {
	c    *Config
	cfg  *config.Config
	keys *keyring
	svc  types.PrincipalName
}

func newClient(c *Config, keys *keyring) (*client, error) {
	svc, err := servicePrincipal(c.Service)
	if err != nil {
		return nil, err
	}
	cfg := config.New()
	cfg.LibDefaults.NoAddresses = true
	cfg.LibDefaults.DefaultTktEnctypeIDs = []int32{c.Etype}
	cfg.LibDefaults.DefaultTGSEnctypeIDs = []int32{c.Etype}
	cfg.LibDefaults.Forwardable = false
	cfg.LibDefaults.Proxiable = false
	cfg.LibDefaults.RenewLifetime = 0
	cfg.LibDefaults.TicketLifetime = 10 * time.Hour
	return &client{c: c, cfg: cfg, keys: keys, svc: svc}, nil
}

// nonce is a Kerberos nonce (31 bits, positive) from the worker's seeded stream.
func nonce(rng *rand.Rand) int { return int(rng.Int32N(1<<31-1)) + 1 }

// Login is a full password login of user i, as kinit does it: an AS-REQ without pre-authentication
// that must be answered KDC_ERR_PREAUTH_REQUIRED (its PA-ETYPE-INFO2 gives the salt), then the
// AS-REQ with PA-ENC-TIMESTAMP whose AS-REP must decrypt with the user's key and carry the nonce.
// It returns the TGT and its session key.
func (cl *client) Login(rng *rand.Rand, i int) (messages.Ticket, types.EncryptionKey, error) {
	var none messages.Ticket
	cname := types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: []string{UserName(i)}}
	req, err := messages.NewASReqForTGT(cl.c.Realm, cl.cfg, cname)
	if err != nil {
		return none, types.EncryptionKey{}, err
	}
	req.ReqBody.Nonce = nonce(rng)
	b, err := req.Marshal()
	if err != nil {
		return none, types.EncryptionKey{}, err
	}
	rep, err := exchange(cl.c.KDC, cl.c.Timeout, b)
	if err != nil {
		return none, types.EncryptionKey{}, fmt.Errorf("AS-REQ %s: %w", UserName(i), err)
	}
	e := asKRBError(rep)
	if e == nil || e.ErrorCode != errPreauthRequired {
		if e != nil {
			return none, types.EncryptionKey{}, fmt.Errorf("AS-REQ %s without preauth: %w, want PREAUTH_REQUIRED", UserName(i), krbErr(e))
		}
		return none, types.EncryptionKey{}, fmt.Errorf("AS-REQ %s without preauth: not a KRB-ERROR, want PREAUTH_REQUIRED", UserName(i))
	}
	salt, params, err := etypeInfo2(e.EData, cl.c.Etype)
	if err != nil {
		return none, types.EncryptionKey{}, fmt.Errorf("PREAUTH_REQUIRED for %s: %w", UserName(i), err)
	}
	if salt == "" {
		salt = cl.c.DefaultSalt(i)
	}
	key, err := cl.keys.get(salt, params)
	if err != nil {
		return none, types.EncryptionKey{}, err
	}
	ts, err := types.GetPAEncTSEncAsnMarshalled() // wallclock (inside gokrb5): the KDC checks the skew
	if err != nil {
		return none, types.EncryptionKey{}, err
	}
	enc, err := crypto.GetEncryptedData(ts, key, keyusage.AS_REQ_PA_ENC_TIMESTAMP, 0)
	if err != nil {
		return none, types.EncryptionKey{}, err
	}
	pb, err := enc.Marshal()
	if err != nil {
		return none, types.EncryptionKey{}, err
	}
	req.PAData = types.PADataSequence{{PADataType: patype.PA_ENC_TIMESTAMP, PADataValue: pb}}
	req.ReqBody.Nonce = nonce(rng)
	if b, err = req.Marshal(); err != nil {
		return none, types.EncryptionKey{}, err
	}
	if rep, err = exchange(cl.c.KDC, cl.c.Timeout, b); err != nil {
		return none, types.EncryptionKey{}, fmt.Errorf("AS-REQ %s with preauth: %w", UserName(i), err)
	}
	if e := asKRBError(rep); e != nil {
		return none, types.EncryptionKey{}, fmt.Errorf("AS-REQ %s with preauth: %w", UserName(i), krbErr(e))
	}
	var asRep messages.ASRep
	if err := asRep.Unmarshal(rep); err != nil {
		return none, types.EncryptionKey{}, fmt.Errorf("AS-REP for %s: %w", UserName(i), err)
	}
	plain, err := crypto.DecryptEncPart(asRep.EncPart, key, keyusage.AS_REP_ENCPART)
	if err != nil {
		return none, types.EncryptionKey{}, fmt.Errorf("AS-REP for %s does not decrypt with the user's key: %w", UserName(i), err)
	}
	var part messages.EncKDCRepPart
	if err := part.Unmarshal(plain); err != nil {
		return none, types.EncryptionKey{}, fmt.Errorf("AS-REP for %s: %w", UserName(i), err)
	}
	if part.Nonce != req.ReqBody.Nonce {
		return none, types.EncryptionKey{}, fmt.Errorf("AS-REP for %s: nonce %d, want %d", UserName(i), part.Nonce, req.ReqBody.Nonce)
	}
	if !asRep.CName.Equal(cname) || !strings.EqualFold(asRep.CRealm, cl.c.Realm) {
		return none, types.EncryptionKey{}, fmt.Errorf("AS-REP for %s names %s@%s", UserName(i), asRep.CName.PrincipalNameString(), asRep.CRealm)
	}
	return asRep.Ticket, part.Key, nil
}

// ServiceTicket is one TGS exchange for the service with the TGT: the TGS-REP must decrypt with
// the TGT's session key, carry the request's nonce and name the service.
func (cl *client) ServiceTicket(rng *rand.Rand, cname types.PrincipalName, tgt messages.Ticket, sk types.EncryptionKey) error {
	req, err := messages.NewTGSReq(cname, cl.c.Realm, cl.cfg, tgt, sk, cl.svc, false)
	if err != nil {
		return err
	}
	// gokrb5 draws this nonce (crypto/rand) before it checksums the body into the authenticator,
	// which MIT krb5kdc verifies: it is kept, so TGS nonces are the one unseeded part of a run.
	b, err := req.Marshal()
	if err != nil {
		return err
	}
	rep, err := exchange(cl.c.KDC, cl.c.Timeout, b)
	if err != nil {
		return fmt.Errorf("TGS-REQ %s: %w", cl.c.Service, err)
	}
	if e := asKRBError(rep); e != nil {
		return fmt.Errorf("TGS-REQ %s: %w", cl.c.Service, krbErr(e))
	}
	var tgsRep messages.TGSRep
	if err := tgsRep.Unmarshal(rep); err != nil {
		return fmt.Errorf("TGS-REP for %s: %w", cl.c.Service, err)
	}
	if err := tgsRep.DecryptEncPart(sk); err != nil {
		return fmt.Errorf("TGS-REP for %s does not decrypt with the TGT's session key: %w", cl.c.Service, err)
	}
	if got := tgsRep.DecryptedEncPart.Nonce; got != req.ReqBody.Nonce {
		return fmt.Errorf("TGS-REP for %s: nonce %d, want %d", cl.c.Service, got, req.ReqBody.Nonce)
	}
	if got := tgsRep.Ticket.SName; !strings.EqualFold(strings.Join(got.NameString, "/"), cl.c.Service) {
		return fmt.Errorf("TGS-REP for %s: ticket for %s", cl.c.Service, strings.Join(got.NameString, "/"))
	}
	return nil
}

// etypeInfo2 finds the salt and string-to-key parameters for etype in a KRB-ERROR's e-data
// (METHOD-DATA with PA-ETYPE-INFO2).
func etypeInfo2(edata []byte, etype int32) (salt, params string, err error) {
	var md types.PADataSequence
	if err := md.Unmarshal(edata); err != nil {
		return "", "", fmt.Errorf("e-data is not METHOD-DATA: %w", err)
	}
	for _, pa := range md {
		if pa.PADataType != patype.PA_ETYPE_INFO2 {
			continue
		}
		info, err := pa.GetETypeInfo2()
		if err != nil {
			return "", "", fmt.Errorf("PA-ETYPE-INFO2: %w", err)
		}
		for _, ent := range info {
			if ent.EType == etype {
				return ent.Salt, hex.EncodeToString(ent.S2KParams), nil
			}
		}
		return "", "", fmt.Errorf("PA-ETYPE-INFO2 has no entry for etype %d", etype)
	}
	return "", "", errors.New("no PA-ETYPE-INFO2 in the e-data")
}
