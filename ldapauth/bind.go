package ldapauth

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/gss"
)

// Protection is the security layer asked for after a SASL bind.
type Protection int

const (
	None Protection = iota // no layer: plain LDAP after the bind (or TLS underneath)
	Sign                   // integrity: wrap tokens with a checksum
	Seal                   // confidentiality: sealed wrap tokens
)

func (p Protection) String() string {
	switch p {
	case Sign:
		return "sign"
	case Seal:
		return "seal"
	}
	return "none"
}

func (p Protection) layer() byte {
	switch p {
	case Sign:
		return gss.LayerIntegrity
	case Seal:
		return gss.LayerConfidentiality
	}
	return gss.LayerNone
}

// Kerberos is what a SASL GSSAPI bind needs of the client's Kerberos identity.
type Kerberos struct {
	Realm string
	CName types.PrincipalName
	// Ticket returns a service ticket for spn ("ldap/dc1.contoso.com") and its session key.
	Ticket func(spn string) (messages.Ticket, types.EncryptionKey, error)
	// Now is the client's clock, stamped on the authenticator.
	Now func() time.Time
	// Rand supplies the initiator subkey, the sequence number and the confounders.
	Rand io.Reader
}

// ErrLayer is returned when the server does not offer the security layer asked for.
var ErrLayer = errors.New("ldapauth: the server does not offer the security layer asked for")

// BindGSSAPI starts LDAP over nc (plain TCP, or TLS for Protection None), binds with SASL GSSAPI
// as k's principal to spn, and starts the security layer p. The returned connection is go-ldap's;
// closing it closes nc.
func BindGSSAPI(nc net.Conn, k Kerberos, spn string, p Protection) (*ldap.Conn, error) {
	lc := &layerConn{Conn: nc}
	conn := ldap.NewConn(lc, isTLS(nc))
	conn.Start()
	cl := &gssapiClient{k: k, want: p}
	if err := conn.GSSAPIBind(cl, spn, ""); err != nil {
		conn.Close()
		return nil, err
	}
	if p != None {
		send, recv := cl.contexts()
		lc.start(send, recv, p == Seal, int(cl.serverMax))
	}
	return conn, nil
}

func isTLS(nc net.Conn) bool {
	_, ok := nc.(*tls.Conn)
	return ok
}

// gssapiClient is go-ldap's GSSAPIClient with the security layer chosen by the caller.
type gssapiClient struct {
	k    Kerberos
	want Protection

	session   types.EncryptionKey // the ticket's session key
	subkey    types.EncryptionKey // ours, in the authenticator
	accSubkey types.EncryptionKey // the AP-REP's (KeyType 0: none)
	sendSeq   uint64
	recvSeq   uint64
	serverMax uint32
}

func (c *gssapiClient) contexts() (send, recv *gss.Context) {
	send = &gss.Context{AcceptorSubkey: c.accSubkey, InitiatorKey: c.subkey, Rand: c.k.Rand, SendSeq: c.sendSeq}
	recv = &gss.Context{AcceptorSubkey: c.accSubkey, InitiatorKey: c.subkey, RecvSeq: c.recvSeq}
	return send, recv
}

func (c *gssapiClient) InitSecContext(target string, input []byte) ([]byte, bool, error) {
	return c.InitSecContextWithOptions(target, input, nil)
}

func (c *gssapiClient) InitSecContextWithOptions(target string, input []byte, apOptions []int) ([]byte, bool, error) {
	if input == nil {
		tok, err := c.apReq(target, apOptions)
		return tok, true, err
	}
	return nil, false, c.apRep(input)
}

// apReq is the initial context token: the AP-REQ of NewAPReq framed for the Kerberos mechanism.
func (c *gssapiClient) apReq(spn string, apOptions []int) ([]byte, error) {
	tkt, session, err := c.k.Ticket(spn)
	if err != nil {
		return nil, fmt.Errorf("ldapauth: service ticket for %s: %w", spn, err)
	}
	c.session = session
	ap, err := NewAPReq(c.k, tkt, session, apOptions...)
	if err != nil {
		return nil, err
	}
	c.subkey, c.sendSeq = ap.Subkey, ap.Seq
	return gss.ContextToken(oidKRB5, append([]byte{0x01, 0x00}, ap.DER...)), nil
}

// APReq is an AP-REQ a client built, with what it keeps for the context.
type APReq struct {
	DER    []byte              // the KRB_AP_REQ message
	Subkey types.EncryptionKey // the initiator's subkey in the authenticator
	Seq    uint64              // the initiator's first sequence number
}

// NewAPReq builds the AP-REQ a GSS initiator sends (RFC 4121 4.1): mutual authentication
// required, an authenticator stamped with k.Now carrying the GSS checksum (mutual, integrity,
// confidentiality, sequence), an initiator subkey of the session key's type and a sequence
// number, both drawn from k.Rand, encrypted with the ticket's session key.
func NewAPReq(k Kerberos, tkt messages.Ticket, session types.EncryptionKey, apOptions ...int) (APReq, error) {
	rnd := make([]byte, len(session.KeyValue)+4)
	if _, err := io.ReadFull(k.Rand, rnd); err != nil {
		return APReq{}, err
	}
	out := APReq{Subkey: types.EncryptionKey{KeyType: session.KeyType, KeyValue: rnd[:len(session.KeyValue)]},
		Seq: uint64(binary.BigEndian.Uint32(rnd[len(session.KeyValue):]) & 0x3fffffff)}
	cksum := make([]byte, 24)
	binary.LittleEndian.PutUint32(cksum, 16)
	binary.LittleEndian.PutUint32(cksum[20:], uint32(gssapi.ContextFlagMutual|gssapi.ContextFlagInteg|gssapi.ContextFlagConf|gssapi.ContextFlagSequence))
	now := k.Now().UTC()
	auth := types.Authenticator{AVNO: 5, CRealm: k.Realm, CName: k.CName,
		Cksum: types.Checksum{CksumType: chksumtype.GSSAPI, Checksum: cksum},
		CTime: now.Truncate(time.Second), Cusec: now.Nanosecond() / 1000 % 1000000,
		SubKey: out.Subkey, SeqNumber: int64(out.Seq)}
	ab, err := auth.Marshal()
	if err != nil {
		return APReq{}, err
	}
	ct, err := gss.Encrypt(k.Rand, session, keyusage.AP_REQ_AUTHENTICATOR, ab)
	if err != nil {
		return APReq{}, err
	}
	req := messages.APReq{PVNO: 5, MsgType: msgtype.KRB_AP_REQ, APOptions: types.NewKrbFlags(), Ticket: tkt,
		EncryptedAuthenticator: types.EncryptedData{EType: session.KeyType, Cipher: ct}}
	types.SetFlag(&req.APOptions, flags.APOptionMutualRequired)
	for _, o := range apOptions {
		types.SetFlag(&req.APOptions, o)
	}
	if out.DER, err = req.Marshal(); err != nil {
		return APReq{}, err
	}
	return out, nil
}

// apRep checks the server's AP-REP (mutual authentication) and takes its subkey and sequence
// number, or a KRB-ERROR as the reason the bind failed.
func (c *gssapiClient) apRep(tok []byte) error {
	oid, inner, err := gss.ParseContextToken(tok)
	if err != nil || !bytes.Equal(oid, oidKRB5) {
		return errors.New("ldapauth: the server's token is not a GSS-API InitialContextToken of the Kerberos mechanism")
	}
	switch {
	case len(inner) >= 2 && inner[0] == 0x03 && inner[1] == 0x00:
		var ke messages.KRBError
		if err := ke.Unmarshal(inner[2:]); err != nil {
			return fmt.Errorf("ldapauth: the server answered a KRB-ERROR that does not decode: %w", err)
		}
		return ke
	case len(inner) < 2 || inner[0] != 0x02 || inner[1] != 0x00:
		return errors.New("ldapauth: the server's reply is not an AP-REP")
	}
	var rep messages.APRep
	if err := rep.Unmarshal(inner[2:]); err != nil {
		return fmt.Errorf("ldapauth: AP-REP: %w", err)
	}
	plain, err := crypto.DecryptEncPart(rep.EncPart, c.session, keyusage.AP_REP_ENCPART)
	if err != nil {
		return fmt.Errorf("ldapauth: AP-REP does not decrypt with the session key (mutual authentication failed): %w", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return fmt.Errorf("ldapauth: AP-REP: %w", err)
	}
	c.accSubkey = types.EncryptionKey{}
	if part.Subkey.KeyType != 0 && len(part.Subkey.KeyValue) > 0 {
		c.accSubkey = part.Subkey
	}
	c.recvSeq = uint64(part.SequenceNumber)
	return nil
}

// NegotiateSaslAuth answers the server's offer of layers (RFC 4752 3.1) with the one asked for.
func (c *gssapiClient) NegotiateSaslAuth(input []byte, authzid string) ([]byte, error) {
	send, recv := c.contexts()
	payload, _, err := recv.Unwrap(input)
	if err != nil {
		return nil, fmt.Errorf("ldapauth: the server's security layer offer: %w", err)
	}
	offer, err := gss.ParseLayerMessage(payload)
	if err != nil {
		return nil, err
	}
	if offer.Layers&c.want.layer() == 0 {
		return nil, fmt.Errorf("%w (%s; offered %#02x)", ErrLayer, c.want, offer.Layers)
	}
	c.serverMax = offer.MaxSize
	c.recvSeq = recv.RecvSeq
	max := uint32(maxFrame - 1) // the largest 24-bit size
	if c.want == None {
		max = 0
	}
	out, err := send.Wrap(gss.LayerMessage{Layers: c.want.layer(), MaxSize: max, AuthzID: authzid}.Marshal(), false)
	c.sendSeq = send.SendSeq
	return out, err
}

func (c *gssapiClient) DeleteSecContext() error { return nil }

// oidKRB5 is the Kerberos V5 mechanism's OID, 1.2.840.113554.1.2.2, as DER contents.
var oidKRB5 = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}
