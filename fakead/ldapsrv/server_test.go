package ldapsrv_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// clientTimeout bounds every go-ldap call so a dropped request fails the test instead of hanging
// it; no assertion depends on it.
const clientTimeout = 10 * time.Second

type fixture struct {
	srv  *ldapsrv.Server
	b    *memBackend
	ca   *ldapsrv.CA
	pool *x509.CertPool
}

var sharedCA *ldapsrv.CA

func testCA(t testing.TB) *ldapsrv.CA {
	t.Helper()
	if sharedCA == nil {
		ca, err := ldapsrv.NewCA(nil)
		if err != nil {
			t.Fatal(err)
		}
		sharedCA = ca
	}
	return sharedCA
}

func start(t testing.TB, b ldapsrv.Backend, opts ldapsrv.Options) *fixture {
	t.Helper()
	ca := testCA(t)
	if opts.TLS == nil {
		cfg, err := ca.ServerTLSConfig("dc1.contoso.com")
		if err != nil {
			t.Fatal(err)
		}
		opts.TLS = cfg
	}
	srv := ldapsrv.New(b, opts)
	if err := srv.ListenLDAP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := srv.ListenLDAPS("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.PEM()) {
		t.Fatal("ca.pem does not parse")
	}
	mb, _ := b.(*memBackend)
	return &fixture{srv: srv, b: mb, ca: ca, pool: pool}
}

func startMem(t testing.TB) *fixture { return start(t, newMemBackend(), ldapsrv.Options{}) }

func (f *fixture) dial(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL("ldap://" + f.srv.LDAPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetTimeout(clientTimeout)
	t.Cleanup(func() { c.Close() })
	return c
}

func (f *fixture) dialTLS(t testing.TB, serverName string) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL("ldaps://"+f.srv.LDAPSAddr().String(),
		ldap.DialWithTLSConfig(&tls.Config{RootCAs: f.pool, ServerName: serverName}))
	if err != nil {
		t.Fatal(err)
	}
	c.SetTimeout(clientTimeout)
	t.Cleanup(func() { c.Close() })
	return c
}

func ldapCode(t testing.TB, err error) uint16 {
	t.Helper()
	if err == nil {
		return 0
	}
	var le *ldap.Error
	if !errors.As(err, &le) {
		t.Fatalf("not an LDAP result: %v", err)
	}
	return le.ResultCode
}

func wantCode(t testing.TB, err error, want fakead.ResultCode) *ldap.Error {
	t.Helper()
	if got := ldapCode(t, err); got != uint16(want) {
		t.Fatalf("result code %d, want %d (%s): %v", got, want, want, err)
	}
	var le *ldap.Error
	errors.As(err, &le)
	return le
}

func TestBindAndWhoAmI(t *testing.T) {
	f := startMem(t)
	c := f.dial(t)
	who, err := c.WhoAmI(nil)
	if err != nil || who.AuthzID != "" {
		t.Fatalf("anonymous WhoAmI = %+v, %v; want empty", who, err)
	}
	le := wantCode(t, c.Bind(adminDN, "wrong"), fakead.InvalidCredentials)
	if !strings.Contains(le.Err.Error(), diagBadPW) {
		t.Fatalf("diagnostic %q, want AD's 52e text", le.Err)
	}
	for _, name := range []string{adminDN, `CONTOSO\Administrator`, "Administrator@contoso.com"} {
		if err := c.Bind(name, adminPW); err != nil {
			t.Fatalf("bind %s: %v", name, err)
		}
		who, err = c.WhoAmI(nil)
		if err != nil || who.AuthzID != `u:CONTOSO\Administrator` {
			t.Fatalf("WhoAmI after bind as %s = %+v, %v", name, who, err)
		}
	}
	// A failed bind leaves the connection anonymous.
	wantCode(t, c.Bind(adminDN, "wrong"), fakead.InvalidCredentials)
	if who, _ = c.WhoAmI(nil); who.AuthzID != "" {
		t.Fatalf("WhoAmI after failed bind = %q, want anonymous", who.AuthzID)
	}
}

func TestWhoAmIWithoutExtensionAnswersDN(t *testing.T) {
	f := start(t, noWhoAmI{newMemBackend()}, ldapsrv.Options{})
	c := f.dial(t)
	if err := c.Bind(adminDN, adminPW); err != nil {
		t.Fatal(err)
	}
	who, err := c.WhoAmI(nil)
	if err != nil || who.AuthzID != "dn:"+adminDN {
		t.Fatalf("WhoAmI = %+v, %v; want dn:%s", who, err, adminDN)
	}
}

func TestRequireSigning(t *testing.T) {
	f := start(t, newMemBackend(), ldapsrv.Options{RequireSigning: true})
	c := f.dial(t)
	le := wantCode(t, c.Bind(adminDN, adminPW), fakead.StrongerAuthRequired)
	if !strings.Contains(le.Err.Error(), ldapsrv.DiagSigningRequired) {
		t.Fatalf("diagnostic %q, want AD's 00002028 text", le.Err)
	}
	if err := c.UnauthenticatedBind(""); err != nil {
		t.Fatalf("anonymous bind refused: %v", err)
	}
	// StartTLS makes the same bind acceptable.
	if err := c.StartTLS(&tls.Config{RootCAs: f.pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(adminDN, adminPW); err != nil {
		t.Fatalf("bind over StartTLS: %v", err)
	}
	// So does LDAPS, verified against ca.pem for each name the certificate carries.
	for _, name := range []string{"127.0.0.1", "localhost", "dc1.contoso.com"} {
		if err := f.dialTLS(t, name).Bind(adminDN, adminPW); err != nil {
			t.Fatalf("bind over LDAPS (%s): %v", name, err)
		}
	}
}

func TestEncryptedFlagReachesBackend(t *testing.T) {
	f := startMem(t)
	req := ldap.NewSearchRequest(adminDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)",
		[]string{"msDS-ManagedPassword"}, nil)
	c := f.dial(t)
	if err := c.Bind(adminDN, adminPW); err != nil {
		t.Fatal(err)
	}
	_, err := c.Search(req)
	wantCode(t, err, fakead.OperationsError)
	if _, caller := f.b.lastSearch(); caller.Encrypted || caller.DN != adminDN {
		t.Fatalf("plain caller = %+v", caller)
	}
	if err := c.StartTLS(&tls.Config{RootCAs: f.pool, ServerName: "localhost"}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(req)
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("msDS-ManagedPassword") != "secret-Administrator" {
		t.Fatalf("search over StartTLS = %+v, %v", res, err)
	}
	if _, caller := f.b.lastSearch(); !caller.Encrypted || caller.DN != adminDN {
		t.Fatalf("StartTLS caller = %+v, want encrypted Administrator", caller)
	}
	// A second StartTLS is an operations error.
	_, err = c.Extended(ldap.NewExtendedRequest(ldapsrv.OIDStartTLS, nil))
	wantCode(t, err, fakead.OperationsError)

	s := f.dialTLS(t, "localhost")
	if err := s.Bind(adminDN, adminPW); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Search(req); err != nil {
		t.Fatalf("search over LDAPS: %v", err)
	}
	if _, caller := f.b.lastSearch(); !caller.Encrypted {
		t.Fatalf("LDAPS caller = %+v, want encrypted", caller)
	}
}

func TestSearchTranslation(t *testing.T) {
	f := startMem(t)
	c := f.dial(t)
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("defaultNamingContext") != baseDN {
		t.Fatalf("rootDSE = %+v, %v", res, err)
	}

	// Scopes.
	for _, sc := range []struct{ scope, want int }{{ldap.ScopeBaseObject, 1}, {ldap.ScopeSingleLevel, 2}, {ldap.ScopeWholeSubtree, 13}} {
		scope, want := sc.scope, sc.want
		res, err := c.Search(ldap.NewSearchRequest(baseDN, scope, 0, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
		if err != nil || len(res.Entries) != want {
			t.Fatalf("scope %d: %d entries, %v; want %d", scope, len(res.Entries), err, want)
		}
	}
	got, _ := f.b.lastSearch()
	if got.BaseDN != baseDN || got.Scope != fakead.ScopeSub || len(got.Attributes) != 1 || got.Attributes[0] != "1.1" || got.SDFlags != -1 {
		t.Fatalf("backend saw %+v", got)
	}

	// The full filter grammar arrives as the AST, extensible matches with their rule.
	filter := "(&(|(cn=WEB1)(cn=WEB2)(cn=adm*tor))(!(cn=WEB2))(userAccountControl:1.2.840.113556.1.4.803:=512)(cn>=A)(cn<=z)(cn~=x)(sn=*))"
	_, err = c.Search(ldap.NewSearchRequest(baseDN, ldap.ScopeWholeSubtree, 0, 0, 0, false, filter, []string{"cn"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = f.b.lastSearch()
	want := fakead.FilterAnd{
		fakead.FilterOr{
			fakead.FilterEquality{Attr: "cn", Value: []byte("WEB1")},
			fakead.FilterEquality{Attr: "cn", Value: []byte("WEB2")},
			fakead.FilterSubstrings{Attr: "cn", Initial: []byte("adm"), Final: []byte("tor")},
		},
		fakead.FilterNot{F: fakead.FilterEquality{Attr: "cn", Value: []byte("WEB2")}},
		fakead.FilterExtensible{Rule: fakead.MatchBitAnd, Attr: "userAccountControl", Value: []byte("512")},
		fakead.FilterGreaterOrEqual{Attr: "cn", Value: []byte("A")},
		fakead.FilterLessOrEqual{Attr: "cn", Value: []byte("z")},
		fakead.FilterApprox{Attr: "cn", Value: []byte("x")},
		fakead.FilterPresent{Attr: "sn"},
	}
	if !filterEqual(got.Filter, want) {
		t.Fatalf("filter\n got %#v\nwant %#v", got.Filter, want)
	}

	// Extensible matches select what AD's bit rules select (bob is disabled: 514 has bit 2).
	res, err = c.Search(ldap.NewSearchRequest(baseDN, ldap.ScopeWholeSubtree, 0, 0, 0, false,
		"(userAccountControl:1.2.840.113556.1.4.803:=2)", []string{"sAMAccountName"}, nil))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("sAMAccountName") != "bob" {
		t.Fatalf("disabled accounts = %+v, %v", res, err)
	}
	// The :dn: form keeps dnAttributes.
	_, err = c.Search(ldap.NewSearchRequest(baseDN, ldap.ScopeWholeSubtree, 0, 0, 0, false, "(cn:dn:2.5.13.5:=Users)", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = f.b.lastSearch()
	if !filterEqual(got.Filter, fakead.FilterExtensible{Rule: "2.5.13.5", Attr: "cn", Value: []byte("Users"), DNAttributes: true}) {
		t.Fatalf("dn filter = %#v", got.Filter)
	}
	// Empty and/or (RFC 4526) arrive as such.
	for fs, wantF := range map[string]fakead.Filter{"(&)": fakead.FilterAnd{}, "(|)": fakead.FilterOr{}} {
		if _, err := c.Search(ldap.NewSearchRequest(baseDN, ldap.ScopeBaseObject, 0, 0, 0, false, fs, nil, nil)); err != nil {
			t.Fatalf("%s: %v", fs, err)
		}
		if got, _ = f.b.lastSearch(); !filterEqual(got.Filter, wantF) {
			t.Fatalf("%s arrived as %#v", fs, got.Filter)
		}
	}
}

func TestSearchValuesLimitsAndTypesOnly(t *testing.T) {
	f := startMem(t)
	c := f.dial(t)
	// Binary values come back byte for byte.
	res, err := c.Search(ldap.NewSearchRequest("CN=WEB3,CN=Computers,"+baseDN, ldap.ScopeBaseObject, 0, 0, 0, false,
		"(objectClass=*)", []string{"objectSid"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatal(res, err)
	}
	if sid := res.Entries[0].GetRawAttributeValue("objectSid"); string(sid) != string([]byte{1, 5, 0, 0, 0, 0, 0, 5, 0x15, 0, 0, 0, 0xff, 0, 3}) {
		t.Fatalf("objectSid = %x", sid)
	}
	// typesOnly (go-ldap encodes TRUE as 0x01, which goldap alone would drop).
	res, err = c.Search(ldap.NewSearchRequest(adminDN, ldap.ScopeBaseObject, 0, 0, 0, true, "(objectClass=*)", []string{"cn", "sAMAccountName"}, nil))
	if err != nil || len(res.Entries) != 1 || len(res.Entries[0].Attributes) != 2 {
		t.Fatalf("typesOnly = %+v, %v", res, err)
	}
	for _, a := range res.Entries[0].Attributes {
		if len(a.Values) != 0 {
			t.Fatalf("typesOnly attribute %s has values %q", a.Name, a.Values)
		}
	}
	if got, _ := f.b.lastSearch(); !got.TypesOnly {
		t.Fatal("TypesOnly did not reach the backend")
	}
	// Size limit: the entries up to it, then sizeLimitExceeded.
	res, err = c.Search(ldap.NewSearchRequest("CN=Computers,"+baseDN, ldap.ScopeSingleLevel, 0, 3, 0, false, "(objectClass=*)", nil, nil))
	wantCode(t, err, fakead.SizeLimitExceeded)
	if res == nil || len(res.Entries) != 3 {
		t.Fatalf("size-limited search returned %+v", res)
	}
	// noSuchObject carries matchedDN and AD's text.
	_, err = c.Search(ldap.NewSearchRequest("CN=nope,"+baseDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil))
	le := wantCode(t, err, fakead.NoSuchObject)
	if le.MatchedDN != baseDN || !strings.Contains(le.Err.Error(), "0000208D") {
		t.Fatalf("noSuchObject = %+v", le)
	}
}

func TestPagedSearch(t *testing.T) {
	f := startMem(t)
	c := f.dial(t)
	req := ldap.NewSearchRequest("CN=Computers,"+baseDN, ldap.ScopeSingleLevel, 0, 0, 0, false, "(objectClass=computer)", []string{"cn"}, nil)
	before := f.b.searchCount()
	res, err := c.SearchWithPaging(req, 2)
	if err != nil || len(res.Entries) != 7 {
		t.Fatalf("paged search: %d entries, %v; want 7", len(res.Entries), err)
	}
	for i, e := range res.Entries {
		if want := "WEB" + string(rune('0'+i)); e.GetAttributeValue("cn") != want {
			t.Fatalf("entry %d = %s, want %s", i, e.GetAttributeValue("cn"), want)
		}
	}
	if n := f.b.searchCount() - before; n != 1 {
		t.Fatalf("backend searched %d times for one paged search, want 1", n)
	}

	// Page by page: cookies, 4 pages of 2, 2, 2, 1, the last with an empty cookie.
	paging := ldap.NewControlPaging(2)
	req.Controls = []ldap.Control{paging}
	var pages []int
	for {
		r, err := c.Search(req)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(r.Entries))
		ctrl, ok := ldap.FindControl(r.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok {
			t.Fatal("no paging control in the response")
		}
		if len(ctrl.Cookie) == 0 {
			break
		}
		paging.SetCookie(ctrl.Cookie)
		if len(pages) > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(pages) != 4 || pages[0] != 2 || pages[3] != 1 {
		t.Fatalf("pages = %v, want [2 2 2 1]", pages)
	}
	// A stale cookie is refused, not silently restarted.
	paging.SetCookie([]byte("stale-cookie"))
	_, err = c.Search(req)
	wantCode(t, err, fakead.ProtocolError)
}

func TestControls(t *testing.T) {
	f := startMem(t)
	c := f.dial(t)
	// SD flags, critical (go-ldap's BOOLEAN 0x01): parsed into SDFlags.
	sd := ldap.NewControlString(ldapsrv.OIDSDFlags, true, string([]byte{0x30, 0x03, 0x02, 0x01, 0x07}))
	_, err := c.Search(ldap.NewSearchRequest(baseDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)",
		[]string{"nTSecurityDescriptor"}, []ldap.Control{sd}))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.b.lastSearch(); got.SDFlags != 7 {
		t.Fatalf("SDFlags = %d, want 7", got.SDFlags)
	}
	// An unknown critical control: unavailableCriticalExtension, promptly.
	unknown := ldap.NewControlString("1.2.3.4.5", true, "")
	_, err = c.Search(ldap.NewSearchRequest(baseDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, []ldap.Control{unknown}))
	wantCode(t, err, fakead.UnavailableCriticalExtension)
	del := ldap.NewDelRequest("CN=WEB1,CN=Computers,"+baseDN, []ldap.Control{unknown})
	wantCode(t, c.Del(del), fakead.UnavailableCriticalExtension)
	// The same control non-critical is ignored.
	res, err := c.Search(ldap.NewSearchRequest(baseDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil,
		[]ldap.Control{ldap.NewControlString("1.2.3.4.5", false, "")}))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("non-critical unknown control: %+v, %v", res, err)
	}
	// go-ldap's DirSync control with Criticality false sends an explicit BOOLEAN FALSE, which
	// goldap refuses (DEFAULT FALSE must be omitted): normalised, not a closed connection.
	dirsync := ldap.NewRequestControlDirSync(0, 0, nil)
	dirsync.Criticality = false
	res, err = c.Search(ldap.NewSearchRequest(baseDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil,
		[]ldap.Control{dirsync}))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("non-critical DirSync sent with an explicit FALSE: %+v, %v", res, err)
	}
	// Critical, it is refused like any unsupported control.
	_, err = c.Search(ldap.NewSearchRequest(baseDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil,
		[]ldap.Control{ldap.NewRequestControlDirSync(0, 0, nil)}))
	wantCode(t, err, fakead.UnavailableCriticalExtension)
}

func TestUpdatesAndCompare(t *testing.T) {
	f := startMem(t)
	c := f.dial(t)
	if err := c.Bind(adminDN, adminPW); err != nil {
		t.Fatal(err)
	}
	// A 70 KB add: far over the library's 4 KiB read buffer.
	big := strings.Repeat("x", 70<<10)
	dn := "CN=big,CN=Users," + baseDN
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"user"})
	add.Attribute("description", []string{big})
	if err := c.Add(add); err != nil {
		t.Fatalf("70 KB add: %v", err)
	}
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"description"}, nil))
	if err != nil || res.Entries[0].GetAttributeValue("description") != big {
		t.Fatalf("70 KB value did not round-trip: %v", err)
	}
	wantCode(t, c.Add(add), fakead.EntryAlreadyExists)

	mod := ldap.NewModifyRequest(dn, nil)
	mod.Add("mail", []string{"a@contoso.com", "b@contoso.com"})
	mod.Replace("description", []string{"small"})
	mod.Delete("objectClass", nil)
	if err := c.Modify(mod); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.Compare(dn, "mail", "B@contoso.com"); err != nil || !ok {
		t.Fatalf("compare true = %v, %v", ok, err)
	}
	if ok, err := c.Compare(dn, "description", "x"); err != nil || ok {
		t.Fatalf("compare false = %v, %v", ok, err)
	}
	if _, err := c.Compare("CN=nope,"+baseDN, "cn", "x"); ldapCode(t, err) != uint16(fakead.NoSuchObject) {
		t.Fatalf("compare on missing entry: %v", err)
	}

	if err := c.ModifyDN(ldap.NewModifyDNRequest(dn, "CN=big2", true, "CN=Computers,"+baseDN)); err != nil {
		t.Fatal(err)
	}
	moved := "CN=big2,CN=Computers," + baseDN
	res, err = c.Search(ldap.NewSearchRequest(moved, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"mail", "deleteOldRDN"}, nil))
	if err != nil || len(res.Entries[0].GetAttributeValues("mail")) != 2 || res.Entries[0].GetAttributeValue("deleteOldRDN") != "TRUE" {
		t.Fatalf("after modify DN: %+v, %v", res, err)
	}
	if err := c.Del(ldap.NewDelRequest(moved, nil)); err != nil {
		t.Fatal(err)
	}
	le := wantCode(t, c.Del(ldap.NewDelRequest(moved, nil)), fakead.NoSuchObject)
	if le.MatchedDN != baseDN {
		t.Fatalf("matchedDN = %q", le.MatchedDN)
	}
	// Anonymous add: the backend's error comes back as it is.
	a := f.dial(t)
	le = wantCode(t, a.Add(add), fakead.OperationsError)
	if !strings.HasPrefix(le.Err.Error(), "000004DC: LdapErr") {
		t.Fatalf("anonymous add: %v", le)
	}
}

func TestUnsupportedBindsAndExtendedOps(t *testing.T) {
	f := startMem(t)
	c := f.dial(t)
	wantCode(t, c.NTLMBind("CONTOSO", "Administrator", adminPW), fakead.AuthMethodNotSupported) // memBackend has no NTLMAcceptor
	wantCode(t, c.ExternalBind(), fakead.AuthMethodNotSupported)
	_, err := c.Extended(ldap.NewExtendedRequest("1.3.6.1.4.1.4203.1.11.1", nil))
	wantCode(t, err, fakead.ProtocolError)
	// The connection still works afterwards, anonymously.
	who, err := c.WhoAmI(nil)
	if err != nil || who.AuthzID != "" {
		t.Fatalf("WhoAmI = %+v, %v", who, err)
	}
}

func TestStartTLSWithoutCertificate(t *testing.T) {
	srv := ldapsrv.New(newMemBackend(), ldapsrv.Options{})
	if err := srv.ListenLDAP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.ListenLDAPS("127.0.0.1:0"); err == nil {
		t.Fatal("LDAPS without a certificate started")
	}
	c, err := ldap.DialURL("ldap://" + srv.LDAPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetTimeout(clientTimeout)
	wantCode(t, c.StartTLS(&tls.Config{InsecureSkipVerify: true}), fakead.Unavailable)
}

func filterEqual(a, b fakead.Filter) bool {
	switch a := a.(type) {
	case fakead.FilterAnd:
		bb, ok := b.(fakead.FilterAnd)
		return ok && filtersEqual(a, bb)
	case fakead.FilterOr:
		bb, ok := b.(fakead.FilterOr)
		return ok && filtersEqual(a, bb)
	case fakead.FilterNot:
		bb, ok := b.(fakead.FilterNot)
		return ok && filterEqual(a.F, bb.F)
	case fakead.FilterSubstrings:
		bb, ok := b.(fakead.FilterSubstrings)
		if !ok || a.Attr != bb.Attr || string(a.Initial) != string(bb.Initial) || string(a.Final) != string(bb.Final) || len(a.Any) != len(bb.Any) {
			return false
		}
		for i := range a.Any {
			if string(a.Any[i]) != string(bb.Any[i]) {
				return false
			}
		}
		return true
	case fakead.FilterEquality:
		bb, ok := b.(fakead.FilterEquality)
		return ok && a.Attr == bb.Attr && string(a.Value) == string(bb.Value)
	case fakead.FilterGreaterOrEqual:
		bb, ok := b.(fakead.FilterGreaterOrEqual)
		return ok && a.Attr == bb.Attr && string(a.Value) == string(bb.Value)
	case fakead.FilterLessOrEqual:
		bb, ok := b.(fakead.FilterLessOrEqual)
		return ok && a.Attr == bb.Attr && string(a.Value) == string(bb.Value)
	case fakead.FilterApprox:
		bb, ok := b.(fakead.FilterApprox)
		return ok && a.Attr == bb.Attr && string(a.Value) == string(bb.Value)
	case fakead.FilterPresent:
		bb, ok := b.(fakead.FilterPresent)
		return ok && a == bb
	case fakead.FilterExtensible:
		bb, ok := b.(fakead.FilterExtensible)
		return ok && a.Rule == bb.Rule && a.Attr == bb.Attr && string(a.Value) == string(bb.Value) && a.DNAttributes == bb.DNAttributes
	}
	return false
}

func filtersEqual(a, b []fakead.Filter) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !filterEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}
