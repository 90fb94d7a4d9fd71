package ldapsrv_test

import (
	"crypto/tls"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// NTLM binds against the default domain served by DC1 (sim.Backend, the world's accounts): go-ldap's
// NTLMBind and NTLMBindWithHash (Sicily negotiate + response, go-ntlmssp NTLMv2, no session
// security), and hand-driven clients for the rest (ntlmclient_test.go).

func ntHashHex(t testing.TB, kw *krbWorld, name string) string {
	t.Helper()
	var h string
	err := kw.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		a, ok := d.Account(name)
		if !ok {
			t.Fatalf("no account %s", name)
		}
		h = hex.EncodeToString(a.Keys.NTHash)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func readPassword(t *testing.T, c *ldap.Conn) ([]byte, error) {
	t.Helper()
	res, err := c.Search(ldap.NewSearchRequest(itFarm1DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{pwAttr}, nil))
	if err != nil {
		return nil, err
	}
	if len(res.Entries) != 1 {
		t.Fatalf("%d entries for ITFarm1", len(res.Entries))
	}
	return res.Entries[0].GetRawAttributeValue(pwAttr), nil
}

func whoAmI(t *testing.T, c *ldap.Conn) string {
	t.Helper()
	who, err := c.WhoAmI(nil)
	if err != nil {
		t.Fatal(err)
	}
	return who.AuthzID
}

// TestNTLMBindGoLDAP: WEB1$ (in ITFarmHosts) binds with go-ldap's NTLMBind, the domain only in the
// NEGOTIATE_MESSAGE as go-ldap sends it. Over plain LDAP (no sealing: go-ntlmssp never seals) the
// password read answers 0000202D; after StartTLS, and over LDAPS with the NT hash instead of the
// password, it is returned. The CHALLENGE_MESSAGE reached go-ntlmssp intact through the matchedDN.
func TestNTLMBindGoLDAP(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	pw := kw.pop.Passwords["WEB1$"]
	if pw == "" {
		t.Fatal("no password for WEB1$ in the population")
	}

	c := kw.f.dial(t)
	if err := c.NTLMBind("CONTOSO", "WEB1$", pw); err != nil {
		t.Fatalf("NTLMBind over plain LDAP: %v", err)
	}
	if got := whoAmI(t, c); got != `u:CONTOSO\WEB1$` {
		t.Errorf("WhoAmI after NTLMBind = %q", got)
	}
	vals, err := readPassword(t, c)
	if le := wantCode(t, err, fakead.OperationsError); !strings.Contains(le.Err.Error(), "0000202D") || len(vals) != 0 {
		t.Errorf("password over unsealed NTLM: %v", le)
	}

	c = kw.f.dial(t)
	if err := c.StartTLS(&tls.Config{RootCAs: kw.f.pool, ServerName: "dc1.contoso.com"}); err != nil {
		t.Fatal(err)
	}
	if err := c.NTLMBind("contoso.com", `CONTOSO\WEB1$`, pw); err != nil {
		t.Fatalf("NTLMBind after StartTLS: %v", err)
	}
	if vals, err := readPassword(t, c); err != nil || len(vals) < 256 {
		t.Fatalf("password after StartTLS + NTLM: %d bytes, %v", len(vals), err)
	}

	c = kw.f.dialTLS(t, "dc1.contoso.com")
	if err := c.NTLMBindWithHash("", "web1$@contoso.com", ntHashHex(t, kw, "WEB1$")); err != nil {
		t.Fatalf("NTLMBindWithHash (UPN) over LDAPS: %v", err)
	}
	if got := whoAmI(t, c); got != `u:CONTOSO\WEB1$` {
		t.Errorf("WhoAmI after NTLMBindWithHash = %q", got)
	}
	if vals, err := readPassword(t, c); err != nil || len(vals) < 256 {
		t.Fatalf("password over LDAPS + NTLM: %d bytes, %v", len(vals), err)
	}

	// WEB3$ is not in ITFarmHosts: bound, but no password.
	c = kw.f.dialTLS(t, "dc1.contoso.com")
	if err := c.NTLMBind("CONTOSO", "WEB3$", kw.pop.Passwords["WEB3$"]); err != nil {
		t.Fatal(err)
	}
	if vals, err := readPassword(t, c); err != nil || len(vals) != 0 {
		t.Fatalf("WEB3$ over LDAPS + NTLM: %d bytes, %v; want the entry without the password", len(vals), err)
	}
}

// TestNTLMBindErrors: a wrong password, an unknown user and a user of another domain answer 49 with
// AD's "data 52e" text; a disabled account with its right password "data 533" (with a wrong one
// still 52e); after a failure the connection is anonymous.
func TestNTLMBindErrors(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	err := kw.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Modify(now, fakead.SystemCaller, "CN=WEB3,CN=Computers,DC=contoso,DC=com", []fakead.Modification{
			{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: "userAccountControl", Values: [][]byte{[]byte("4098")}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	pw := kw.pop.Passwords["WEB1$"]
	for _, tc := range []struct {
		name, domain, user, password, data string
	}{
		{"wrong password", "CONTOSO", "WEB1$", "wrong-" + pw, "data 52e"},
		{"unknown user", "CONTOSO", "NOSUCH$", pw, "data 52e"},
		{"another domain", "", `FABRIKAM\WEB1$`, pw, "data 52e"},
		{"disabled account", "CONTOSO", "WEB3$", kw.pop.Passwords["WEB3$"], "data 533"},
		{"disabled account, wrong password", "CONTOSO", "WEB3$", "wrong", "data 52e"},
	} {
		c := kw.f.dial(t)
		le := wantCode(t, c.NTLMBind(tc.domain, tc.user, tc.password), fakead.InvalidCredentials)
		if msg := le.Err.Error(); !strings.Contains(msg, "AcceptSecurityContext error, "+tc.data+", v4563") || !strings.HasPrefix(msg, "8009030C: LdapErr:") {
			t.Errorf("%s: %q, want 8009030C ... %s", tc.name, msg, tc.data)
		}
		if got := whoAmI(t, c); got != "" {
			t.Errorf("%s: bound as %q after a failed bind", tc.name, got)
		}
	}
}

// TestNTLMRequireSigning: a DC enforcing LDAP signing refuses an NTLM bind without SIGN or SEAL over
// plain LDAP with strongerAuthRequired and AD's text; over TLS it is accepted.
func TestNTLMRequireSigning(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{RequireSigning: true})
	pw := kw.pop.Passwords["WEB1$"]
	c := kw.f.dial(t)
	le := wantCode(t, c.NTLMBind("CONTOSO", "WEB1$", pw), fakead.StrongerAuthRequired)
	if le.Err.Error() != ldapsrv.DiagSigningRequired {
		t.Errorf("diagnostic %q", le.Err)
	}
	if got := whoAmI(t, c); got != "" {
		t.Errorf("bound as %q after the refusal", got)
	}
	c = kw.f.dialTLS(t, "dc1.contoso.com")
	if err := c.NTLMBind("CONTOSO", "WEB1$", pw); err != nil {
		t.Fatalf("NTLM over LDAPS under RequireSigning: %v", err)
	}
}
