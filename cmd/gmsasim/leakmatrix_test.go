package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// The leak matrix of issue 9, in the style of Samba's gmsa_tests: against the serve domain over
// real sockets, every principal × transport × attribute form × scope × control, and filters and
// Compare over each secret attribute. Only WEB1$ (allowed by ITFarm1's msDS-GroupMSAMembership)
// over an encrypted transport ever sees the gMSA password; only Domain Admins see the KDS root
// key (as on Windows, on any transport: [MS-ADTS] asks no encryption for confidential
// attributes); nobody sees unicodePwd or supplementalCredentials; and nobody else learns
// anything about them from filters, Compare, paging or controls.

type leakPrincipal struct{ key, bind string }

var leakPrincipals = []leakPrincipal{
	{"anonymous", ""}, {"alice", `CONTOSO\alice`}, {"WEB3$", `CONTOSO\WEB3$`}, {"WEB1$", `CONTOSO\WEB1$`},
	{"Administrator", `CONTOSO\Administrator`},
}

var leakTransports = []string{"plain", "starttls", "ldaps"}

// leakEnv is the domain and the secrets to look for.
type leakEnv struct {
	ds       *domainServer
	pool     *x509.CertPool
	gmsaDN   string
	blob     []byte // ITFarm1's msDS-ManagedPassword as WEB1$ reads it
	current  []byte // a 32-byte slice of the current password inside the blob
	rootKey  []byte // msKds-RootKeyData as the Administrator reads it
	rootKeys string // the root keys' container
}

func (env *leakEnv) dial(t *testing.T, p leakPrincipal, transport string) *ldap.Conn {
	t.Helper()
	tlsConf := &tls.Config{RootCAs: env.pool, ServerName: "127.0.0.1"}
	var c *ldap.Conn
	var err error
	switch transport {
	case "ldaps":
		c, err = ldap.DialURL("ldaps://"+env.ds.Addrs()[0].LDAPS, ldap.DialWithTLSConfig(tlsConf))
	default:
		c, err = ldap.DialURL("ldap://" + env.ds.Addrs()[0].LDAP)
		if err == nil && transport == "starttls" {
			err = c.StartTLS(tlsConf)
		}
	}
	if err != nil {
		t.Fatalf("dial %s: %v", transport, err)
	}
	c.SetTimeout(20 * time.Second)
	if p.bind != "" {
		name := strings.TrimPrefix(p.bind, `CONTOSO\`)
		if err := c.Bind(p.bind, env.ds.Pop.Passwords[name]); err != nil {
			t.Fatalf("bind %s over %s: %v", p.bind, transport, err)
		}
	}
	return c
}

func newLeakEnv(t *testing.T) *leakEnv {
	t.Helper()
	ds, _ := startTestDomain(t, serveOptions{LDAP: "127.0.0.1:0", LDAPS: "127.0.0.1:0", Seed: 11, SchemaVersion: 88})
	env := &leakEnv{ds: ds, pool: x509.NewCertPool()}
	env.pool.AppendCertsFromPEM(ds.CA.PEM())
	base := ds.World().DomainDN()
	env.gmsaDN = "CN=ITFarm1,CN=Managed Service Accounts," + base
	env.rootKeys = "CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration," + base

	web1 := env.dial(t, leakPrincipals[3], "ldaps")
	defer web1.Close()
	res, err := web1.Search(ldap.NewSearchRequest(env.gmsaDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"msDS-ManagedPassword"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("WEB1$ reads ITFarm1's password over LDAPS: %v", err)
	}
	env.blob = res.Entries[0].GetRawAttributeValue("msDS-ManagedPassword")
	if len(env.blob) < 64 {
		t.Fatalf("WEB1$ got a %d-byte msDS-ManagedPassword, want the blob", len(env.blob))
	}
	off := int(binary.LittleEndian.Uint16(env.blob[8:10]))
	env.current = env.blob[off : off+32]

	adm := env.dial(t, leakPrincipals[4], "ldaps")
	defer adm.Close()
	res, err = adm.Search(ldap.NewSearchRequest(env.rootKeys, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=msKds-ProvRootKey)", []string{"msKds-RootKeyData"}, nil))
	if err != nil || len(res.Entries) == 0 {
		t.Fatalf("Administrator reads the root key: %v", err)
	}
	env.rootKey = res.Entries[0].GetRawAttributeValue("msKds-RootKeyData")
	if len(env.rootKey) != 64 {
		t.Fatalf("Administrator got a %d-byte msKds-RootKeyData, want 64", len(env.rootKey))
	}
	return env
}

// seen lists the secrets an answer carries: "gmsa-password", "root-key", "unicodePwd", ...
func (env *leakEnv) seen(entries []*ldap.Entry) map[string]bool {
	out := map[string]bool{}
	for _, e := range entries {
		for _, a := range e.Attributes {
			name := strings.ToLower(strings.SplitN(a.Name, ";", 2)[0])
			for _, v := range a.ByteValues {
				switch {
				case bytes.Contains(v, env.current):
					out["gmsa-password"] = true
				case bytes.Contains(v, env.rootKey):
					out["root-key"] = true
				case name == "unicodepwd" || name == "1.2.840.113556.1.4.90":
					out["unicodePwd"] = true
				case name == "supplementalcredentials" || name == "1.2.840.113556.1.4.125":
					out["supplementalCredentials"] = true
				}
			}
		}
	}
	return out
}

// allowed lists what p may see over transport.
func allowed(p leakPrincipal, transport string) map[string]bool {
	out := map[string]bool{}
	if p.key == "WEB1$" && transport != "plain" {
		out["gmsa-password"] = true
	}
	if p.key == "Administrator" {
		out["root-key"] = true
	}
	return out
}

type leakControl struct {
	name     string
	controls func() []ldap.Control
	paged    bool
}

var leakControls = []leakControl{
	{name: "none", controls: func() []ldap.Control { return nil }},
	{name: "paged", paged: true},
	{name: "sdflags", controls: func() []ldap.Control { return []ldap.Control{ldap.NewControlMicrosoftSDFlags()} }},
	{name: "dirsync-critical", controls: func() []ldap.Control { return []ldap.Control{ldap.NewRequestControlDirSync(0, 0, nil)} }},
	{name: "dirsync", controls: func() []ldap.Control {
		c := ldap.NewRequestControlDirSync(0, 0, nil)
		c.Criticality = false
		return []ldap.Control{c}
	}},
	{name: "sort-critical", controls: func() []ldap.Control {
		return []ldap.Control{ldap.NewControlString("1.2.840.113556.1.4.473", true, sortValue("msKds-RootKeyData"))}
	}},
	{name: "sort", controls: func() []ldap.Control {
		return []ldap.Control{ldap.NewControlString("1.2.840.113556.1.4.473", false, sortValue("unicodePwd"))}
	}},
}

// sortValue is a server-side sort request value (RFC 2891) with one key.
func sortValue(attr string) string {
	return string(ldap.NewControlServerSideSortingWithSortKeys([]*ldap.SortKey{{AttributeType: attr}}).Encode().Children[1].Data.Bytes())
}

var leakAttrLists = [][]string{
	nil, {"*"}, {"+"}, {"*", "+"},
	{"msDS-ManagedPassword"}, {"msds-managedpassword"}, {"MSDS-MANAGEDPASSWORD"}, {"msDS-ManagedPassword;binary"},
	{"msDS-ManagedPassword;range=0-*"}, {"1.2.840.113556.1.4.2196"},
	{"unicodePwd", "supplementalCredentials", "unicodePwd;binary", "1.2.840.113556.1.4.90", "1.2.840.113556.1.4.125"},
	{"msKds-RootKeyData", "mskds-rootkeydata;binary", "1.2.840.113556.1.4.2175"},
}

// search runs one search, draining every page when paged; an error ends it (and leaks nothing).
func search(c *ldap.Conn, base string, scope int, filter string, attrs []string, ctl leakControl) ([]*ldap.Entry, error) {
	if !ctl.paged {
		res, err := c.Search(ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, ctl.controls()))
		if res == nil {
			return nil, err
		}
		return res.Entries, err
	}
	res, err := c.SearchWithPaging(ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil), 2)
	if res == nil {
		return nil, err
	}
	return res.Entries, err
}

func TestLeakMatrixRetrieval(t *testing.T) {
	t.Parallel() // a long test with its own world and files: it overlaps the others
	env := newLeakEnv(t)
	base := env.ds.World().DomainDN()
	scopes := []struct {
		base  string
		scope int
	}{
		{env.gmsaDN, ldap.ScopeBaseObject},
		{"CN=Managed Service Accounts," + base, ldap.ScopeSingleLevel},
		{"CN=Managed Service Accounts," + base, ldap.ScopeWholeSubtree},
		{env.rootKeys, ldap.ScopeSingleLevel},
		{"CN=Group Key Distribution Service,CN=Services,CN=Configuration," + base, ldap.ScopeWholeSubtree},
	}
	for _, p := range leakPrincipals {
		for _, tr := range leakTransports {
			c := env.dial(t, p, tr)
			ok := allowed(p, tr)
			got := map[string]bool{}
			for _, sc := range scopes {
				for _, attrs := range leakAttrLists {
					for _, ctl := range leakControls {
						entries, err := search(c, sc.base, sc.scope, "(objectClass=*)", attrs, ctl)
						if c.IsClosing() {
							t.Errorf("%s over %s: control %s closed the connection: %v", p.key, tr, ctl.name, err)
							c.Close()
							c = env.dial(t, p, tr)
						}
						for s := range env.seen(entries) {
							got[s] = true
							if !ok[s] {
								t.Errorf("%s over %s sees %s: base %s scope %d attrs %q control %s",
									p.key, tr, s, sc.base, sc.scope, attrs, ctl.name)
							}
						}
					}
				}
			}
			// The matrix can fail: the allowed principal does see what it may.
			for s := range ok {
				if !got[s] {
					t.Errorf("%s over %s never saw %s, which it may read", p.key, tr, s)
				}
			}
			c.Close()
		}
	}
}

// answer renders a search's outcome: the DNs found, or the result code.
func answer(entries []*ldap.Entry, err error) string {
	var le *ldap.Error
	if errors.As(err, &le) {
		return fmt.Sprintf("code %d", le.ResultCode)
	}
	if err != nil {
		return "error " + err.Error()
	}
	var dns []string
	for _, e := range entries {
		dns = append(dns, e.DN)
	}
	sort.Strings(dns)
	return strings.Join(dns, ";")
}

// TestLeakMatrixFiltersAndCompare: probes over each secret attribute (the byte-wise binary search
// of issue 9, substrings, presence, negations, in every spelling) give the same answer whatever
// the probed value, for every principal not allowed to read the attribute; Compare answers the
// right value and a wrong one alike.
func TestLeakMatrixFiltersAndCompare(t *testing.T) {
	t.Parallel() // a long test with its own world and files: it overlaps the others
	env := newLeakEnv(t)
	base := env.ds.World().DomainDN()
	type secret struct {
		name     string
		spelling []string
		scope    string
		anchor   string
		dn       string
		real     []byte
		readers  func(p leakPrincipal, tr string) bool
	}
	never := func(leakPrincipal, string) bool { return false }
	secrets := []secret{
		{"unicodePwd", []string{"unicodePwd", "UNICODEPWD", "unicodePwd;binary", "1.2.840.113556.1.4.90"}, base,
			"(sAMAccountName=Administrator)", "CN=Administrator,CN=Users," + base, nil, never},
		{"unicodePwd", []string{"unicodePwd"}, base, "(sAMAccountName=ITFarm1$)", env.gmsaDN, nil, never},
		{"supplementalCredentials", []string{"supplementalCredentials", "1.2.840.113556.1.4.125"}, base,
			"(sAMAccountName=krbtgt)", "CN=krbtgt,CN=Users," + base, nil, never},
		{"msKds-RootKeyData", []string{"msKds-RootKeyData", "mskds-rootkeydata", "1.2.840.113556.1.4.2175"}, env.rootKeys,
			"(objectClass=msKds-ProvRootKey)", "", env.rootKey, func(p leakPrincipal, _ string) bool { return p.key == "Administrator" }},
		{"msDS-ManagedPassword", []string{"msDS-ManagedPassword", "1.2.840.113556.1.4.2196"}, base,
			"(sAMAccountName=ITFarm1$)", env.gmsaDN, env.blob, never},
	}
	templates := []string{"(&%s(%s>=%s))", "(&%s(%s<=%s))", "(&%s(!(%s>=%s)))", "(&%s(%s=%s*))", "(&%s(%s=*%s))",
		"(|%s(!(%s=%s)))", "(&%s(%s:1.2.840.113556.1.4.803:=%d))"}
	adminConn := env.dial(t, leakPrincipals[4], "ldaps")
	res, err := adminConn.Search(ldap.NewSearchRequest(env.rootKeys, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=msKds-ProvRootKey)", []string{"1.1"}, nil))
	adminConn.Close()
	if err != nil || len(res.Entries) == 0 {
		t.Fatalf("root key DN: %v", err)
	}
	secrets[3].dn = res.Entries[0].DN

	varied := 0
	for _, p := range leakPrincipals {
		for _, tr := range leakTransports {
			c := env.dial(t, p, tr)
			for _, s := range secrets {
				mayRead := s.readers(p, tr)
				for _, sp := range s.spelling {
					for ti, tmpl := range templates {
						ctls := []leakControl{leakControls[0]}
						if ti == 0 {
							ctls = append(ctls, leakControls[1]) // the binary search again, paged
						}
						for _, ctl := range ctls {
							answers := map[string]bool{}
							for _, b := range []int{0x00, 0x41, 0x80, 0xff} {
								var flt string
								if strings.Contains(tmpl, "%d") {
									flt = fmt.Sprintf(tmpl, s.anchor, sp, b)
								} else {
									flt = fmt.Sprintf(tmpl, s.anchor, sp, fmt.Sprintf(`\%02x`, b))
								}
								answers[answer(search(c, s.scope, ldap.ScopeWholeSubtree, flt, []string{"1.1"}, ctl))] = true
							}
							if len(answers) > 1 {
								if !mayRead {
									t.Errorf("%s over %s learns about %s: %s (%s) answers %v", p.key, tr, s.name, tmpl, sp, answers)
								}
								varied++
							}
						}
					}
					if s.real == nil || s.dn == "" {
						continue
					}
					wrong := append(bytes.Clone(s.real[:len(s.real)-1]), s.real[len(s.real)-1]^1)
					r1, e1 := c.Compare(s.dn, sp, string(s.real))
					r2, e2 := c.Compare(s.dn, sp, string(wrong))
					if !mayRead && (r1 != r2 || answer(nil, e1) != answer(nil, e2)) {
						t.Errorf("%s over %s: Compare on %s (%s) tells the real value (%v, %v) from a wrong one (%v, %v)",
							p.key, tr, s.name, sp, r1, e1, r2, e2)
					}
					if mayRead && sp == s.spelling[0] && (!r1 || r2 || e1 != nil) {
						t.Errorf("%s over %s may read %s: Compare gives %v %v / %v %v, want true / false", p.key, tr, s.name, r1, e1, r2, e2)
					}
				}
			}
			c.Close()
		}
	}
	if varied == 0 {
		t.Error("no probe ever varied, not even the Administrator's over the root key: the matrix cannot fail")
	}
}

// TestPagedCookieDiesWithRebind: a paged search started by WEB1$ cannot be continued after a
// rebind (as alice, or anonymously) on the same connection.
func TestPagedCookieDiesWithRebind(t *testing.T) {
	env := newLeakEnv(t)
	for _, rebindAs := range []leakPrincipal{leakPrincipals[1], {key: "anonymous-rebind", bind: ""}} {
		c := env.dial(t, leakPrincipals[3], "ldaps")
		msa := "CN=Managed Service Accounts," + env.ds.World().DomainDN()
		paging := ldap.NewControlPaging(1)
		req := ldap.NewSearchRequest(msa, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"msDS-ManagedPassword"}, []ldap.Control{paging})
		res, err := c.Search(req)
		if err != nil {
			t.Fatalf("first page: %v", err)
		}
		pc, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if pc == nil || len(pc.Cookie) == 0 {
			t.Fatalf("first page of %d entries has no cookie: the test needs two pages", len(res.Entries))
		}
		if rebindAs.bind != "" {
			if err := c.Bind(rebindAs.bind, env.ds.Pop.Passwords["alice"]); err != nil {
				t.Fatal(err)
			}
		} else if err := c.UnauthenticatedBind(""); err != nil {
			t.Fatal(err)
		}
		paging.SetCookie(pc.Cookie)
		res, err = c.Search(req)
		if err == nil {
			t.Errorf("cookie of WEB1$ accepted after a rebind as %s", rebindAs.key)
		}
		if res != nil && env.seen(res.Entries)["gmsa-password"] {
			t.Errorf("the password leaks to %s through WEB1$'s cookie", rebindAs.key)
		}
		c.Close()
	}
}
