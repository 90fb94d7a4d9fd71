package ldapsrv_test

import (
	"bytes"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

var (
	oidMSKRB5 = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02}
	oidNTLM   = []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a}
	oidSPNEGO = []byte{0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}
	// oidNegoEx is NEGOEX (1.3.6.1.4.1.311.2.2.30, [MS-NEGOEX]), which the server does not support.
	oidNegoEx = []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e}
)

func derTLV(tag byte, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	return append(gssLen(tag, len(body)), body...)
}

// negTokenInit is the GSS-framed SPNEGO negTokenInit (RFC 4178 4.2.1), as Windows sends it.
func negTokenInit(mechTypes [][]byte, mechToken, mic []byte) []byte {
	f := [][]byte{derTLV(0xa0, derTLV(0x30, mechTypes...))}
	if mechToken != nil {
		f = append(f, derTLV(0xa2, derTLV(0x04, mechToken)))
	}
	if mic != nil {
		f = append(f, derTLV(0xa3, derTLV(0x04, mic)))
	}
	return derTLV(0x60, oidSPNEGO, derTLV(0xa0, derTLV(0x30, f...)))
}

func negTokenRespClient(respToken, mic []byte) []byte {
	var f [][]byte
	if respToken != nil {
		f = append(f, derTLV(0xa2, derTLV(0x04, respToken)))
	}
	if mic != nil {
		f = append(f, derTLV(0xa3, derTLV(0x04, mic)))
	}
	return derTLV(0xa1, derTLV(0x30, f...))
}

// parseNegResp reads the server's negTokenResp: negState, supportedMech, responseToken, mechListMIC.
func parseNegResp(t *testing.T, b []byte) (state int64, mech, tok, mic []byte) {
	t.Helper()
	p, err := ber.DecodePacketErr(b)
	if err != nil || p.Tag != 1 || len(p.Children) != 1 {
		t.Fatalf("not a negTokenResp: %x", b)
	}
	state = -1
	for _, f := range p.Children[0].Children {
		v := f.Children[0]
		switch f.Tag {
		case 0:
			state = int64(v.ByteValue[len(v.ByteValue)-1])
		case 1:
			mech = v.Bytes()
		case 2:
			tok = v.Data.Bytes()
		case 3:
			mic = v.Data.Bytes()
		}
	}
	return
}

// micOver is the initiator's MIC token over data (RFC 4121 4.2.6.1, usage 25) with key.
func micOver(t *testing.T, c *gssContext, data []byte, acceptorKey bool) []byte {
	key, fl := c.subkey, byte(0)
	if acceptorKey {
		key, fl = c.acceptor, 4
	}
	h := cfxHdr(false, fl, 0, 0, c.sendSeq)
	c.sendSeq++
	return append(h, cksum(t, key, append(append([]byte(nil), data...), h...), 25)...)
}

// checkServerMIC verifies the acceptor's MIC token over data (usage 23, the acceptor subkey).
func checkServerMIC(t *testing.T, c *gssContext, tok, data []byte) {
	t.Helper()
	if len(tok) < 16 || tok[0] != 4 || tok[1] != 4 || tok[2] != 1|4 {
		t.Fatalf("server mechListMIC is not an acceptor MIC token with the acceptor subkey: %x", tok)
	}
	if want := cksum(t, c.acceptor, append(append([]byte(nil), data...), tok[:16]...), 23); !bytes.Equal(want, tok[16:]) {
		t.Fatal("server mechListMIC does not verify")
	}
}

// TestSPNEGOKerberosSealed: Windows' shape of a sealed GSS-SPNEGO bind: negTokenInit listing MS's
// Kerberos OID first with the AP-REQ (GSS flags integrity + confidentiality) → success with
// accept-completed and the AP-REP in one round trip; then a sealed layer, the caller is WEB1$ and
// reads the password.
func TestSPNEGOKerberosSealed(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	tok, ctx := apReqToken(t, kw.ticket(t, "WEB1$", ldapSPN), "WEB1$", kw.w.Now(), gssFlagsAll)
	r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	r.ctx = ctx
	res := r.saslBind(ldapsrv.MechGSSSPNEGO, negTokenInit([][]byte{oidMSKRB5, oidKRB5, oidNTLM}, tok, nil))
	if res.code != 0 {
		t.Fatalf("SPNEGO bind: %d %q", res.code, res.diag)
	}
	state, mech, rep, mic := parseNegResp(t, res.creds)
	if state != 0 || !bytes.Equal(mech, oidMSKRB5) || mic != nil {
		t.Fatalf("negTokenResp state %d mech %x mic %x; want accept-completed, MS Kerberos, no MIC", state, mech, mic)
	}
	ctx.readAPRep(t, rep)
	r.layer, r.seal = true, true
	if got := r.whoAmI(); got != `u:CONTOSO\WEB1$` {
		t.Errorf("WhoAmI %q", got)
	}
	if vals, sres := r.readAttr(itFarm1DN, pwAttr); len(vals) != 1 {
		t.Fatalf("password over a sealed SPNEGO layer: %d %q", sres.code, sres.diag)
	}
}

// TestSPNEGONoLayer: without integrity or confidentiality flags no layer is installed and the
// password is refused (0000202D).
func TestSPNEGONoLayer(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	tok, ctx := apReqToken(t, kw.ticket(t, "WEB1$", ldapSPN), "WEB1$", kw.w.Now(), kdc.GSSFlagMutual)
	r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	r.ctx = ctx
	if res := r.saslBind(ldapsrv.MechGSSSPNEGO, negTokenInit([][]byte{oidKRB5}, tok, nil)); res.code != 0 {
		t.Fatalf("SPNEGO bind: %d %q", res.code, res.diag)
	}
	vals, sres := r.readAttr(itFarm1DN, pwAttr)
	if len(vals) != 0 || !strings.Contains(sres.diag, "0000202D") {
		t.Fatalf("password without a layer: %d values, %d %q", len(vals), sres.code, sres.diag)
	}
}

// TestSPNEGOMechListMIC: Kerberos is not the client's first choice (NEGOEX is, which the server
// does not support; an NTLM-first list selects NTLM, ntlm_test.go), so the server
// selects it with accept-incomplete and asks for its token; the exchange then needs mechListMICs
// both ways (RFC 4178 5): the client's MIC over its mechTypes is checked, the server's verifies.
// A forged client MIC is refused.
func TestSPNEGOMechListMIC(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	mechTypes := [][]byte{oidNegoEx, oidKRB5}
	mechTypesDER := derTLV(0x30, mechTypes...)
	for _, forge := range []bool{false, true} {
		tok, ctx := apReqToken(t, kw.ticket(t, "WEB1$", ldapSPN), "WEB1$", kw.w.Now(), gssFlagsAll)
		r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
		r.ctx = ctx
		res := r.saslBind(ldapsrv.MechGSSSPNEGO, negTokenInit(mechTypes, nil, nil))
		state, mech, _, _ := parseNegResp(t, res.creds)
		if res.code != 14 || state != 1 || !bytes.Equal(mech, oidKRB5) {
			t.Fatalf("first step: %d %q state %d mech %x", res.code, res.diag, state, mech)
		}
		mic := micOver(t, ctx, mechTypesDER, false)
		if forge {
			mic[len(mic)-1] ^= 1
		}
		res = r.saslBind(ldapsrv.MechGSSSPNEGO, negTokenRespClient(tok, mic))
		if forge {
			if res.code != 49 {
				t.Fatalf("forged mechListMIC: %d %q", res.code, res.diag)
			}
			continue
		}
		if res.code != 0 {
			t.Fatalf("second step: %d %q", res.code, res.diag)
		}
		state, _, rep, smic := parseNegResp(t, res.creds)
		if state != 0 || smic == nil {
			t.Fatalf("final negTokenResp state %d mic %x", state, smic)
		}
		ctx.readAPRep(t, rep)
		checkServerMIC(t, ctx, smic, mechTypesDER)
	}
}

// TestSPNEGOWithoutKerberos: a mechanism list with neither Kerberos nor NTLM (NEGOEX only) is
// rejected with authMethodNotSupported and a negTokenResp reject.
func TestSPNEGOWithoutKerberos(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	res := r.saslBind(ldapsrv.MechGSSSPNEGO, negTokenInit([][]byte{oidNegoEx}, []byte("NEGOEX"), nil))
	if state, _, _, _ := parseNegResp(t, res.creds); res.code != 7 || state != 2 {
		t.Fatalf("NEGOEX-only SPNEGO: %d %q state %d", res.code, res.diag, state)
	}
}
