package sim_test

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/sim"
)

// ServeLDAP serves a DC over LDAPS with a certificate for its DNS name, and takes its limits from
// the DC's Default Query Policy: an administrator's MaxPageSize=2 caps a page at two entries.
func TestServeLDAPCertificateAndQueryPolicy(t *testing.T) {
	w, _, err := sim.NewDefaultDomain(sim.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Modify(now, fakead.SystemCaller, sim.DefaultQueryPolicyDN+d.ConfigDN(), []fakead.Modification{{Op: fakead.ModReplace,
			Attr: fakead.Attribute{Name: "lDAPAdminLimits", Values: [][]byte{[]byte("MaxPageSize=2")}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.DCDNSName("DC1"); got != "dc1.contoso.com" {
		t.Errorf("DCDNSName(DC1) = %q", got)
	}
	ca, err := ldapsrv.NewCA(w.Rand("test/tls"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := w.ServeLDAP("DC1", sim.LDAPOptions{CA: ca, LDAPS: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.LDAPAddr() != nil {
		t.Errorf("plain LDAP listens on %v; LDAPOptions.LDAP was empty", srv.LDAPAddr())
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	// ServerName dc1.contoso.com: the handshake fails unless the certificate names the DC.
	c, err := ldap.DialURL("ldaps://"+srv.LDAPSAddr().String(), ldap.DialWithTLSConfig(&tls.Config{RootCAs: roots, ServerName: "dc1.contoso.com"}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(`CONTOSO\Administrator`, w.Config().AdminPassword); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(ldap.NewSearchRequest(w.DomainDN(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=user)", []string{"cn"}, []ldap.Control{ldap.NewControlPaging(100)}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 2 {
		t.Errorf("a page of %d entries; the policy's MaxPageSize is 2", len(res.Entries))
	}

	if _, err := w.ServeLDAP("DC9", sim.LDAPOptions{}); err == nil {
		t.Error("ServeLDAP(DC9) on a one-DC world: no error")
	}
}

// The default domain: the fixture's accounts, with passwords drawn from the seed.
func TestNewDefaultDomain(t *testing.T) {
	w, pop, err := sim.NewDefaultDomain(sim.Config{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Administrator", "alice", "WEB1$", "WEB2$", "WEB3$"} {
		if len(pop.Passwords[name]) < 16 {
			t.Errorf("password of %s: %q", name, pop.Passwords[name])
		}
	}
	_, again, err := sim.NewDefaultDomain(sim.Config{Seed: 7})
	if err != nil || again.Passwords["alice"] != pop.Passwords["alice"] {
		t.Errorf("seed 7 twice: alice's password %q then %q (%v)", pop.Passwords["alice"], again.Passwords["alice"], err)
	}
	err = w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		for _, name := range []string{"ITFarm1$", "ITFarmHosts"} {
			if _, ok := d.Account(name); !ok {
				t.Errorf("no account %s", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
