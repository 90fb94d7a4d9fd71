package mimagent

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/mim"
)

// The operator's names against the directory as it is: preflight adopts what fits, refuses what
// does not with the reason, and checks the installer accounts and the MIM Service MA, before any
// change (the default world; each case its own).
func TestPreflightNamesAndAdoption(t *testing.T) {
	const dc = "DC1"
	for _, tc := range []struct {
		name  string
		setup func(w *sim.World) error
		ov    migrate.Overrides
		id    string
		pass  bool
		want  string // in the check's detail
	}{
		{name: "installer without dollar", ov: migrate.Overrides{Installer: []string{`sync:CONTOSO\MIMSyncGMSA`}},
			id: "installer-account", want: `"CONTOSO\\MIMSyncGMSA" has no trailing '$'`},
		{name: "installer names another gMSA", ov: migrate.Overrides{GMSA: []string{"sync:MIMSyncGMSAsvc"}, Installer: []string{`sync:MIMSyncGMSA$`}},
			id: "installer-account", want: `the installer would be given MIMSyncGMSA$, but the gMSA for sync is CONTOSO\MIMSyncGMSAsvc$`},
		{name: "installer in another domain", ov: migrate.Overrides{Installer: []string{`sync:FABRIKAM\MIMSyncGMSA$`}},
			id: "installer-account", want: `the installer would be given FABRIKAM\MIMSyncGMSA$`},
		{name: "installer right", ov: migrate.Overrides{Installer: []string{`sync:CONTOSO\MIMSyncGMSA$`}},
			id: "installer-account", pass: true, want: `sync: CONTOSO\MIMSyncGMSA$`},
		{name: "fitting gMSA adopted", setup: syncGMSA(sim.GMSASpec{}), id: "adopt-gmsa", pass: true, want: "adopted as the gMSA of sync"},
		{name: "gMSA at another interval", setup: syncGMSA(sim.GMSASpec{IntervalDays: 60}), id: "adopt-gmsa",
			want: "its password interval is 60 days, the plan's 30"},
		{name: "gMSA with a foreign SPN", setup: syncGMSA(sim.GMSASpec{SPNs: []string{"HTTP/other.contoso.com"}}), id: "adopt-gmsa",
			want: "it holds SPN HTTP/other.contoso.com, which the plan does not give it"},
		{name: "gMSA readable by someone else", setup: syncGMSA(sim.GMSASpec{PrincipalsAllowedToRetrieve: []string{"MIMSYNC$"}}), id: "adopt-gmsa",
			want: "its password readers (msDS-GroupMSAMembership) are MIMSYNC$, the plan's are MIMSync_Servers"},
		{name: "MIM Service MA", id: "service-ma", pass: true, want: `MA MIM Service MA connects as CONTOSO\svc-mimma (enabled user account)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, m, err := mim.NewDefaultWorld(mim.DefaultOptions{Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			if tc.setup != nil {
				if err := tc.setup(w); err != nil {
					t.Fatal(err)
				}
			}
			env, err := Serve(w, m)
			if err != nil {
				t.Fatal(err)
			}
			defer env.Close()
			if err := tc.ov.Apply(&env.Config); err != nil {
				t.Fatal(err)
			}
			_, rep, _, err := env.Plan(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			c := rep.Find(tc.id, "")
			if c == nil {
				t.Fatalf("no %s check in\n%s", tc.id, rep.Text())
			}
			if c.Pass != tc.pass || !strings.Contains(c.Detail, tc.want) {
				t.Fatalf("%s: pass=%v %q, want pass=%v containing %q", tc.id, c.Pass, c.Detail, tc.pass, tc.want)
			}
			if !tc.pass {
				// Refused before anything changes: apply stops at preflight, no key-set export.
				_, _, err := env.Apply(context.Background(), RunOptions{Journal: t.TempDir() + "/j.json"})
				if !errors.Is(err, migrate.ErrPreflight) {
					t.Fatalf("apply: %v, want a preflight refusal", err)
				}
				if f, ok := m.Host("MIMSYNC").KeySet(migrate.DefaultKeySetPath); ok {
					t.Fatalf("key set exported despite the refusal: %+v", f)
				}
			}
		})
	}
}

// syncGMSA creates the sync group and a MIMSyncGMSA as spec says (readable by the group unless
// spec names readers), as an operator following the document would.
func syncGMSA(spec sim.GMSASpec) func(w *sim.World) error {
	return func(w *sim.World) error {
		if err := w.NewGroup("DC1", migrate.DefaultSyncServersGroup); err != nil {
			return err
		}
		if err := w.AddGroupMembers("DC1", migrate.DefaultSyncServersGroup, "MIMSYNC$"); err != nil {
			return err
		}
		spec.Name, spec.DNSHostName = "MIMSyncGMSA", "mimsyncgmsa.contoso.com"
		if spec.PrincipalsAllowedToRetrieve == nil {
			spec.PrincipalsAllowedToRetrieve = []string{migrate.DefaultSyncServersGroup}
		}
		_, err := w.NewGMSA("DC1", spec)
		return err
	}
}

// The MIM Service MSI's Change is one run: a refused page (here a gMSA typed without its '$' on
// the last page) fails the run, and no page's service changed.
func TestChangeModeRunIsAllOrNothing(t *testing.T) {
	w, m, err := mim.NewDefaultWorld(mim.DefaultOptions{Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"PAMRestGMSA", "PAMCompGMSA", "PAMMonitorGMSA"} {
		if _, err := w.NewGMSA("DC1", sim.GMSASpec{Name: n, DNSHostName: strings.ToLower(n) + ".contoso.com", PrincipalsAllowedToRetrieve: []string{"MIMPAM$"}}); err != nil {
			t.Fatal(err)
		}
	}
	pam := m.Host("MIMPAM")
	for _, n := range []string{"PAMRestGMSA", "PAMCompGMSA", "PAMMonitorGMSA"} {
		if err := pam.Host().InstallADServiceAccount(n); err != nil {
			t.Fatal(err)
		}
	}
	a := &Agent{mh: pam}
	req := migrate.ChangeModeRequest{Component: migrate.CompPAMREST, Account: `CONTOSO\PAMRestGMSA$`,
		More: []migrate.ChangeModePage{{Component: migrate.CompPAMComponent, Account: `CONTOSO\PAMCompGMSA$`},
			{Component: migrate.CompPAMMonitoring, Account: `CONTOSO\PAMMonitorGMSA`}}}
	if _, err := a.ChangeMode(context.Background(), req); !errors.Is(err, migrate.ErrRejected) {
		t.Fatalf("change mode with a page missing its '$': %v, want ErrRejected", err)
	}
	for _, c := range []mim.Component{mim.CompPAMRestAPI, mim.CompPAMComponent, mim.CompPAMMonitoring} {
		if acct, _ := pam.Account(c); acct != `CONTOSO\svc-mimpam` {
			t.Errorf("%s runs as %s after a refused run, want CONTOSO\\svc-mimpam", c, acct)
		}
	}
	req.More[1].Account += "$"
	res, err := a.ChangeMode(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 3 {
		t.Errorf("warnings %q, want the LogonUser warning once per page", res.Warnings)
	}
	for c, want := range map[mim.Component]string{mim.CompPAMRestAPI: `CONTOSO\PAMRestGMSA$`, mim.CompPAMComponent: `CONTOSO\PAMCompGMSA$`, mim.CompPAMMonitoring: `CONTOSO\PAMMonitorGMSA$`} {
		if acct, _ := pam.Account(c); acct != want {
			t.Errorf("%s runs as %s, want %s", c, acct, want)
		}
	}
}
