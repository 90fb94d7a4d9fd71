package migrate_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/migrate"
)

// Apply forced past preflight with a root key that is not eligible yet: the DC refuses the gMSA
// ("Key does not exist"), the step says what to do, and once the key is eligible resume
// finishes from that step.
func TestGMSARefusedUntilTheRootKeyIsEligibleThenResume(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 2 * time.Hour})
	_, rep, plan := m.prepare(t)
	if rep.OK() {
		t.Fatalf("preflight passed with a 2-hour-old key:\n%s", rep.Text())
	}
	_, err := m.eng.Apply(m.ctx, plan, &migrate.Report{}, migrate.Options{Journal: m.journal})
	se := stepErr(t, err)
	if se.Step != "gmsa:MIMSyncGMSA" || !errors.Is(err, migrate.ErrDirectory) || !strings.Contains(se.Fix, "root key") {
		t.Fatalf("apply: %v", err)
	}
	if !strings.Contains(err.Error(), "CN=MIMSyncGMSA,CN=Managed Service Accounts,DC=contoso,DC=com") {
		t.Errorf("error does not name the object: %v", err)
	}
	mustf(t, m.td.w.Advance(9*time.Hour), "advance")
	res, err := m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal})
	mustf(t, err, "resume")
	if len(res.Skipped) != 1 || res.Skipped[0] != "group:MIMSync_Servers" || len(res.Ran) != len(plan.Steps)-1 {
		t.Errorf("resume skipped %q, ran %d of %d", res.Skipped, len(res.Ran), len(plan.Steps))
	}
}

// An Account Operator has the rights preflight asks for, but cannot read the root keys (their
// default security descriptor admits Domain and Enterprise Admins only): the root-key check fails
// and says so instead of passing on keys it cannot see.
func TestPreflightAccountOperator(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	base := m.td.w.DomainDN()
	err := m.td.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		dn := "CN=carol,CN=Users," + base
		if err := d.Add(now, fakead.SystemCaller, dn, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("top"), []byte("person"), []byte("organizationalPerson"), []byte("user")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte("carol")}},
			{Name: "userAccountControl", Values: [][]byte{[]byte("512")}},
		}); err != nil {
			return err
		}
		if err := d.SetPassword(now, fakead.SystemCaller, dn, "Carol-pw1!"); err != nil {
			return err
		}
		return d.Modify(now, fakead.SystemCaller, "CN=Account Operators,CN=Builtin,"+base,
			[]fakead.Modification{{Op: fakead.ModAdd, Attr: fakead.Attribute{Name: "member", Values: [][]byte{[]byte(dn)}}}})
	})
	mustf(t, err, "add carol")
	m.cfg.Admin = migrate.Credentials{Name: "carol@contoso.com", Password: "Carol-pw1!"}
	m.eng, err = migrate.New(m.cfg)
	mustf(t, err, "new")
	_, rep, _ := m.prepare(t)
	if c := checkOf(t, rep, "rights", ""); !c.Pass || !strings.Contains(c.Detail, "Account Operators") {
		t.Errorf("rights: %+v", c)
	}
	if c := checkOf(t, rep, "root-key", ""); c.Pass || !strings.Contains(c.Detail, "no msKds-ProvRootKey visible") {
		t.Errorf("root-key: %+v", c)
	}
}

// Plain LDAP upgraded with StartTLS reaches the same DC.
func TestStartTLS(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	srv := m.td.srvs[0]
	mustf(t, srv.ListenLDAP("127.0.0.1:0"), "listen")
	m.cfg.DC = migrate.Endpoint{Addr: srv.LDAPAddr().String(), StartTLS: true, TLS: m.td.tlsConfig("dc1.contoso.com")}
	var err error
	m.eng, err = migrate.New(m.cfg)
	mustf(t, err, "new")
	_, rep, _ := m.prepare(t)
	if !rep.OK() {
		t.Errorf("preflight over StartTLS:\n%s", rep.Text())
	}
	m.cfg.DC.TLS = nil
	m.cfg.DC.StartTLS = false
	m.cfg.Admin.Password = "wrong"
	m.eng, _ = migrate.New(m.cfg)
	est, _ := m.eng.Inventory(m.ctx)
	_, err = m.eng.Preflight(m.ctx, est)
	se := stepErr(t, err)
	if !errors.Is(err, migrate.ErrDirectory) || !strings.Contains(se.Fix, "credentials") {
		t.Errorf("bad bind: %v", err)
	}
}

func TestConfigRejects(t *testing.T) {
	good := migrate.Config{Domain: "contoso.com", NetBIOS: "CONTOSO", DC: migrate.Endpoint{Addr: "dc1:636"}}
	cases := map[string]func(c *migrate.Config){
		"no domain": func(c *migrate.Config) { c.Domain = "" },
		"no DC":     func(c *migrate.Config) { c.DC.Addr = "" },
		"long gMSA name": func(c *migrate.Config) {
			c.Accounts = map[migrate.Component]migrate.AccountSpec{migrate.CompSync: {Name: "ThisNameIsWayTooLong"}}
		},
		"portal as a gMSA": func(c *migrate.Config) {
			c.Accounts = map[migrate.Component]migrate.AccountSpec{migrate.CompPortal: {Name: "x"}}
		},
		"host twice": func(c *migrate.Config) {
			h := &fakeHost{name: "a.contoso.com"}
			c.Hosts = []migrate.HostAgent{h, h}
		},
	}
	for name, edit := range cases {
		c := good
		edit(&c)
		if _, err := migrate.New(c); !errors.Is(err, migrate.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
	if _, err := migrate.New(good); err != nil {
		t.Errorf("good config: %v", err)
	}
}
