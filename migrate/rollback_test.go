package migrate_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/migrate"
)

func TestRollbackReturnsEveryServiceToItsPreviousAccount(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	start := m.hostStates()
	_, rep, plan := m.prepare(t)
	_, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal})
	mustf(t, err, "apply")
	export := append([]byte(nil), m.sync.files[migrate.DefaultKeySetPath]...)

	// Crash the rollback half-way, then run it again.
	_, err = m.eng.Rollback(m.ctx, migrate.Options{Journal: m.journal,
		Interrupt: func(step string, at migrate.CrashPoint) bool {
			return step == "rollback:keyset-restore@mimsync.contoso.com" && at == migrate.AfterStep
		}})
	if !errors.Is(err, migrate.ErrInterrupted) {
		t.Fatalf("rollback: %v, want ErrInterrupted", err)
	}
	res, err := m.eng.Rollback(m.ctx, migrate.Options{Journal: m.journal})
	mustf(t, err, "rollback again")
	if len(res.Skipped) == 0 {
		t.Errorf("second rollback skipped nothing")
	}
	for _, h := range []*fakeHost{m.sync, m.service, m.pam} {
		for name, s := range h.svcs {
			if s.Account != start[h.name+" "+name] || s.State != migrate.StateRunning {
				t.Errorf("%s %s: %s as %s, want Running as %s", h.name, name, s.State, s.Account, start[h.name+" "+name])
			}
		}
	}
	if !m.sync.keyLoaded {
		t.Errorf("sync key set not restored")
	}
	if got := m.sync.files[migrate.DefaultKeySetPath]; !bytes.Equal(got, export) {
		t.Errorf("the key-set export changed during rollback")
	}
	if v, _ := m.service.ReadRegistry(m.ctx, migrate.RegKeyFIMService, migrate.RegValPollExchange); v.DWord != 0 {
		t.Errorf("PollExchangeEnabled after rollback = %d, want 0 (it was absent)", v.DWord)
	}
}

func (m *mimWorld) hostStates() map[string]string {
	out := map[string]string{}
	for _, h := range []*fakeHost{m.sync, m.service, m.pam} {
		for name, s := range h.svcs {
			out[h.name+" "+name] = s.Account
		}
	}
	return out
}

func TestRollbackOfAPartialApply(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	_, rep, plan := m.prepare(t)
	// Killed right after the sync service was stopped: nothing converted yet on the sync host.
	_, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal,
		Interrupt: func(step string, at migrate.CrashPoint) bool {
			return step == "change-mode:sync@mimsync.contoso.com" && at == migrate.BeforeStep
		}})
	if !errors.Is(err, migrate.ErrInterrupted) {
		t.Fatalf("apply: %v", err)
	}
	res, err := m.eng.Rollback(m.ctx, migrate.Options{Journal: m.journal})
	mustf(t, err, "rollback")
	st, _ := m.sync.QueryService(m.ctx, "FIMSynchronizationService")
	if st.State != migrate.StateRunning || st.Account != `CONTOSO\svc-mimsync` {
		t.Errorf("sync after rollback: %s as %s", st.State, st.Account)
	}
	// The change mode's intent is journaled, so rollback cannot know it did not run: it changes
	// the account back (a no-op here), restores the key set (harmless) and starts the service.
	want := []string{"rollback:change-mode:sync@mimsync.contoso.com", "rollback:keyset-restore@mimsync.contoso.com",
		"rollback:start:FIMSynchronizationService@mimsync.contoso.com"}
	if strings.Join(res.Ran, " ") != strings.Join(want, " ") {
		t.Errorf("rollback ran %q, want %q", res.Ran, want)
	}
}

func TestRollbackNeedsThePreviousPasswords(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	_, rep, plan := m.prepare(t)
	_, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal})
	mustf(t, err, "apply")
	cfg := m.cfg
	cfg.PreviousPasswords = nil
	eng, err := migrate.New(cfg)
	mustf(t, err, "new")
	_, err = eng.Rollback(m.ctx, migrate.Options{Journal: m.journal})
	se := stepErr(t, err)
	if !errors.Is(err, migrate.ErrConfig) || !strings.Contains(se.Fix, "PreviousPasswords") || se.Host == "" {
		t.Errorf("rollback without passwords: %v", err)
	}
}
