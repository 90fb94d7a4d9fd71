package migrate_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/migrate"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewrite {
		mustf(t, os.WriteFile(path, got, 0o644), "rewrite %s", path)
		return
	}
	want, err := os.ReadFile(path)
	mustf(t, err, "read %s (run go test -rewrite)", path)
	if string(got) != string(want) {
		t.Errorf("%s differs (go test -rewrite to accept):\n%s", path, got)
	}
}

func TestPlanGolden(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	est, rep, plan := m.prepare(t)
	golden(t, "preflight.txt", []byte(rep.Text()))
	golden(t, "plan.json", plan.JSON())
	golden(t, "plan.txt", []byte(plan.Text()))
	golden(t, "inventory.txt", []byte(est.Text()))

	// The plan JSON round-trips and carries no password.
	var back migrate.Plan
	mustf(t, json.Unmarshal(plan.JSON(), &back), "unmarshal")
	if back.Hash() != plan.Hash() {
		t.Errorf("plan JSON does not round-trip")
	}
	for _, secret := range []string{"Sync-pw1!", "Mail-pw1!", adminPassword} {
		if strings.Contains(string(plan.JSON()), secret) {
			t.Errorf("plan JSON contains a password")
		}
	}
	// Every dependency precedes its step.
	pos := map[string]int{}
	for i, s := range plan.Steps {
		if _, dup := pos[s.ID]; dup {
			t.Errorf("duplicate step id %s", s.ID)
		}
		pos[s.ID] = i
		for _, d := range s.DependsOn {
			if j, ok := pos[d]; !ok || j >= i {
				t.Errorf("step %s depends on %s, which does not come before it", s.ID, d)
			}
		}
	}
	if len(plan.Unsupported) != 2 {
		t.Errorf("unsupported = %q, want the Portal and the AD MA", plan.Unsupported)
	}
}

func TestPlanWithoutPCNSOrSSPR(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	m.sync.inv.PCNS = false
	m.service.inv.Components = m.service.inv.Components[:1] // MIM Service only
	m.service.inv.Exchange = &migrate.ExchangeOptions{Online: false}
	cfg := m.cfg
	cfg.Exchange = nil
	eng, err := migrate.New(cfg)
	mustf(t, err, "new")
	est, err := eng.Inventory(m.ctx)
	mustf(t, err, "inventory")
	plan, err := eng.MakePlan(est)
	mustf(t, err, "plan")
	js := string(plan.JSON())
	for _, absent := range []string{"PCNSCLNT", "group-member:", "registry:PollExchangeEnabled", "SSPR"} {
		if strings.Contains(js, absent) {
			t.Errorf("plan mentions %q without PCNS / SSPR / Exchange Online", absent)
		}
	}
	if plan.Step("exchange-check@mimsvc.contoso.com") == nil {
		t.Errorf("no exchange-check step for Exchange on-premises")
	}
}
