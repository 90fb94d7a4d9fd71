package migrate_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/sim"
)

// checkOf returns the preflight check or fails.
func checkOf(t *testing.T, rep *migrate.Report, id, host string) migrate.Check {
	t.Helper()
	c := rep.Find(id, host)
	if c == nil {
		t.Fatalf("no check %s %s in:\n%s", id, host, rep.Text())
	}
	return *c
}

func TestPreflightHappyPathReportsWhatItLeavesAlone(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	_, rep, _ := m.prepare(t)
	if !rep.OK() {
		t.Fatalf("blockers:\n%s", rep.Text())
	}
	for _, id := range []string{"schema", "dc-os", "rights", "root-key"} {
		if c := checkOf(t, rep, id, ""); !c.Pass {
			t.Errorf("%s: %+v", id, c)
		}
	}
	if c := checkOf(t, rep, "rights", ""); !strings.Contains(c.Detail, "Domain Admins") {
		t.Errorf("rights detail %q", c.Detail)
	}
	if c := checkOf(t, rep, "kdssvc-trigger", "mimsvc.contoso.com"); c.Pass || c.Severity != migrate.Info {
		t.Errorf("2012 R2 flag: %+v", c)
	}
	var unsupported []string
	for _, c := range rep.Checks {
		if c.ID == "unsupported" {
			unsupported = append(unsupported, c.Detail)
		}
	}
	if len(unsupported) != 2 || !strings.Contains(unsupported[0], "portal") && !strings.Contains(unsupported[1], "portal") {
		t.Errorf("unsupported: %q", unsupported)
	}
}

func TestPreflightFailures(t *testing.T) {
	cases := []struct {
		name  string
		opts  worldOpts
		edit  func(m *mimWorld)
		id    string
		host  string
		trait string // in the detail
	}{
		{name: "old MIM", opts: worldOpts{keyAge: 11 * time.Hour},
			edit: func(m *mimWorld) { m.sync.inv.Components[0].Version = "4.4.1749.0" },
			id:   "mim-version", host: "mimsync.contoso.com", trait: "4.4.1749.0"},
		{name: "root key present but not yet eligible", opts: worldOpts{keyAge: time.Hour},
			id: "root-key", trait: "(in 3h30m0s)"},
		{name: "no root key", opts: worldOpts{keyAge: -1}, id: "root-key", trait: "no msKds-ProvRootKey"},
		{name: "schema 47", opts: worldOpts{keyAge: -1, schema: 47, dcs: []sim.DCSpec{{Name: "DC1", OS: "2008R2"}}}, id: "schema", trait: "objectVersion 47"},
		{name: "DC older than 2012", opts: worldOpts{keyAge: -1, dcs: []sim.DCSpec{{Name: "DC1", OS: "2008R2"}}},
			id: "dc-os", trait: "no DC of Windows Server 2012"},
		{name: "32-bit host", opts: worldOpts{keyAge: 11 * time.Hour},
			edit: func(m *mimWorld) { m.pam.os.Is64Bit = false }, id: "host-os", host: "mimpam.contoso.com", trait: "64-bit=false"},
		{name: "host not joined", opts: worldOpts{keyAge: 11 * time.Hour, hosts: []string{"MIMSYNC", "MIMSVC"}},
			id: "computer", host: "mimpam.contoso.com", trait: "no computer object"},
		{name: "no sync credentials", opts: worldOpts{keyAge: 11 * time.Hour},
			edit: func(m *mimWorld) { m.cfg.SyncAccount.Password = "" }, id: "sync-credentials", host: "mimsync.contoso.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMIMWorld(t, tc.opts)
			if tc.edit != nil {
				tc.edit(m)
				eng, err := migrate.New(m.cfg)
				mustf(t, err, "new")
				m.eng = eng
			}
			_, rep, plan := m.prepare(t)
			c := checkOf(t, rep, tc.id, tc.host)
			if c.Pass || c.Severity != migrate.Blocker || !strings.Contains(c.Detail, tc.trait) || c.Fix == "" {
				t.Errorf("check %+v; want a failed blocker with %q and a fix", c, tc.trait)
			}
			if rep.OK() {
				t.Errorf("report OK despite %s", tc.id)
			}
			_, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal})
			if !errors.Is(err, migrate.ErrPreflight) || !strings.Contains(err.Error(), tc.id) {
				t.Errorf("apply: %v, want ErrPreflight naming %s", err, tc.id)
			}
		})
	}
}

func TestPreflightRootKeyNotYetOnTheHostsDC(t *testing.T) {
	// Two DCs, replication an hour apart; the key (old enough) was added on DC1 a moment ago in
	// replication terms, and the PAM host uses DC2.
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour, linkDelay: time.Hour,
		dcs: []sim.DCSpec{{Name: "DC1"}, {Name: "DC2"}}})
	m.pam.os.DC = `\\DC2` // as nltest /dsgetdc prints it
	_, rep, _ := m.prepare(t)
	var onDC1, onDC2 *migrate.Check
	for i, c := range rep.Checks {
		if c.ID == "root-key" && strings.HasSuffix(c.Title, "dc1.contoso.com") {
			onDC1 = &rep.Checks[i]
		}
		if c.ID == "root-key" && strings.HasSuffix(c.Title, "dc2.contoso.com") {
			onDC2 = &rep.Checks[i]
		}
	}
	if onDC1 == nil || !onDC1.Pass || onDC2 == nil || onDC2.Pass {
		t.Fatalf("root-key checks: dc1 %+v dc2 %+v\n%s", onDC1, onDC2, rep.Text())
	}
	// Once replication has delivered the key, DC2 passes too.
	mustf(t, m.td.w.Advance(2*time.Hour), "advance")
	_, rep, _ = m.prepare(t)
	if !rep.OK() {
		t.Errorf("after replication:\n%s", rep.Text())
	}
}

func TestPreflightOperatorWithoutRights(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	base := m.td.w.DomainDN()
	err := m.td.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		dn := "CN=bob,CN=Users," + base
		if err := d.Add(now, fakead.SystemCaller, dn, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("top"), []byte("person"), []byte("organizationalPerson"), []byte("user")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte("bob")}},
			{Name: "userAccountControl", Values: [][]byte{[]byte("512")}},
		}); err != nil {
			return err
		}
		return d.SetPassword(now, fakead.SystemCaller, dn, "Bob-pw1!")
	})
	mustf(t, err, "add bob")
	m.cfg.Admin = migrate.Credentials{Name: `CONTOSO\bob`, Password: "Bob-pw1!"}
	m.eng, err = migrate.New(m.cfg)
	mustf(t, err, "new")
	_, rep, _ := m.prepare(t)
	if c := checkOf(t, rep, "rights", ""); c.Pass || !strings.Contains(c.Detail, "CN=bob") {
		t.Errorf("rights: %+v", c)
	}
	// bob cannot see the root key either: the check fails rather than guessing.
	if c := checkOf(t, rep, "root-key", ""); c.Pass {
		t.Errorf("root-key passed for a non-admin: %+v", c)
	}
}

func TestPreflightForgottenDollar(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	_, rep, plan := m.prepare(t)
	_, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal})
	mustf(t, err, "apply")
	// Someone re-ran change mode by hand and forgot the '$'.
	m.sync.svcs["fimsynchronizationservice"].Account = `CONTOSO\MIMSyncGMSA`
	_, rep, plan = m.prepare(t)
	c := checkOf(t, rep, "dollar", "mimsync.contoso.com")
	if c.Pass || c.Severity != migrate.Warning || !strings.Contains(c.Fix, `CONTOSO\MIMSyncGMSA$`) {
		t.Errorf("dollar check %+v", c)
	}
	cm := plan.Step("change-mode:sync@mimsync.contoso.com")
	if cm == nil || cm.Account != `CONTOSO\MIMSyncGMSA$` || cm.From != `CONTOSO\MIMSyncGMSA` {
		t.Fatalf("change-mode step %+v", cm)
	}
}
