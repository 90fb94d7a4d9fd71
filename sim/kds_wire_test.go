package sim

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/fakekds"
)

// Acceptance 3 over the wire: the world's DC behind the LDAP server, a go-ldap client.
// Over LDAPS WEB1$ (a member of ITFarmHosts) reads ITFarm1's msDS-ManagedPassword, and its NT
// hash equals what fakekds computes for the stored password id (the `gmsasim kds password`
// path); WEB3$ gets the entry without it; over plain LDAP everyone gets operationsError with
// 0000202D; alice gets nothing.
func TestManagedPasswordOverLDAPS(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 7})
	eff := ad.FileTimeFromTime(w.Now().Add(-10 * time.Hour))
	rk, err := w.AddKdsRootKey("DC1", fakekds.AddOptions{EffectiveTime: &eff})
	if err != nil {
		t.Fatal(err)
	}
	const (
		group = "CN=ITFarmHosts,CN=Users,DC=contoso,DC=com"
		web1  = "CN=WEB1,CN=Computers,DC=contoso,DC=com"
		web3  = "CN=WEB3,CN=Computers,DC=contoso,DC=com"
		alice = "CN=alice,CN=Users,DC=contoso,DC=com"
	)
	av := func(n string, v ...string) fakead.Attribute {
		a := fakead.Attribute{Name: n}
		for _, x := range v {
			a.Values = append(a.Values, []byte(x))
		}
		return a
	}
	var gmsaSID string
	err = w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		sys := fakead.SystemCaller
		steps := []struct {
			dn    string
			attrs []fakead.Attribute
			pw    string
		}{
			{web1, []fakead.Attribute{av("objectClass", "computer"), av("sAMAccountName", "WEB1$"), av("userAccountControl", "4096")}, "Web1-machine-pw"},
			{web3, []fakead.Attribute{av("objectClass", "computer"), av("sAMAccountName", "WEB3$"), av("userAccountControl", "4096")}, "Web3-machine-pw"},
			{alice, []fakead.Attribute{av("objectClass", "user"), av("sAMAccountName", "alice"), av("userAccountControl", "512")}, "Alice-Pa55!"},
			{group, []fakead.Attribute{av("objectClass", "group"), av("sAMAccountName", "ITFarmHosts"), av("member", web1)}, ""},
		}
		for _, s := range steps {
			if err := d.Add(now, sys, s.dn, s.attrs); err != nil {
				return err
			}
			if s.pw != "" {
				if err := d.SetPassword(now, sys, s.dn, s.pw); err != nil {
					return err
				}
			}
		}
		g, _ := d.Account("ITFarmHosts")
		sd, err := ad.GMSAMembershipSD(g.SID.String())
		if err != nil {
			return err
		}
		adm, err := d.Bind(now, "Administrator@contoso.com", w.Config().AdminPassword, true)
		if err != nil {
			return err
		}
		if err := d.Add(now, adm, kdsGMSADN, []fakead.Attribute{av("objectClass", "msDS-GroupManagedServiceAccount"),
			av("sAMAccountName", "ITFarm1$"), av("userAccountControl", "4096"), av("dNSHostName", "ITFarm1.contoso.com"),
			av("msDS-ManagedPasswordInterval", "30"), av("msDS-SupportedEncryptionTypes", "28"),
			av("servicePrincipalName", "http/ITFarm1.contoso.com"),
			{Name: "msDS-GroupMSAMembership", Values: [][]byte{sd}}}); err != nil {
			return err
		}
		a, _ := d.Account("ITFarm1$")
		gmsaSID = a.SID.String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	ca, err := ldapsrv.NewCA(w.Rand("test/tls"))
	if err != nil {
		t.Fatal(err)
	}
	tlsConf, err := ca.ServerTLSConfig("dc1.contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	srv := ldapsrv.New(w.Backend("DC1"), ldapsrv.Options{TLS: tlsConf})
	defer srv.Close()
	if err := srv.ListenLDAP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := srv.ListenLDAPS("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate())
	connect := func(secure bool, user, pw string) *ldap.Conn {
		t.Helper()
		var c *ldap.Conn
		var err error
		if secure {
			c, err = ldap.DialURL("ldaps://"+srv.LDAPSAddr().String(), ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
		} else {
			c, err = ldap.DialURL("ldap://" + srv.LDAPAddr().String())
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Bind(user, pw); err != nil {
			t.Fatalf("bind %s: %v", user, err)
		}
		return c
	}
	read := func(c *ldap.Conn) (*ldap.Entry, error) {
		res, err := c.Search(ldap.NewSearchRequest(kdsGMSADN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"msDS-ManagedPassword", "sAMAccountName"}, nil))
		if err != nil {
			return nil, err
		}
		if len(res.Entries) != 1 {
			return nil, errors.New("no entry")
		}
		return res.Entries[0], nil
	}

	c := connect(true, "WEB1$@contoso.com", "Web1-machine-pw")
	e, err := read(c)
	c.Close()
	if err != nil {
		t.Fatalf("WEB1$ over LDAPS: %v", err)
	}
	blob, err := fakekds.ParseManagedPasswordBlob(e.GetRawAttributeValue("msDS-ManagedPassword"))
	if err != nil {
		t.Fatalf("WEB1$ over LDAPS: msDS-ManagedPassword: %v", err)
	}
	// What `gmsasim kds password --root-key-id ... --sid ... --password-id HEX` computes.
	var idRaw []byte
	if err := w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: kdsGMSADN, Scope: fakead.ScopeBase,
			Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: []string{"msDS-ManagedPasswordId"}, SDFlags: -1})
		if err != nil || len(res) != 1 || len(res[0].Attributes) != 1 {
			return errors.New("no msDS-ManagedPasswordId")
		}
		idRaw = res[0].Attributes[0].Values[0]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	id, err := fakekds.ParsePasswordID(idRaw)
	if err != nil {
		t.Fatal(err)
	}
	sid, _ := ad.ParseSID(gmsaSID)
	want, err := fakekds.GMSAPassword(rk, id.GKID, sid)
	if err != nil || id.RootKeyID != rk.ID {
		t.Fatalf("independent computation: %v (key %s, want %s)", err, id.RootKeyID, rk.ID)
	}
	if !bytes.Equal(fakekds.NTHash(blob.Current), fakekds.NTHash(want)) {
		t.Errorf("NT hash over LDAPS %x, fakekds %x", fakekds.NTHash(blob.Current), fakekds.NTHash(want))
	}

	for _, who := range []struct{ name, pw string }{{"WEB3$@contoso.com", "Web3-machine-pw"}, {"alice@contoso.com", "Alice-Pa55!"}} {
		c := connect(true, who.name, who.pw)
		e, err := read(c)
		c.Close()
		if err != nil || e.GetAttributeValue("sAMAccountName") != "ITFarm1$" || len(e.GetRawAttributeValue("msDS-ManagedPassword")) != 0 {
			t.Errorf("%s over LDAPS: %v, want the entry without msDS-ManagedPassword", who.name, err)
		}
	}
	for _, who := range []struct{ name, pw string }{{"WEB1$@contoso.com", "Web1-machine-pw"},
		{"WEB3$@contoso.com", "Web3-machine-pw"}, {"alice@contoso.com", "Alice-Pa55!"}} {
		c := connect(false, who.name, who.pw)
		_, err := read(c)
		c.Close()
		var le *ldap.Error
		if !errors.As(err, &le) || le.ResultCode != ldap.LDAPResultOperationsError || !strings.HasPrefix(le.Err.Error(), "0000202D") {
			t.Errorf("%s over plain LDAP: %v, want operationsError 0000202D", who.name, err)
		}
	}
}
