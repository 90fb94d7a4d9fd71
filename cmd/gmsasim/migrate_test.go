package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets a test run `gmsasim migrate ...` in a child process (the test binary itself), so
// that the child can be killed for real; and lets conform's adapters call this binary as gmsasim.
func TestMain(m *testing.M) {
	if args := os.Getenv("GMSASIM_MIGRATE_CHILD"); args != "" {
		os.Exit(runMigrate(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	if os.Getenv("GMSASIM_TEST_AS_GMSASIM") == "1" { // conform_test.go: the product's gmsasim
		os.Exit(conformFixtureMain(os.Getenv("GMSASIM_TEST_FIXTURE"), os.Args[1:]))
	}
	// The products conform's adapters run are this binary (GMSASIM = os.Executable()): they
	// inherit the variable and act as gmsasim. Set for the whole run rather than with t.Setenv, so
	// that the conform tests may run in parallel; the migrate child above is checked first.
	os.Setenv("GMSASIM_TEST_AS_GMSASIM", "1")
	os.Exit(m.Run())
}

func migrateCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMigrate(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestMigratePlanDefaultWorld(t *testing.T) {
	code, out, errs := migrateCmd(t, "plan")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"mimsync.contoso.com", "keyset-export@mimsync.contoso.com", "change-mode:sync@mimsync.contoso.com", "portal"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}
	code, out, _ = migrateCmd(t, "plan", "--root-key", "fresh")
	if code != 1 || !strings.Contains(out, "FAIL  KDS root key") {
		t.Errorf("plan with a fresh root key: exit %d, output:\n%s", code, out)
	}
	code, out, errs = migrateCmd(t, "plan", "--world", "../../scenarios/mim/exchange-online.scn")
	if code != 0 || !strings.Contains(out, "mimsvc.contoso.com") || strings.Contains(out, "mimsync.contoso.com") {
		t.Errorf("plan --world exchange-online.scn: exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, _ := migrateCmd(t, "apply"); code != 2 {
		t.Errorf("apply without --journal: exit %d, want 2", code)
	}
	if code, _, _ := migrateCmd(t, "frobnicate"); code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", code)
	}
	// The operator's names and the DCs' reading of the root-key rule.
	code, out, errs = migrateCmd(t, "plan", "--gmsa", "sync:MIMSyncGMSAsvc", "--installer", `sync:CONTOSO\MIMSyncGMSAsvc`,
		"--root-key", "fresh", "--root-key-rule", "one-interval-ago", "--mode", "script")
	for _, want := range []string{"gmsa:MIMSyncGMSAsvc", "usable from 2026-11-23T20:35:00Z", `"CONTOSO\\MIMSyncGMSAsvc" has no trailing '$'`,
		"set-logon:MIMPAMRestApi@mimpam.contoso.com"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("plan with names, rule and mode: exit %d, output lacks %q\n%s\n%s", code, want, out, errs)
		}
	}
	// --world takes the names on the file's first migrate line; a flag wins.
	const doc = "../../scenarios/mim/document-names-end-to-end.scn"
	code, out, _ = migrateCmd(t, "plan", "--world", doc)
	if code != 1 || !strings.Contains(out, `the installer would be given CONTOSO\MIMSyncGMSA$, but the gMSA for sync is CONTOSO\MIMSyncGMSAsvc$`) {
		t.Errorf("plan --world %s: exit %d\n%s", doc, code, out)
	}
	code, out, _ = migrateCmd(t, "plan", "--world", doc, "--installer", `sync:CONTOSO\MIMSyncGMSAsvc$`)
	if code != 0 || !strings.Contains(out, "gmsa:MIMSyncGMSAsvc") {
		t.Errorf("plan --world %s --installer: exit %d\n%s", doc, code, out)
	}
	if code, _, errs := migrateCmd(t, "plan", "--gmsa", "portal:X"); code != 2 || !strings.Contains(errs, `unknown or unconvertible component "portal"`) {
		t.Errorf("plan --gmsa portal:X: exit %d, stderr %q", code, errs)
	}
}

func TestMigrateCrashResumeRollback(t *testing.T) {
	t.Parallel() // a long test with its own world and files: it overlaps the others
	j := filepath.Join(t.TempDir(), "journal.json")
	code, out, errs := migrateCmd(t, "apply", "--journal", j, "--crash-after", "change-mode:sync@mimsync.contoso.com")
	if code != exitCrashed {
		t.Fatalf("apply --crash-after: exit %d, want %d\n%s\n%s", code, exitCrashed, out, errs)
	}
	if !strings.Contains(out, `MIMSYNC sync: Stopped as CONTOSO\MIMSyncGMSA$`) || !strings.Contains(errs, "resume") {
		t.Errorf("after the crash:\n%s\n%s", out, errs)
	}
	if _, err := os.Stat(statePath(j)); err != nil {
		t.Fatalf("no saved world: %v", err)
	}
	code, out, errs = migrateCmd(t, "resume", "--journal", j)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{`MIMSYNC sync: Running as CONTOSO\MIMSyncGMSA$`, "matches the database: true, written 1 time(s); keys loaded: true",
		`MIMSSPR sspr-reset: Running as CONTOSO\SSPRResetGMSA$`, `MIMSVC portal: Running as CONTOSO\svc-mimservice`} {
		if !strings.Contains(out, want) {
			t.Errorf("after resume, lacks %q:\n%s", want, out)
		}
	}
	code, out, errs = migrateCmd(t, "rollback", "--journal", j)
	if code != 0 {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{`MIMSYNC sync: Running as CONTOSO\svc-mimsync`, `MIMPAM pam-rest: Running as CONTOSO\svc-mimpam`} {
		if !strings.Contains(out, want) {
			t.Errorf("after rollback, lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := migrateCmd(t, "resume", "--journal", filepath.Join(t.TempDir(), "none.json")); code != 1 || !strings.Contains(errs, "saved next to the journal") {
		t.Errorf("resume without a saved world: exit %d %s", code, errs)
	}
}

// startApplyChild runs `gmsasim migrate apply --journal j` in a child process (this test binary,
// through TestMain) and returns it with its standard output.
func startApplyChild(t *testing.T, j string) (*exec.Cmd, io.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GMSASIM_MIGRATE_CHILD="+strings.Join([]string{"apply", "--journal", j}, "\x1f"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdout
}

// An apply is stopped (SIGSTOP) once the sync server's key set is exported, the change mode
// still ahead: a second apply, a resume and a rollback fail at once naming the running process
// and change neither the journal nor the saved world. Then the apply is killed (SIGKILL) while it
// holds the lock: resume in a new process takes the dead holder's lock over and finishes, without
// repeating what was done.
func TestMigrateLockedWhileApplyRunsThenResumeAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	t.Parallel() // a long test with its own world and files: it overlaps the others
	j := filepath.Join(t.TempDir(), "journal.json")
	cmd, stdout := startApplyChild(t, j)
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	sc := bufio.NewScanner(stdout)
	stopped := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "keyset-export@mimsync.contoso.com") {
			if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			stopped = true
			break
		}
	}
	if !stopped {
		t.Fatal("the child finished before it could be stopped")
	}
	journal, _ := os.ReadFile(j)
	world, _ := os.ReadFile(statePath(j))
	want := fmt.Sprintf("journal %s is locked by pid %d (gmsasim migrate apply, since ", j, cmd.Process.Pid)
	for _, verb := range []string{"apply", "resume", "rollback"} {
		code, out, errs := migrateCmd(t, verb, "--journal", j)
		if code != 1 || !strings.Contains(errs, "gmsasim migrate "+verb+": "+want) {
			t.Errorf("%s during apply: exit %d, stderr %q, want exit 1 and %q\n%s", verb, code, errs, want, out)
		}
	}
	if b, _ := os.ReadFile(j); !bytes.Equal(b, journal) {
		t.Errorf("the refused commands changed the journal")
	}
	if b, _ := os.ReadFile(statePath(j)); !bytes.Equal(b, world) || len(world) == 0 {
		t.Errorf("the refused commands changed the saved world (or there was none: %d bytes)", len(world))
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, err := os.Stat(j + ".lock"); err != nil {
		t.Fatalf("the killed apply's lock file: %v, want it left behind (a crash cannot remove it)", err)
	}
	code, out, errs := migrateCmd(t, "resume", "--journal", j)
	if code != 0 {
		t.Fatalf("resume after kill: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "already done") || strings.Contains(out, "ran 0 step(s)") {
		t.Errorf("resume after kill repeated everything or had nothing left:\n%s", out)
	}
	for _, want := range []string{`MIMSYNC sync: Running as CONTOSO\MIMSyncGMSA$`, "written 1 time(s); keys loaded: true",
		`MIMSVC service: Running as CONTOSO\MIMServiceGMSA$`} {
		if !strings.Contains(out, want) {
			t.Errorf("after resume, lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(j + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after resume: %v, want it removed", err)
	}
}

// A saved world whose time cannot be a simulation's is refused with the file and the time named
// (it used to fail later with "access denied"); so is apply over an existing journal, before it
// builds a new world to save over the journal's.
func TestMigrateRefusesAnImpossibleWorldTimeAndApplyOverAJournal(t *testing.T) {
	j := filepath.Join(t.TempDir(), "journal.json")
	if code, out, errs := migrateCmd(t, "apply", "--journal", j, "--crash-after", "group:MIMSync_Servers"); code != exitCrashed {
		t.Fatalf("apply --crash-after: exit %d\n%s\n%s", code, out, errs)
	}
	saved, err := os.ReadFile(statePath(j))
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs := migrateCmd(t, "apply", "--journal", j)
	if code != 1 || !strings.Contains(errs, "journal "+j+" exists") {
		t.Errorf("apply over the journal: exit %d, %s", code, errs)
	}
	if b, _ := os.ReadFile(statePath(j)); !bytes.Equal(b, saved) {
		t.Errorf("apply over the journal replaced its saved world")
	}
	var w map[string]json.RawMessage
	if err := json.Unmarshal(saved, &w); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ now, shown, why string }{
		{`"1601-01-01T00:00:00Z"`, "1601-01-01T00:00:00Z", "before 1970"},
		{`"0001-01-01T00:00:00Z"`, "0001-01-01T00:00:00Z", "zero"},
		{`"9999-12-31T23:59:59Z"`, "9999-12-31T23:59:59Z", "after the year 9000"},
	} {
		w["now"] = json.RawMessage(c.now)
		b, _ := json.Marshal(w)
		if err := os.WriteFile(statePath(j), b, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, verb := range []string{"resume", "rollback"} {
			code, _, errs := migrateCmd(t, verb, "--journal", j)
			want := fmt.Sprintf("world file %s (saved next to the journal): simulated time %s is not a plausible time (it is %s", statePath(j), c.shown, c.why)
			if code != 1 || !strings.Contains(errs, want) || strings.Contains(errs, "access denied") {
				t.Errorf("%s with now=%s: exit %d, stderr %q\nwant exit 1 and %q", verb, c.now, code, errs, want)
			}
		}
		if got, _ := os.ReadFile(statePath(j)); !bytes.Equal(got, b) {
			t.Errorf("the refused %s rewrote the world file", c.now)
		}
	}
}
