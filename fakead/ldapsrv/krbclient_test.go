package ldapsrv_test

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/gss"
	"github.com/gmsasim/gmsasim/sim"
)

// A hand-driven Kerberos LDAP client for the SASL tests: it builds its AP-REQ from a ticket the
// world's KDC issued in process (so its authenticator carries the world's time, not the wall
// clock), speaks LDAP as raw BER over TCP or TLS, and wraps and unwraps every PDU itself once a
// security layer is on (RFC 4121 initiator side, written here independently of the server's code).

// krbWorld is the default domain with DC1's account given a password (and so keys), a KDC over
// DC1's replica (in process and on loopback) and DC1's LDAP server.
type krbWorld struct {
	w    *sim.World
	pop  *sim.Population
	k    *kdc.KDC
	ksrv *kdc.Server
	f    *fixture
}

// dc1Password is the DC account's password the tests set. Divergence: until DC accounts get keys
// of their own (branch dckeys), the tests give DC1$ one.
const dc1Password = "dc1-machine-password-for-tests"

func newKrbWorld(t *testing.T, opts ldapsrv.Options) *krbWorld { return newKrbWorldTB(t, opts) }

func newKrbWorldTB(t testing.TB, opts ldapsrv.Options) *krbWorld {
	t.Helper()
	// The clock starts at the wall clock's now: gokrb5 clients (go-ldap's GSSAPIBind) stamp their
	// authenticators with time.Now(); the hand-driven client uses the world's time.
	w, pop, err := sim.NewDefaultDomain(sim.Config{Seed: 11, Start: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	err = w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		a, ok := d.Account("DC1$")
		if !ok {
			return fmt.Errorf("no DC1$")
		}
		if a.HasPassword {
			return nil // DC accounts have keys of their own now
		}
		return d.SetPassword(now, fakead.SystemCaller, a.DN, dc1Password)
	})
	if err != nil {
		t.Fatal(err)
	}
	k, err := kdc.ForDirectory(w.DC("DC1").Directory(), w.Rand("kdc"))
	if err != nil {
		t.Fatal(err)
	}
	ksrv, err := kdc.NewServer(kdc.ServerConfig{KDC: k, Exec: func(fn func(now time.Time) error) error {
		return w.ExecOn("DC1", func(now time.Time, _ *fakead.Directory) error { return fn(now) })
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ksrv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ksrv.Close() })
	return &krbWorld{w: w, pop: pop, k: k, ksrv: ksrv, f: start(t, w.Backend("DC1"), opts)}
}

// ticket logs name on (the world's KDC, in process, at the world's time) and gets a service
// ticket for spn.
func (kw *krbWorld) ticket(t testing.TB, name, spn string) *kdc.ServiceTicket {
	t.Helper()
	creds := kw.logon(t, name)
	return kw.serviceTicket(t, creds, spn)
}

func (kw *krbWorld) logon(t testing.TB, name string) *kdc.Credentials {
	t.Helper()
	var creds *kdc.Credentials
	err := kw.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		a, ok := d.Account(name)
		if !ok {
			return fmt.Errorf("no account %s", name)
		}
		var err error
		creds, err = kw.k.Logon(now, name, types.EncryptionKey{KeyType: kdc.EtypeAES256, KeyValue: a.Keys.AES256})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func (kw *krbWorld) serviceTicket(t testing.TB, creds *kdc.Credentials, spn string) *kdc.ServiceTicket {
	t.Helper()
	var st *kdc.ServiceTicket
	err := kw.w.ExecOn("DC1", func(now time.Time, _ *fakead.Directory) error {
		var err error
		st, err = kw.k.ServiceTicket(now, creds, spn)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var oidKRB5 = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}

// gssContext is the client's side of a Kerberos context.
type gssContext struct {
	session, subkey, acceptor types.EncryptionKey
	sendSeq                   uint64
}

// apReqToken builds the GSS-framed AP-REQ for st, stamped at ctime, with GSS flags and an
// initiator subkey (AES256, from crypto/rand: the test's own client).
func apReqToken(t testing.TB, st *kdc.ServiceTicket, client string, ctime time.Time, gssFlags uint32) ([]byte, *gssContext) {
	t.Helper()
	sub := make([]byte, 32)
	_, _ = rand.Read(sub)
	ctx := &gssContext{session: st.SessionKey, subkey: types.EncryptionKey{KeyType: kdc.EtypeAES256, KeyValue: sub}, sendSeq: 7000}
	ck := make([]byte, 24)
	binary.LittleEndian.PutUint32(ck, 16)
	binary.LittleEndian.PutUint32(ck[20:], gssFlags)
	auth := types.Authenticator{AVNO: 5, CRealm: "CONTOSO.COM", CName: types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, client),
		Cksum: types.Checksum{CksumType: 0x8003, Checksum: ck}, CTime: ctime.UTC(), Cusec: 0,
		SeqNumber: int64(ctx.sendSeq), SubKey: ctx.subkey}
	req, err := messages.NewAPReq(st.Ticket, st.SessionKey, auth)
	if err != nil {
		t.Fatal(err)
	}
	types.SetFlag(&req.APOptions, flags.APOptionMutualRequired)
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	inner := append(append(append([]byte(nil), oidKRB5...), 0x01, 0x00), b...)
	return append(gssLen(0x60, len(inner)), inner...), ctx
}

func gssLen(tag byte, n int) []byte {
	switch {
	case n < 0x80:
		return []byte{tag, byte(n)}
	case n < 0x100:
		return []byte{tag, 0x81, byte(n)}
	default:
		return []byte{tag, 0x82, byte(n >> 8), byte(n)}
	}
}

// readAPRep checks the server's AP-REP token and learns the acceptor subkey.
func (c *gssContext) readAPRep(t testing.TB, tok []byte) {
	t.Helper()
	if !bytes.HasPrefix(tok[2:], oidKRB5) && !bytes.HasPrefix(tok[3:], oidKRB5) {
		t.Fatalf("AP-REP token not framed with the Kerberos OID: %x", tok)
	}
	i := bytes.Index(tok, append(append([]byte(nil), oidKRB5...), 0x02, 0x00))
	var rep messages.APRep
	if err := rep.Unmarshal(tok[i+len(oidKRB5)+2:]); err != nil {
		t.Fatalf("AP-REP: %v", err)
	}
	plain, err := crypto.DecryptEncPart(rep.EncPart, c.session, 12)
	if err != nil {
		t.Fatalf("AP-REP enc-part does not decrypt with the session key: %v", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		t.Fatal(err)
	}
	if part.Subkey.KeyType == 0 {
		t.Fatal("AP-REP asserts no acceptor subkey")
	}
	c.acceptor = part.Subkey
}

func cfxHdr(wrap bool, fl byte, ec, rrc uint16, seq uint64) []byte {
	h := []byte{0x05, 0x04, fl, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if !wrap {
		h = []byte{0x04, 0x04, fl, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}
	} else {
		binary.BigEndian.PutUint16(h[4:], ec)
		binary.BigEndian.PutUint16(h[6:], rrc)
	}
	binary.BigEndian.PutUint64(h[8:], seq)
	return h
}

func cksum(t testing.TB, key types.EncryptionKey, data []byte, usage uint32) []byte {
	t.Helper()
	e, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.GetChecksumHash(key.KeyValue, data, usage)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wrap is the initiator's wrap token (usage 24), with the acceptor subkey; sealed ones are sent
// rotated by RRC 28 as Windows does.
func (c *gssContext) wrap(t testing.TB, payload []byte, seal bool) []byte {
	t.Helper()
	fl := byte(0x04)
	seq := c.sendSeq
	c.sendSeq++
	if seal {
		fl |= 0x02
		ct, err := gss.Encrypt(rand.Reader, c.acceptor, 24, append(append([]byte(nil), payload...), cfxHdr(true, fl, 0, 0, seq)...))
		if err != nil {
			t.Fatal(err)
		}
		rrc := 28 % len(ct)
		rot := append(append([]byte(nil), ct[len(ct)-rrc:]...), ct[:len(ct)-rrc]...)
		return append(cfxHdr(true, fl, 0, uint16(rrc), seq), rot...)
	}
	sum := cksum(t, c.acceptor, append(append([]byte(nil), payload...), cfxHdr(true, fl, 0, 0, seq)...), 24)
	return append(append(cfxHdr(true, fl, uint16(len(sum)), 0, seq), payload...), sum...)
}

// unwrap opens the acceptor's wrap token (usage 22) and reports whether it was sealed.
func (c *gssContext) unwrap(t testing.TB, tok []byte) ([]byte, bool) {
	t.Helper()
	if len(tok) < 16 || tok[0] != 5 || tok[1] != 4 || tok[2]&1 == 0 {
		t.Fatalf("not an acceptor wrap token: %x", tok)
	}
	key := c.session
	if tok[2]&4 != 0 {
		key = c.acceptor
	}
	ec := int(binary.BigEndian.Uint16(tok[4:]))
	data := tok[16:]
	if rrc := int(binary.BigEndian.Uint16(tok[6:])) % len(data); rrc > 0 { // undo the rotation
		data = append(append([]byte(nil), data[rrc:]...), data[:rrc]...)
	}
	if tok[2]&2 != 0 {
		plain, err := crypto.DecryptMessage(data, key, 22) // gokrb5's own decryption: an independent check
		if err != nil {
			t.Fatalf("sealed token does not decrypt: %v", err)
		}
		return plain[:len(plain)-16-ec], true
	}
	payload, sum := data[:len(data)-ec], data[len(data)-ec:]
	want := cksum(t, key, append(append([]byte(nil), payload...), cfxHdr(true, tok[2], 0, 0, binary.BigEndian.Uint64(tok[8:]))...), 22)
	if !bytes.Equal(want, sum) {
		t.Fatal("acceptor wrap token checksum mismatch")
	}
	return payload, false
}

// rawLDAP is an LDAP connection spoken by hand.
type rawLDAP struct {
	t     testing.TB
	c     net.Conn
	id    int64
	ctx   *gssContext
	seal  bool
	layer bool
	nt    *ntlmClient // set: the layer is NTLM session security (ntlmclient_test.go)
	in    []byte      // plaintext received, not yet parsed
}

func dialKrb(t testing.TB, addr net.Addr, tlsCfg *tls.Config) *rawLDAP {
	t.Helper()
	var c net.Conn
	var err error
	if tlsCfg != nil {
		c, err = tls.Dial("tcp", addr.String(), tlsCfg)
	} else {
		c, err = net.Dial("tcp", addr.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(clientTimeout))
	t.Cleanup(func() { c.Close() })
	return &rawLDAP{t: t, c: c}
}

func (r *rawLDAP) send(op *ber.Packet) {
	r.t.Helper()
	r.id++
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, r.id, ""))
	env.AppendChild(op)
	b := env.Bytes()
	if r.layer && r.nt != nil {
		b = r.nt.wrap(b)
	} else if r.layer {
		tok := r.ctx.wrap(r.t, b, r.seal)
		b = append(binary.BigEndian.AppendUint32(nil, uint32(len(tok))), tok...)
	}
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// recv reads the next LDAPMessage.
func (r *rawLDAP) recv() *ber.Packet {
	r.t.Helper()
	for {
		if len(r.in) >= 2 {
			if p, err := ber.DecodePacketErr(r.in); err == nil {
				n := len(p.Bytes())
				r.in = r.in[n:]
				return p
			}
		}
		if !r.layer {
			buf := make([]byte, 64<<10)
			n, err := r.c.Read(buf)
			if err != nil {
				r.t.Fatalf("read: %v", err)
			}
			r.in = append(r.in, buf[:n]...)
			continue
		}
		var h [4]byte
		if _, err := io.ReadFull(r.c, h[:]); err != nil {
			r.t.Fatalf("read SASL buffer: %v", err)
		}
		tok := make([]byte, binary.BigEndian.Uint32(h[:]))
		if _, err := io.ReadFull(r.c, tok); err != nil {
			r.t.Fatalf("read SASL buffer: %v", err)
		}
		if r.nt != nil {
			r.in = append(r.in, r.nt.unwrap(r.t, tok)...)
			continue
		}
		p, sealed := r.ctx.unwrap(r.t, tok)
		if sealed != r.seal {
			r.t.Fatalf("server token sealed=%v on a connection negotiated sealed=%v", sealed, r.seal)
		}
		r.in = append(r.in, p...)
	}
}

type ldapResult struct {
	code  int64
	diag  string
	creds []byte
	op    *ber.Packet
}

func krbResultOf(p *ber.Packet) ldapResult {
	op := p.Children[1]
	res := ldapResult{code: op.Children[0].Value.(int64), diag: op.Children[2].Data.String(), op: op}
	for _, c := range op.Children[3:] {
		if c.ClassType == ber.ClassContext && (c.Tag == 7 || c.Tag == 11) {
			res.creds = c.Data.Bytes()
		}
	}
	return res
}

func (r *rawLDAP) saslBind(mech string, creds []byte) ldapResult {
	r.t.Helper()
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 0, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	auth := ber.Encode(ber.ClassContext, ber.TypeConstructed, 3, nil, "")
	auth.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, mech, ""))
	if creds != nil {
		auth.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(creds), ""))
	}
	op.AppendChild(auth)
	r.send(op)
	return krbResultOf(r.recv())
}

// gssapiBind runs RFC 4752's exchange choosing layer (1 none, 2 integrity, 4 confidentiality)
// and returns the final result and the layers the server offered.
func (r *rawLDAP) gssapiBind(tok []byte, ctx *gssContext, layer byte) (ldapResult, byte) {
	r.t.Helper()
	r.ctx = ctx
	res := r.saslBind(ldapsrv.MechGSSAPI, tok)
	if res.code != 14 {
		return res, 0
	}
	ctx.readAPRep(r.t, res.creds)
	res = r.saslBind(ldapsrv.MechGSSAPI, nil)
	if res.code != 14 {
		r.t.Fatalf("empty GSSAPI step answered %d %q", res.code, res.diag)
	}
	offer, sealed := ctx.unwrap(r.t, res.creds)
	if sealed || len(offer) != 4 {
		r.t.Fatalf("layer offer %x sealed=%v", offer, sealed)
	}
	msg := []byte{layer, 0, 0x40, 0}
	res = r.saslBind(ldapsrv.MechGSSAPI, ctx.wrap(r.t, msg, false))
	if res.code == 0 && layer != 1 {
		r.layer, r.seal = true, layer == 4
	}
	return res, offer[0]
}

func (r *rawLDAP) whoAmI() string {
	r.t.Helper()
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 23, nil, "")
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, ldapsrv.OIDWhoAmI, ""))
	r.send(op)
	res := krbResultOf(r.recv())
	if res.code != 0 {
		r.t.Fatalf("WhoAmI: %d %s", res.code, res.diag)
	}
	return string(res.creds)
}

// readAttr reads one attribute of a base object: its values, or the result when the search failed.
func (r *rawLDAP) readAttr(dn, attr string) ([][]byte, ldapResult) {
	r.t.Helper()
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 3, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, ""))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 7, "objectClass", ""))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	attrs.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, attr, ""))
	op.AppendChild(attrs)
	r.send(op)
	var vals [][]byte
	for {
		p := r.recv()
		switch p.Children[1].Tag {
		case 4: // entry
			for _, a := range p.Children[1].Children[1].Children {
				if strings.EqualFold(a.Children[0].Data.String(), attr) {
					for _, v := range a.Children[1].Children {
						vals = append(vals, v.Data.Bytes())
					}
				}
			}
		case 5:
			return vals, krbResultOf(p)
		}
	}
}
