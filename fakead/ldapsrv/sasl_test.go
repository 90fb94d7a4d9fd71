package ldapsrv_test

import (
	"crypto/tls"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/go-ldap/ldap/v3/gssapi"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

const (
	itFarm1DN = "CN=ITFarm1,CN=Managed Service Accounts,DC=contoso,DC=com"
	ldapSPN   = "ldap/dc1.contoso.com"
	pwAttr    = "msDS-ManagedPassword"
)

// gssFlagsAll is what Windows and MIT clients ask for: mutual, sequence, replay, integrity,
// confidentiality.
const gssFlagsAll = kdc.GSSFlagMutual | kdc.GSSFlagSequence | kdc.GSSFlagReplay | kdc.GSSFlagInteg | kdc.GSSFlagConf

// TestGSSAPISealedLayer: WEB1$ (in ITFarmHosts) binds with GSSAPI and a sealed layer over plain
// LDAP; every later PDU is a sealed wrap token both ways; the caller is WEB1$ and, the connection
// counting as encrypted, it reads the gMSA's password.
func TestGSSAPISealedLayer(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	st := kw.ticket(t, "WEB1$", ldapSPN)
	tok, ctx := apReqToken(t, st, "WEB1$", kw.w.Now(), gssFlagsAll)
	r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	res, offered := r.gssapiBind(tok, ctx, 4)
	if res.code != 0 {
		t.Fatalf("bind: %d %q", res.code, res.diag)
	}
	if offered != 1|2|4 {
		t.Errorf("layers offered over plain LDAP %#x, want none|integrity|confidentiality", offered)
	}
	if got := r.whoAmI(); got != `u:CONTOSO\WEB1$` {
		t.Errorf("WhoAmI %q", got)
	}
	vals, sres := r.readAttr(itFarm1DN, pwAttr)
	if sres.code != 0 || len(vals) != 1 || len(vals[0]) < 256 {
		t.Fatalf("password over a sealed layer: %d values, result %d %q", len(vals), sres.code, sres.diag)
	}
	// A second search on the same layer: sequence numbers move on in both directions.
	if vals, sres = r.readAttr(itFarm1DN, "sAMAccountName"); sres.code != 0 || string(vals[0]) != "ITFarm1$" {
		t.Fatalf("second search: %q %d %q", vals, sres.code, sres.diag)
	}
}

// TestGSSAPISignedLayerIsNotEncrypted: integrity only does not count as encrypted: 0000202D.
func TestGSSAPISignedLayerIsNotEncrypted(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	tok, ctx := apReqToken(t, kw.ticket(t, "WEB1$", ldapSPN), "WEB1$", kw.w.Now(), gssFlagsAll)
	r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	if res, _ := r.gssapiBind(tok, ctx, 2); res.code != 0 {
		t.Fatalf("bind: %d %q", res.code, res.diag)
	}
	if got := r.whoAmI(); got != `u:CONTOSO\WEB1$` {
		t.Errorf("WhoAmI over a signed layer %q", got)
	}
	vals, sres := r.readAttr(itFarm1DN, pwAttr)
	if len(vals) != 0 || !strings.Contains(sres.diag, "0000202D") {
		t.Fatalf("password over a signed-only layer: %d values, result %d %q; want 0000202D", len(vals), sres.code, sres.diag)
	}
}

// TestGSSAPIStalePAC: WEB3$ logs on, then joins ITFarmHosts. A service ticket from that TGT still
// carries the logon's groups: no password. A new logon gets it.
func TestGSSAPIStalePAC(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	creds := kw.logon(t, "WEB3$")
	err := kw.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Modify(now, fakead.SystemCaller, "CN=ITFarmHosts,CN=Users,DC=contoso,DC=com", []fakead.Modification{
			{Op: fakead.ModAdd, Attr: fakead.Attribute{Name: "member", Values: [][]byte{[]byte("CN=WEB3,CN=Computers,DC=contoso,DC=com")}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	read := func(st *kdc.ServiceTicket) [][]byte {
		tok, ctx := apReqToken(t, st, "WEB3$", kw.w.Now(), gssFlagsAll)
		r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
		if res, _ := r.gssapiBind(tok, ctx, 4); res.code != 0 {
			t.Fatalf("bind: %d %q", res.code, res.diag)
		}
		vals, res := r.readAttr(itFarm1DN, pwAttr)
		if res.code != 0 {
			t.Fatalf("search: %d %q", res.code, res.diag)
		}
		return vals
	}
	if vals := read(kw.serviceTicket(t, creds, ldapSPN)); len(vals) != 0 {
		t.Fatal("WEB3$ read the password with a PAC from before it joined ITFarmHosts")
	}
	if vals := read(kw.ticket(t, "WEB3$", ldapSPN)); len(vals) != 1 {
		t.Fatal("WEB3$ cannot read the password after a new logon")
	}
}

// TestGSSAPIBadTickets: a ticket for another service, an authenticator off by more than the skew,
// and an expired ticket are refused with 49 and Windows' AcceptSecurityContext text.
func TestGSSAPIBadTickets(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	other := kw.ticket(t, "WEB1$", "HOST/web2.contoso.com")
	good := kw.ticket(t, "WEB1$", ldapSPN)
	cases := []struct {
		name  string
		st    *kdc.ServiceTicket
		ctime time.Time
		diag  string
	}{
		{"another service's ticket", other, kw.w.Now(), "80090322: LdapErr:"},
		{"clock skew", good, kw.w.Now().Add(6 * time.Minute), "80090324: LdapErr:"},
	}
	for _, c := range cases {
		tok, ctx := apReqToken(t, c.st, "WEB1$", c.ctime, gssFlagsAll)
		r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
		res, _ := r.gssapiBind(tok, ctx, 4)
		if res.code != 49 || !strings.HasPrefix(res.diag, c.diag) || !strings.Contains(res.diag, "AcceptSecurityContext error") {
			t.Errorf("%s: %d %q, want 49 %s...", c.name, res.code, res.diag, c.diag)
		}
		if got := r.whoAmI(); got != "" {
			t.Errorf("%s: bound as %q after a failed bind", c.name, got)
		}
	}
	if err := kw.w.Advance(11 * time.Hour); err != nil { // past the 10-hour ticket lifetime
		t.Fatal(err)
	}
	tok, ctx := apReqToken(t, good, "WEB1$", kw.w.Now(), gssFlagsAll)
	r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	if res, _ := r.gssapiBind(tok, ctx, 4); res.code != 49 || !strings.HasPrefix(res.diag, "80090317: LdapErr:") {
		t.Errorf("expired ticket: %d %q", res.code, res.diag)
	}
	// Garbage instead of a GSS token.
	r = dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	if res := r.saslBind(ldapsrv.MechGSSAPI, []byte("not a token")); res.code != 49 || !strings.HasPrefix(res.diag, "80090308: LdapErr:") {
		t.Errorf("garbage token: %d %q", res.code, res.diag)
	}
}

// TestGSSAPILayerOverTLS: over LDAPS every layer is offered, as a DC offers them, and a client
// choosing sealing is refused ([MS-ADTS] 5.1.2.1); choosing none binds, and TLS makes it encrypted.
func TestGSSAPILayerOverTLS(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	tlsCfg := &tls.Config{RootCAs: kw.f.pool, ServerName: "dc1.contoso.com"}
	tok, ctx := apReqToken(t, kw.ticket(t, "WEB1$", ldapSPN), "WEB1$", kw.w.Now(), gssFlagsAll)
	r := dialKrb(t, kw.f.srv.LDAPSAddr(), tlsCfg)
	res, offered := r.gssapiBind(tok, ctx, 4)
	if offered != 1|2|4 || res.code != 53 || res.diag != ldapsrv.DiagSignSealOverTLS {
		t.Fatalf("sealing over TLS: offered %#x, %d %q", offered, res.code, res.diag)
	}
	tok, ctx = apReqToken(t, kw.ticket(t, "WEB1$", ldapSPN), "WEB1$", kw.w.Now(), gssFlagsAll)
	r = dialKrb(t, kw.f.srv.LDAPSAddr(), tlsCfg)
	if res, _ := r.gssapiBind(tok, ctx, 1); res.code != 0 {
		t.Fatalf("no layer over TLS: %d %q", res.code, res.diag)
	}
	if vals, res := r.readAttr(itFarm1DN, pwAttr); len(vals) != 1 {
		t.Fatalf("password over TLS after a GSSAPI bind: %d %q", res.code, res.diag)
	}
}

// goLDAPKerberos is go-ldap's gssapi client (gokrb5) logged on as name through the KDC on
// loopback.
func goLDAPKerberos(t *testing.T, kw *krbWorld, name string) *gssapi.Client {
	t.Helper()
	var b strings.Builder
	if err := kdc.WriteKrb5Conf(&b, "CONTOSO.COM", []string{kw.ksrv.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.NewFromString(b.String())
	if err != nil {
		t.Fatal(err)
	}
	cfg.LibDefaults.UDPPreferenceLimit = 1
	cl := client.NewWithPassword(name, "CONTOSO.COM", kw.pop.Passwords[name], cfg, client.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		t.Fatalf("gokrb5 login as %s: %v", name, err)
	}
	return &gssapi.Client{Client: cl}
}

// TestGoLDAPGSSAPIBind: go-ldap v3's GSSAPIBind with its gokrb5 client. That client always
// answers "no security layer", so over plain LDAP the password is refused with 0000202D; over
// LDAPS it is read; with RequireSigning the unprotected bind is refused with 8.
func TestGoLDAPGSSAPIBind(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	c := kw.f.dial(t)
	if err := c.GSSAPIBind(goLDAPKerberos(t, kw, "WEB1$"), ldapSPN, ""); err != nil {
		t.Fatalf("GSSAPIBind: %v", err)
	}
	who, err := c.WhoAmI(nil)
	if err != nil || who.AuthzID != `u:CONTOSO\WEB1$` {
		t.Fatalf("WhoAmI %+v %v", who, err)
	}
	req := ldap.NewSearchRequest(itFarm1DN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{pwAttr}, nil)
	_, err = c.Search(req)
	if le := wantCode(t, err, fakead.OperationsError); !strings.Contains(le.Err.Error(), "0000202D") {
		t.Fatalf("password without a layer: %v", err)
	}

	tc := kw.f.dialTLS(t, "dc1.contoso.com")
	if err := tc.GSSAPIBind(goLDAPKerberos(t, kw, "WEB1$"), ldapSPN, ""); err != nil {
		t.Fatalf("GSSAPIBind over LDAPS: %v", err)
	}
	res, err := tc.Search(req)
	if err != nil || len(res.Entries) != 1 || len(res.Entries[0].GetRawAttributeValue(pwAttr)) < 256 {
		t.Fatalf("password over LDAPS after GSSAPIBind: %v", err)
	}

	// After StartTLS, with a ticket for another of the DC account's SPNs (HOST/dc1.contoso.com).
	sc := kw.f.dial(t)
	if err := sc.StartTLS(&tls.Config{RootCAs: kw.f.pool, ServerName: "dc1.contoso.com"}); err != nil {
		t.Fatal(err)
	}
	if err := sc.GSSAPIBind(goLDAPKerberos(t, kw, "WEB1$"), "HOST/dc1.contoso.com", ""); err != nil {
		t.Fatalf("GSSAPIBind after StartTLS with a HOST/ ticket: %v", err)
	}
	res, err = sc.Search(req)
	if err != nil || len(res.Entries) != 1 || len(res.Entries[0].GetRawAttributeValue(pwAttr)) < 256 {
		t.Fatalf("password after StartTLS + GSSAPIBind: %v", err)
	}
}

// TestRequireSigningSASL: a DC enforcing signing refuses go-ldap's unprotected GSSAPI bind with
// strongerAuthRequired and AD's text, accepts a sealed one, and accepts the unprotected one over TLS.
func TestRequireSigningSASL(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{RequireSigning: true})
	c := kw.f.dial(t)
	err := c.GSSAPIBind(goLDAPKerberos(t, kw, "WEB1$"), ldapSPN, "")
	if le := wantCode(t, err, fakead.StrongerAuthRequired); !strings.Contains(le.Err.Error(), "00002028") {
		t.Fatalf("unprotected GSSAPI bind under RequireSigning: %v", err)
	}
	tok, ctx := apReqToken(t, kw.ticket(t, "WEB1$", ldapSPN), "WEB1$", kw.w.Now(), gssFlagsAll)
	r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
	res, offered := r.gssapiBind(tok, ctx, 4)
	if res.code != 0 || offered != 2|4 {
		t.Fatalf("sealed bind under RequireSigning: offered %#x, %d %q", offered, res.code, res.diag)
	}
	tc := kw.f.dialTLS(t, "dc1.contoso.com")
	if err := tc.GSSAPIBind(goLDAPKerberos(t, kw, "WEB1$"), ldapSPN, ""); err != nil {
		t.Fatalf("GSSAPIBind over LDAPS under RequireSigning: %v", err)
	}
	// GSS-SPNEGO without integrity is refused the same way; with it, bound.
	for _, fl := range []uint32{kdc.GSSFlagMutual, gssFlagsAll} {
		tok, ctx := apReqToken(t, kw.ticket(t, "WEB1$", ldapSPN), "WEB1$", kw.w.Now(), fl)
		r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
		r.ctx = ctx
		res := r.saslBind(ldapsrv.MechGSSSPNEGO, negTokenInit([][]byte{oidKRB5}, tok, nil))
		if want := int64(8); fl == gssFlagsAll {
			want = 0
			if res.code != want {
				t.Errorf("sealed SPNEGO under RequireSigning: %d %q", res.code, res.diag)
			}
		} else if res.code != want || res.diag != ldapsrv.DiagSigningRequired {
			t.Errorf("unprotected SPNEGO under RequireSigning: %d %q", res.code, res.diag)
		}
	}
}

// TestSASLLayerMalformedBuffers: on a sealed connection a forged token, a token replayed out of
// sequence, an unsealed token and a buffer past MaxReceiveBuffer each close the connection with
// a Notice of Disconnection (protocolError), itself sent through the layer.
func TestSASLLayerMalformedBuffers(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	cases := map[string]func(r *rawLDAP) []byte{
		"forged": func(r *rawLDAP) []byte {
			tok := r.ctx.wrap(t, []byte{0x30, 0x05, 0x02, 0x01, 0x09, 0x42, 0x00}, true)
			tok[len(tok)-1] ^= 1
			return append(binary.BigEndian.AppendUint32(nil, uint32(len(tok))), tok...)
		},
		"out of sequence": func(r *rawLDAP) []byte {
			r.ctx.sendSeq += 5
			tok := r.ctx.wrap(t, []byte{0x30, 0x05, 0x02, 0x01, 0x09, 0x42, 0x00}, true)
			return append(binary.BigEndian.AppendUint32(nil, uint32(len(tok))), tok...)
		},
		"unsealed": func(r *rawLDAP) []byte {
			tok := r.ctx.wrap(t, []byte{0x30, 0x05, 0x02, 0x01, 0x09, 0x42, 0x00}, false)
			return append(binary.BigEndian.AppendUint32(nil, uint32(len(tok))), tok...)
		},
		"too large": func(r *rawLDAP) []byte { return []byte{0x7f, 0xff, 0xff, 0xff, 1, 2, 3} },
	}
	for name, mk := range cases {
		tok, ctx := apReqToken(t, kw.ticket(t, "WEB1$", ldapSPN), "WEB1$", kw.w.Now(), gssFlagsAll)
		r := dialKrb(t, kw.f.srv.LDAPAddr(), nil)
		if res, _ := r.gssapiBind(tok, ctx, 4); res.code != 0 {
			t.Fatalf("%s: bind %d %q", name, res.code, res.diag)
		}
		if _, err := r.c.Write(mk(r)); err != nil {
			t.Fatal(err)
		}
		p := r.recv()
		res := krbResultOf(p)
		if id := p.Children[0].Value.(int64); id != 0 || res.code != 2 || p.Children[1].Tag != 24 {
			t.Errorf("%s: message %d op %d code %d %q, want a Notice of Disconnection with protocolError", name, id, p.Children[1].Tag, res.code, res.diag)
		}
		if n, err := r.c.Read(make([]byte, 1)); err == nil {
			t.Errorf("%s: connection still open (%d bytes)", name, n)
		}
	}
}
