package migrate_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/migrate"
)

// A key-set export that vanished between its verification and the change mode stops the sync
// conversion: change mode never runs, the service keeps its account, the key set stays loaded.
func TestMissingExportStopsSyncChangeMode(t *testing.T) {
	for _, crash := range []struct {
		step string
		at   migrate.CrashPoint
	}{
		{"keyset-verify@mimsync.contoso.com", migrate.AfterStep}, // verification not journaled
		{"stop:FIMSynchronizationService@mimsync.contoso.com", migrate.AfterStep},
		{"change-mode:sync@mimsync.contoso.com", migrate.BeforeStep}, // the guard itself
	} {
		t.Run(crash.step+"-"+string(crash.at), func(t *testing.T) { missingExport(t, crash.step, crash.at) })
	}
}

func missingExport(t *testing.T, step string, point migrate.CrashPoint) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	_, rep, plan := m.prepare(t)
	_, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal,
		Interrupt: func(s string, at migrate.CrashPoint) bool { return s == step && at == point }})
	if !errors.Is(err, migrate.ErrInterrupted) {
		t.Fatalf("apply: %v", err)
	}
	delete(m.sync.files, migrate.DefaultKeySetPath) // lost while the engine was down
	_, err = m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal})
	if !errors.Is(err, migrate.ErrNoVerifiedExport) {
		t.Fatalf("resume: %v, want ErrNoVerifiedExport", err)
	}
	se := stepErr(t, err)
	if se.Step != "keyset-verify@mimsync.contoso.com" && se.Step != "change-mode:sync@mimsync.contoso.com" {
		t.Errorf("failed step %s", se.Step)
	}
	if se.Host != "mimsync.contoso.com" || se.Fix == "" {
		t.Errorf("error lacks host or fix: %v", err)
	}
	st, _ := m.sync.QueryService(m.ctx, "FIMSynchronizationService")
	if st.Account != `CONTOSO\svc-mimsync` || !m.sync.keyLoaded {
		t.Errorf("sync service %s, key loaded %t: change mode ran without an export", st.Account, m.sync.keyLoaded)
	}
	for _, l := range m.sync.log {
		if strings.HasPrefix(l, "change-mode") {
			t.Errorf("host log shows %q", l)
		}
	}
}

// A foreign file at the export path is neither overwritten nor deleted; the export step stops.
func TestExportPathTakenIsNeverOverwritten(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	foreign := []byte("someone else's keys")
	m.sync.files[migrate.DefaultKeySetPath] = foreign
	_, rep, plan := m.prepare(t)
	_, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal})
	se := stepErr(t, err)
	if se.Step != "keyset-export@mimsync.contoso.com" || !strings.Contains(se.Fix, "never overwrites") {
		t.Errorf("apply: %v", err)
	}
	if !bytes.Equal(m.sync.files[migrate.DefaultKeySetPath], foreign) || m.sync.exports != 0 {
		t.Errorf("the foreign file was touched (exports %d)", m.sync.exports)
	}
	j, err := migrate.OpenJournal(m.journal)
	mustf(t, err, "journal")
	if r := j.Last(se.Step); r == nil || r.Phase != migrate.PhaseFailed || !strings.Contains(r.Detail, "expected") {
		t.Errorf("journal record %+v", r)
	}
}

// Wrong credentials for the current sync account: the export fails and says what to give.
func TestExportWithWrongSyncCredentials(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	m.cfg.SyncAccount.Password = "wrong"
	var err error
	m.eng, err = migrate.New(m.cfg)
	mustf(t, err, "new")
	_, rep, plan := m.prepare(t)
	_, err = m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal})
	se := stepErr(t, err)
	if se.Step != "keyset-export@mimsync.contoso.com" || !errors.Is(err, migrate.ErrAccessDenied) || !strings.Contains(se.Fix, "SyncAccount") {
		t.Errorf("apply: %v", err)
	}
	// Fixed configuration, resume: it goes through.
	m.cfg.SyncAccount.Password = "Sync-pw1!"
	m.eng, err = migrate.New(m.cfg)
	mustf(t, err, "new")
	_, err = m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal})
	mustf(t, err, "resume")
	if m.sync.exports != 1 {
		t.Errorf("exports %d", m.sync.exports)
	}
}
