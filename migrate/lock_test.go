//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package migrate_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/migrate"
)

// otherProcessLock holds the journal's lock as another process would: its own open file of
// JOURNAL.lock, flock'd, naming pid 1234. flock excludes open files, so this process's engine
// cannot tell it from another process. Closing the file is that process ending.
func otherProcessLock(t *testing.T, journal string) *os.File {
	t.Helper()
	f, err := os.OpenFile(journal+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	mustf(t, err, "open lock file")
	mustf(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB), "flock")
	_, err = f.WriteString(`{"pid":1234,"command":"gmsasim migrate apply","since":"2026-12-03T08:30:00Z"}` + "\n")
	mustf(t, err, "write holder")
	t.Cleanup(func() { f.Close() })
	return f
}

// A second writer fails at once naming the holder (the test would hang here if it waited: the
// lock is not released until after the calls), changes nothing, and works once the holder ends,
// taking over the lock file it left behind.
func TestJournalLockedByAnotherProcess(t *testing.T) {
	m, plan, _ := crashedJournal(t)
	before, _ := os.ReadFile(m.journal)
	hosts := m.hostStates()
	holder := otherProcessLock(t, m.journal)
	want := fmt.Sprintf("journal %s is locked by pid 1234 (gmsasim migrate apply, since 2026-12-03T08:30:00Z)", m.journal)
	_, rep, _ := m.prepare(t)
	runs := map[string]func() error{
		"resume":   func() error { _, err := m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal}); return err },
		"rollback": func() error { _, err := m.eng.Rollback(m.ctx, migrate.Options{Journal: m.journal}); return err },
		"apply":    func() error { _, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal}); return err },
		"create":   func() error { _, err := migrate.CreateJournal(m.journal, plan); return err },
		"LockJournal": func() error {
			_, err := migrate.LockJournal(m.journal, "")
			return err
		},
	}
	for name, run := range runs {
		err := run()
		var le *migrate.LockedError
		if !errors.As(err, &le) || !errors.Is(err, migrate.ErrJournalLocked) || !errors.Is(err, migrate.ErrJournal) {
			t.Errorf("%s while locked: %v, want a *LockedError", name, err)
			continue
		}
		if !strings.Contains(err.Error(), want) || le.Holder.PID != 1234 || le.Here {
			t.Errorf("%s while locked: %v\nwant %q", name, err, want)
		}
	}
	if after, _ := os.ReadFile(m.journal); !bytes.Equal(after, before) {
		t.Errorf("the refused writers changed the journal")
	}
	if got := m.hostStates(); fmt.Sprint(got) != fmt.Sprint(hosts) {
		t.Errorf("the refused writers changed the hosts:\n%v\nwant\n%v", got, hosts)
	}

	holder.Close() // the holder ends; its lock file stays, naming it, with no flock
	if b, err := os.ReadFile(m.journal + ".lock"); err != nil || !strings.Contains(string(b), `"pid":1234`) {
		t.Fatalf("the stale lock file: %q, %v", b, err)
	}
	res, err := m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal})
	mustf(t, err, "resume after the holder ended")
	if len(res.Skipped) != 4 || len(res.Ran) != len(plan.Steps)-4 {
		t.Errorf("resume skipped %d and ran %d, want 4 and %d", len(res.Skipped), len(res.Ran), len(plan.Steps)-4)
	}
	if _, err := os.Stat(m.journal + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after the run: %v, want it removed", err)
	}
}

// LockJournal holds the journal for this process (gmsasim migrate holds it around loading and
// saving the world): the engine's runs in the process use it, one at a time; others are refused.
func TestLockJournalIsUsedByThisProcessesRuns(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	_, rep, plan := m.prepare(t)
	l, err := migrate.LockJournal(m.journal, "gmsasim migrate apply")
	mustf(t, err, "lock")
	var h migrate.LockHolder
	b, _ := os.ReadFile(m.journal + ".lock")
	if err := json.Unmarshal(bytes.TrimSpace(b), &h); err != nil || h.PID != os.Getpid() || h.Command != "gmsasim migrate apply" || h != l.Holder() {
		t.Errorf("lock file %q (%v), want this process's pid %d and the command", b, err, os.Getpid())
	}
	if _, err := time.Parse(time.RFC3339, h.Since); err != nil {
		t.Errorf("since %q: %v", h.Since, err)
	}
	var le *migrate.LockedError
	if _, err := migrate.LockJournal(m.journal, "again"); !errors.As(err, &le) || !le.Here || le.Holder.PID != os.Getpid() {
		t.Errorf("second LockJournal: %v, want a *LockedError naming this process", err)
	}
	// A journal the engine holds for a run is not lent to a second run.
	j, err := migrate.CreateJournal(m.journal, plan)
	mustf(t, err, "CreateJournal under the process's lock")
	if _, err := m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal}); !errors.As(err, &le) || !le.Here {
		t.Errorf("resume while CreateJournal's journal is open: %v, want a *LockedError naming this process", err)
	}
	mustf(t, j.Close(), "close")
	mustf(t, os.Remove(m.journal), "remove")
	_, err = m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal})
	mustf(t, err, "apply under the process's lock")

	// Still held after the run (it was lent, not taken), and an flock: another open file of
	// the lock file cannot take it.
	f, err := os.OpenFile(m.journal+".lock", os.O_RDWR, 0)
	mustf(t, err, "open the lock file")
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Errorf("flock while held: %v, want EWOULDBLOCK", err)
	}
	mustf(t, l.Release(), "release")
	if _, err := os.Stat(m.journal + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after Release: %v, want it removed", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Errorf("flock after Release: %v", err)
	}
	res, err := m.eng.Rollback(m.ctx, migrate.Options{Journal: m.journal})
	mustf(t, err, "rollback after Release (the engine takes its own lock)")
	if len(res.Ran) == 0 {
		t.Errorf("rollback ran nothing")
	}
}

// A symlink at the lock's path is refused, and the file it points to is left as it was: taking
// the lock writes the holder's line into the lock file, which must not reach another file.
func TestLockFileSymlinkIsNotWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	journal := dir + "/journal.json"
	victim := dir + "/precious"
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, journal+".lock"); err != nil {
		t.Fatal(err)
	}
	l, err := migrate.LockJournal(journal, "test")
	if err == nil {
		l.Release()
		t.Fatal("a symlinked lock file was taken")
	}
	if !errors.Is(err, migrate.ErrJournal) || !strings.Contains(err.Error(), "is a symlink") {
		t.Errorf("error %v, want one saying the lock file is a symlink", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Errorf("the symlink's target was changed: %q", b)
	}
}
