package ldapsrv_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/ntlm"
)

// A hand-driven NTLM client for the tests of session security: NTLMv2 with KEY_EXCH, SIGN and SEAL
// (the flags impacket's getNTLMSSPType1(signingRequired=True) sends), and the client's half of
// [MS-NLMP] 3.4 written here from the spec, independently of package ntlm's server side (which
// only lends NTOWFv2). Its randomness is fixed: the tests replay.

// ntlmClient is the initiator's side of one NTLM context.
type ntlmClient struct {
	negotiate []byte
	flags     uint32
	exported  []byte
	// client-to-server (out) and server-to-client (in)
	outSign, inSign, outSeal, inSeal []byte
	out, in                          *rc4.Cipher
	outSeq, inSeq                    uint32
}

const (
	cliFlagsSeal = 0xe0888235 // 56|KEY_EXCH|128|TARGET_INFO|ESS|ALWAYS_SIGN|NTLM|SEAL|SIGN|REQUEST_TARGET|UNICODE
	cliFlagsSign = cliFlagsSeal &^ 0x20
)

func newNTLMClient(flags uint32) *ntlmClient {
	neg := append([]byte("NTLMSSP\x00\x01\x00\x00\x00"), binary.LittleEndian.AppendUint32(nil, flags)...)
	neg = append(neg, make([]byte, 16)...) // empty domain and workstation fields
	return &ntlmClient{negotiate: neg, flags: flags}
}

func u16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return b
}

func hmacMD5(key []byte, parts ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func md5Of(parts ...[]byte) []byte {
	m := md5.New()
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// authenticate answers the CHALLENGE_MESSAGE for domain\user with the account's NT hash (v1: an
// NTLMv1-shaped 24-byte NT response instead, which the DC refuses whatever it holds).
func (c *ntlmClient) authenticate(t testing.TB, chal []byte, domain, user string, ntHash []byte, v1 bool) []byte {
	t.Helper()
	if len(chal) < 48 || !bytes.HasPrefix(chal, []byte("NTLMSSP\x00\x02\x00\x00\x00")) {
		t.Fatalf("not a CHALLENGE_MESSAGE: %x", chal)
	}
	serverFlags := binary.LittleEndian.Uint32(chal[20:])
	serverChallenge := chal[24:32]
	tiLen, tiOff := binary.LittleEndian.Uint16(chal[40:]), binary.LittleEndian.Uint32(chal[44:])
	targetInfo := chal[tiOff : tiOff+uint32(tiLen)]
	c.flags &= serverFlags

	key := ntlm.NTOWFv2(ntHash, user, domain)
	blob := []byte{1, 1, 0, 0, 0, 0, 0, 0}
	blob = binary.LittleEndian.AppendUint64(blob, ntlm.FileTime(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)))
	blob = append(blob, []byte("cli-chal")...)
	blob = append(blob, 0, 0, 0, 0)
	blob = append(blob, targetInfo...)
	blob = append(blob, 0, 0, 0, 0)
	proof := hmacMD5(key, serverChallenge, blob)
	ntResp := append(append([]byte(nil), proof...), blob...)
	if v1 {
		ntResp = bytes.Repeat([]byte{0x42}, 24)
	}
	kek := hmacMD5(key, proof)
	c.exported = []byte("client-random-16")
	encKey := make([]byte, 16)
	r, _ := rc4.NewCipher(kek)
	r.XORKeyStream(encKey, c.exported)

	payload := [][]byte{make([]byte, 24), ntResp, u16le(domain), u16le(user), u16le("WS1"), encKey}
	msg := append([]byte("NTLMSSP\x00"), 3, 0, 0, 0)
	off := 64
	for _, p := range payload {
		msg = binary.LittleEndian.AppendUint16(msg, uint16(len(p)))
		msg = binary.LittleEndian.AppendUint16(msg, uint16(len(p)))
		msg = binary.LittleEndian.AppendUint32(msg, uint32(off))
		off += len(p)
	}
	msg = binary.LittleEndian.AppendUint32(msg, c.flags&^0x02000000) // no VERSION: a 64-byte header
	for _, p := range payload {
		msg = append(msg, p...)
	}

	c.outSign = md5Of(c.exported, []byte("session key to client-to-server signing key magic constant\x00"))
	c.inSign = md5Of(c.exported, []byte("session key to server-to-client signing key magic constant\x00"))
	c.outSeal = md5Of(c.exported, []byte("session key to client-to-server sealing key magic constant\x00"))
	c.inSeal = md5Of(c.exported, []byte("session key to server-to-client sealing key magic constant\x00"))
	c.out, _ = rc4.NewCipher(c.outSeal)
	c.in, _ = rc4.NewCipher(c.inSeal)
	return msg
}

func (c *ntlmClient) sealing() bool { return c.flags&0x20 != 0 }

// sign is [MS-NLMP] 3.4.4.2: HMAC_MD5(SignKey, SeqNum || msg)[:8], RC4ed under KEY_EXCH.
func sigOf(key []byte, h *rc4.Cipher, seq uint32, msg []byte) []byte {
	s := binary.LittleEndian.AppendUint32(nil, seq)
	sum := hmacMD5(key, s, msg)[:8]
	h.XORKeyStream(sum, sum)
	return append(append(binary.LittleEndian.AppendUint32(nil, 1), sum...), s...)
}

// wrap is one client-to-server buffer with its 4-byte length.
func (c *ntlmClient) wrap(msg []byte) []byte {
	body := append([]byte(nil), msg...)
	if c.sealing() {
		c.out.XORKeyStream(body, msg)
	}
	sig := sigOf(c.outSign, c.out, c.outSeq, msg)
	c.outSeq++
	buf := append(sig, body...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(buf))), buf...)
}

// unwrap opens one server-to-client buffer (without its length) and checks its signature.
func (c *ntlmClient) unwrap(t testing.TB, buf []byte) []byte {
	t.Helper()
	if len(buf) < 16 {
		t.Fatalf("NTLM buffer of %d bytes", len(buf))
	}
	msg := append([]byte(nil), buf[16:]...)
	if c.sealing() {
		c.in.XORKeyStream(msg, buf[16:])
	}
	if want := sigOf(c.inSign, c.in, c.inSeq, msg); !bytes.Equal(want, buf[:16]) {
		t.Fatalf("server signature %x, want %x (seq %d)", buf[:16], want, c.inSeq)
	}
	c.inSeq++
	return msg
}

// sicily sends a Sicily bind with the choice tag (9, 10, 11) and returns the result with the
// matchedDN in creds.
func (r *rawLDAP) sicily(tag int, name string, payload []byte) ldapResult {
	r.t.Helper()
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 0, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, ""))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, ber.Tag(tag), string(payload), ""))
	r.send(op)
	res := krbResultOf(r.recv())
	res.creds = res.op.Children[1].Data.Bytes()
	return res
}

func accountNTHash(t testing.TB, kw *krbWorld, name string) []byte {
	h, err := hex.DecodeString(ntHashHex(t, kw, name))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// sicilyNTLM runs discovery, negotiate and response; it returns the final result.
func (r *rawLDAP) sicilyNTLM(c *ntlmClient, domain, user string, ntHash []byte, v1 bool) ldapResult {
	r.t.Helper()
	if res := r.sicily(9, "", nil); res.code != 0 || string(res.creds) != ldapsrv.SicilyPackages {
		r.t.Fatalf("package discovery: %d %q %q", res.code, res.creds, res.diag)
	}
	res := r.sicily(10, "NTLM", c.negotiate)
	if res.code != 0 {
		r.t.Fatalf("sicilyNegotiate: %d %q", res.code, res.diag)
	}
	res = r.sicily(11, "", c.authenticate(r.t, res.creds, domain, user, ntHash, v1))
	if res.code == 0 && c.flags&0x30 != 0 {
		r.layer, r.nt, r.seal = true, c, c.sealing()
	}
	return res
}

// TestNTLMSicilySealed: WEB1$ binds through Sicily asking for KEY_EXCH, SIGN and SEAL (impacket's
// signingRequired shape) over plain LDAP; every later PDU travels as length ‖ signature ‖ sealed
// message both ways, and the sealed connection reads the gMSA's password. A signed-only one binds
// too but gets 0000202D.
func TestNTLMSicilySealed(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{RequireSigning: true})
	h := accountNTHash(t, kw, "WEB1$")

	r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	if res := r.sicilyNTLM(newNTLMClient(cliFlagsSeal), "CONTOSO", "WEB1$", h, false); res.code != 0 {
		t.Fatalf("sealed Sicily bind: %d %q", res.code, res.diag)
	}
	if got := r.whoAmI(); got != `u:CONTOSO\WEB1$` {
		t.Errorf("WhoAmI over the sealed layer %q", got)
	}
	for i := range 2 { // sequence numbers and RC4 streams move on in both directions
		vals, res := r.readAttr(itFarm1DN, pwAttr)
		if res.code != 0 || len(vals) != 1 || len(vals[0]) < 256 {
			t.Fatalf("read %d over sealed NTLM: %d values, %d %q", i, len(vals), res.code, res.diag)
		}
	}

	r = dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	if res := r.sicilyNTLM(newNTLMClient(cliFlagsSign), "CONTOSO", "WEB1$", h, false); res.code != 0 {
		t.Fatalf("signed Sicily bind: %d %q", res.code, res.diag)
	}
	if vals, res := r.readAttr(itFarm1DN, pwAttr); len(vals) != 0 || !strings.Contains(res.diag, "0000202D") {
		t.Fatalf("password over signed-only NTLM: %d values, %d %q; want 0000202D", len(vals), res.code, res.diag)
	}

	// Over LDAPS a client asking for sign/seal is refused, as with SASL layers.
	r = dialKrb(t, kw.f.srv.LDAPSAddr(), &tls.Config{RootCAs: kw.f.pool, ServerName: "dc1.contoso.com"})
	if res := r.sicilyNTLM(newNTLMClient(cliFlagsSeal), "CONTOSO", "WEB1$", h, false); res.code != 53 || res.diag != ldapsrv.DiagSignSealOverTLS {
		t.Fatalf("sealed NTLM over LDAPS: %d %q", res.code, res.diag)
	}
}

// TestNTLMv1Refused: an NTLMv1-shaped (24-byte) NT response is refused as a DC at LAN Manager
// level 5 refuses it: 49 with data 52e.
func TestNTLMv1Refused(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	res := r.sicilyNTLM(newNTLMClient(cliFlagsSeal), "CONTOSO", "WEB1$", accountNTHash(t, kw, "WEB1$"), true)
	if res.code != 49 || !strings.Contains(res.diag, "data 52e") {
		t.Fatalf("NTLMv1: %d %q", res.code, res.diag)
	}
	if got := r.whoAmI(); got != "" {
		t.Errorf("bound as %q", got)
	}
}

// TestSicilyOutOfOrder: a response without a negotiate, or after another bind in between, is
// refused (49, 80090308 ... data 0); garbage as the NEGOTIATE too.
func TestSicilyOutOfOrder(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	h := accountNTHash(t, kw, "WEB1$")
	r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	c := newNTLMClient(cliFlagsSeal)
	res := r.sicily(10, "", c.negotiate)
	if res.code != 0 {
		t.Fatalf("negotiate: %d %q", res.code, res.diag)
	}
	auth := c.authenticate(t, res.creds, "CONTOSO", "WEB1$", h, false)
	if res := r.sicily(9, "", nil); res.code != 0 { // another bind: the handshake is gone
		t.Fatal(res.diag)
	}
	if res := r.sicily(11, "", auth); res.code != 49 || !strings.HasPrefix(res.diag, "80090308: ") {
		t.Fatalf("response after another bind: %d %q", res.code, res.diag)
	}
	if res := r.sicily(10, "", []byte("NTLMSSP\x00garbage")); res.code != 49 || !strings.Contains(res.diag, "data 0") {
		t.Fatalf("garbage negotiate: %d %q", res.code, res.diag)
	}
	if got := r.whoAmI(); got != "" {
		t.Errorf("bound as %q", got)
	}
}

// TestSPNEGONTLM: GSS-SPNEGO with NTLM the only mechanism, the NEGOTIATE as the optimistic token;
// the server selects NTLM (accept-incomplete, supportedMech NTLM, the CHALLENGE), then checks the
// client's mechListMIC (an NTLM signature over the MechTypeList, sequence number 0) and answers
// accept-completed with its own; with SEAL negotiated the sealed layer follows, its sequence
// numbers starting at 1 and the RC4 streams restarted ([MS-SPNG]). Bare NTLMSSP tokens as
// GSS-SPNEGO credentials work too.
func TestSPNEGONTLM(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	h := accountNTHash(t, kw, "WEB1$")
	mechTypes := [][]byte{oidNTLM, oidMSKRB5}
	mechTypesDER := derTLV(0x30, mechTypes...)

	r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	c := newNTLMClient(cliFlagsSeal)
	res := r.saslBind(ldapsrv.MechGSSSPNEGO, negTokenInit(mechTypes, c.negotiate, nil))
	state, mech, chal, _ := parseNegResp(t, res.creds)
	if res.code != 14 || state != 1 || !bytes.Equal(mech, oidNTLM) {
		t.Fatalf("first step: %d %q state %d mech %x", res.code, res.diag, state, mech)
	}
	auth := c.authenticate(t, chal, "CONTOSO", "WEB1$", h, false)
	mic := sigOf(c.outSign, c.out, c.outSeq, mechTypesDER)
	c.outSeq++
	c.out, _ = rc4.NewCipher(c.outSeal)
	res = r.saslBind(ldapsrv.MechGSSSPNEGO, negTokenRespClient(auth, mic))
	if res.code != 0 {
		t.Fatalf("second step: %d %q", res.code, res.diag)
	}
	state, _, _, smic := parseNegResp(t, res.creds)
	if want := sigOf(c.inSign, c.in, c.inSeq, mechTypesDER); state != 0 || !bytes.Equal(smic, want) {
		t.Fatalf("final negTokenResp state %d mechListMIC %x, want %x", state, smic, want)
	}
	c.inSeq++
	c.in, _ = rc4.NewCipher(c.inSeal)
	r.layer, r.nt, r.seal = true, c, true
	if got := r.whoAmI(); got != `u:CONTOSO\WEB1$` {
		t.Errorf("WhoAmI %q", got)
	}
	if vals, res := r.readAttr(itFarm1DN, pwAttr); res.code != 0 || len(vals) != 1 {
		t.Fatalf("password over sealed SPNEGO-NTLM: %d values, %d %q", len(vals), res.code, res.diag)
	}

	// Bare NTLMSSP (Metasploit's shape), no session security: bound, no password over plain LDAP.
	r = dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	c = newNTLMClient(cliFlagsSeal &^ 0x70) // neither SIGN, SEAL nor KEY_EXCH
	res = r.saslBind(ldapsrv.MechGSSSPNEGO, c.negotiate)
	if res.code != 14 || !bytes.HasPrefix(res.creds, []byte("NTLMSSP\x00\x02")) {
		t.Fatalf("bare NEGOTIATE: %d %q %x", res.code, res.diag, res.creds)
	}
	if res = r.saslBind(ldapsrv.MechGSSSPNEGO, c.authenticate(t, res.creds, "", "web1$", h, false)); res.code != 0 {
		t.Fatalf("bare AUTHENTICATE: %d %q", res.code, res.diag)
	}
	if got := r.whoAmI(); got != `u:CONTOSO\WEB1$` {
		t.Errorf("WhoAmI after bare NTLMSSP %q", got)
	}
	if vals, res := r.readAttr(itFarm1DN, pwAttr); len(vals) != 0 || !strings.Contains(res.diag, "0000202D") {
		t.Fatalf("password without a layer: %d values, %q", len(vals), res.diag)
	}

	// A forged mechListMIC is refused.
	r = dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	c = newNTLMClient(cliFlagsSeal)
	res = r.saslBind(ldapsrv.MechGSSSPNEGO, negTokenInit(mechTypes, c.negotiate, nil))
	_, _, chal, _ = parseNegResp(t, res.creds)
	auth = c.authenticate(t, chal, "CONTOSO", "WEB1$", h, false)
	mic = sigOf(c.outSign, c.out, c.outSeq, mechTypesDER)
	mic[5] ^= 1
	if res = r.saslBind(ldapsrv.MechGSSSPNEGO, negTokenRespClient(auth, mic)); res.code != 49 {
		t.Fatalf("forged mechListMIC: %d %q", res.code, res.diag)
	}
	if got := r.whoAmI(); got != "" {
		t.Errorf("bound as %q after a forged MIC", got)
	}
}

// FuzzNTLMBuffers feeds raw bytes to the reader of an installed sealed NTLM layer: it never
// panics, never returns (0, nil), and hands on only what a good buffer carried (never more
// plaintext than input); a bad one ends the connection (errFraming).
func FuzzNTLMBuffers(f *testing.F) {
	newSession := func(t testing.TB) (*ntlm.Session, *ntlmClient) {
		srv := ntlm.NewServer(ntlm.ServerConfig{NetBIOSDomain: "CONTOSO", NetBIOSComputer: "DC1", DNSDomain: "contoso.com",
			DNSComputer: "dc1.contoso.com", Now: func() time.Time { return time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC) },
			Rand: bytes.NewReader([]byte("chal-012"))})
		c := newNTLMClient(cliFlagsSeal)
		chal, err := srv.Challenge(c.negotiate)
		if err != nil {
			t.Fatal(err)
		}
		h := ntlm.NTHash("Secret123!")
		sess, err := srv.Authenticate(c.authenticate(t, chal, "CONTOSO", "alice", h, false),
			func(string, string) ([]byte, error) { return h, nil })
		if err != nil {
			t.Fatal(err)
		}
		return sess, c
	}
	sess, c := newSession(f)
	good := c.wrap([]byte("0\x05\x02\x01\x01B\x00"))
	if got, err := io.ReadAll(io.LimitReader(ldapsrv.NTLMLayerReader(sess, bytes.NewReader(good), 1<<16), 7)); err != nil || string(got) != "0\x05\x02\x01\x01B\x00" {
		f.Fatalf("the seed buffer reads %x, %v", got, err)
	}
	_, c = newSession(f)
	good = c.wrap([]byte("0\x05\x02\x01\x01B\x00"))
	f.Add(good)
	f.Add(append(append([]byte(nil), good...), c.wrap([]byte("0\x05\x02\x01\x02B\x00"))...))
	f.Add([]byte{0, 0, 0, 15})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		sess, _ := newSession(t)
		r := ldapsrv.NTLMLayerReader(sess, bytes.NewReader(b), 1<<16)
		buf := make([]byte, 512)
		total := 0
		for {
			n, err := r.Read(buf)
			if n == 0 && err == nil {
				t.Fatal("Read returned (0, nil)")
			}
			total += n
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ldapsrv.ErrFraming) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
		}
		if total > len(b) {
			t.Fatalf("%d plaintext bytes out of %d input bytes", total, len(b))
		}
	})
}
