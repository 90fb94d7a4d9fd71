package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// serveRun is `gmsasim serve` running in-process on ports the kernel picks.
type serveRun struct {
	Ready  string // the ready line; "" if serve exited first
	Code   int    // the exit code, once exited
	Stderr bytes.Buffer
	stop   chan os.Signal
	done   chan int
}

// startServe runs `gmsasim serve` with args (after loopback port-0 listeners) and returns once it
// has printed its ready line or exited.
func startServe(t *testing.T, args ...string) *serveRun {
	t.Helper()
	args = append([]string{"--ldap", "127.0.0.1:0", "--ldaps", "127.0.0.1:0", "--kdc", "127.0.0.1:0"}, args...)
	r := &serveRun{stop: make(chan os.Signal, 1), done: make(chan int, 1)}
	pr, pw := io.Pipe()
	go func() {
		code := serveUntil(args, pw, &r.Stderr, r.stop)
		pw.Close()
		r.done <- code
	}()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready ") {
				ready <- sc.Text()
			}
		}
		// Reading until serve closes its stdout, so that it never blocks on a write. ready stays
		// open: a closed channel would win the select below against r.done.
	}()
	select {
	case r.Ready = <-ready:
	case r.Code = <-r.done:
		r.done = nil
	}
	if r.done != nil {
		t.Cleanup(func() { r.Stop() })
	}
	return r
}

// Stop sends SIGTERM and returns the exit code; it may be called more than once.
func (r *serveRun) Stop() int {
	if r.done != nil {
		r.stop <- syscall.SIGTERM
		r.Code = <-r.done
		r.done = nil
	}
	return r.Code
}

// The state dir someone else could write to, or a symlink to one, is refused before anything is
// written or any port opened; the message names the directory and the reason.
func TestServeRefusesUnsafeStateDir(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	mine := filepath.Join(base, "mine")
	if err := os.Mkdir(mine, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(mine, link); err != nil {
		t.Fatal(err)
	}
	for dir, reason := range map[string]string{open: "writable by group or others", link: "it is a symlink"} {
		r := startServe(t, "--state-dir", dir, "--seed", "1")
		if r.Ready != "" {
			r.Stop()
			t.Fatalf("serve accepted --state-dir %s: %s", dir, r.Ready)
		}
		if msg := r.Stderr.String(); r.Code == 0 || !strings.Contains(msg, dir) || !strings.Contains(msg, reason) {
			t.Errorf("serve --state-dir %s: exit %d, stderr %q; want non-zero and the dir and %q", dir, r.Code, msg, reason)
		}
		if ents, _ := os.ReadDir(mine); len(ents) != 0 {
			t.Errorf("serve wrote %d files through the refused link %s", len(ents), link)
		}
	}
}

// Files someone prepared in the state dir are replaced, never written through: symlinks (to a file,
// dangling) become regular files, a world-readable credentials target does not stay readable.
func TestServeReplacesSymlinksInStateDir(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	elsewhere := filepath.Join(other, "collect")
	if err := os.WriteFile(elsewhere, []byte("untouched\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(other, "seed-here")
	for name, dest := range map[string]string{"credentials.json": elsewhere, "ca.pem": elsewhere, "seed": dangling} {
		if err := os.Symlink(dest, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "krb5.conf"), []byte("old"), 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "krb5.conf"), 0o666)

	r := startServe(t, "--state-dir", dir, "--seed", "9")
	if r.Ready == "" {
		t.Fatalf("serve exited %d: %s", r.Code, r.Stderr.String())
	}
	if !strings.Contains(r.Ready, " seed=9 ") {
		t.Errorf("ready line %q lacks seed=9", r.Ready)
	}
	if b, _ := os.ReadFile(elsewhere); string(b) != "untouched\n" {
		t.Errorf("serve wrote through a symlink into %s: %.60q", elsewhere, b)
	}
	if _, err := os.Lstat(dangling); err == nil {
		t.Errorf("serve created %s through a dangling symlink", dangling)
	}
	for name, want := range map[string]fs.FileMode{"credentials.json": 0o600, "seed": 0o600, "ca.pem": 0o644, "krb5.conf": 0o644} {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil || fi.Mode() != want {
			t.Errorf("%s: %v (%v), want a regular file %v", name, fi.Mode(), err, want)
		}
	}
	var creds map[string]string
	if b, _ := os.ReadFile(filepath.Join(dir, "credentials.json")); json.Unmarshal(b, &creds) != nil || len(creds["Administrator"]) < 12 {
		t.Errorf("credentials.json: %.80q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "seed")); string(b) != "9\n" {
		t.Errorf("seed file %q, want \"9\\n\"", b)
	}
	if code := r.Stop(); code != 0 {
		t.Errorf("serve exit %d after SIGTERM: %s", code, r.Stderr.String())
	}
}

var readyLine = regexp.MustCompile(`^ready ldap=127\.0\.0\.1:\d+ ldaps=127\.0\.0\.1:\d+ kdc=127\.0\.0\.1:\d+ state-dir=(\S+) seed=(\d+) domain=contoso\.com dc=DC1` +
	` ldap\.DC1=127\.0\.0\.1:\d+ ldaps\.DC1=127\.0\.0\.1:\d+ kdc\.DC1=127\.0\.0\.1:\d+$`)

// Without --seed, serve draws its seed: not 1, different each run (and so are the passwords),
// printed on the ready line in its usual place and written to STATE/seed for replay.
func TestServeDefaultSeedIsRandom(t *testing.T) {
	var seeds, admins []string
	for i := 0; i < 2; i++ {
		dir := filepath.Join(t.TempDir(), "state") // serve creates it
		r := startServe(t, "--state-dir", dir)
		m := readyLine.FindStringSubmatch(r.Ready)
		if m == nil || m[1] != dir {
			t.Fatalf("ready line %q (exit %d, %s): want the contract's fields in order, state-dir=%s", r.Ready, r.Code, r.Stderr.String(), dir)
		}
		seed := m[2]
		if seed == "1" {
			t.Errorf("default seed is 1")
		}
		fi, err := os.Lstat(filepath.Join(dir, "seed"))
		b, _ := os.ReadFile(filepath.Join(dir, "seed"))
		if err != nil || fi.Mode() != 0o600 || string(b) != seed+"\n" {
			t.Errorf("STATE/seed: %q mode %v (%v), want %q and -rw-------", b, fi.Mode(), err, seed+"\n")
		}
		if fi, err := os.Lstat(dir); err != nil || fi.Mode() != fs.ModeDir|0o700 {
			t.Errorf("state dir created as %v (%v), want drwx------", fi.Mode(), err)
		}
		var creds map[string]string
		b, _ = os.ReadFile(filepath.Join(dir, "credentials.json"))
		json.Unmarshal(b, &creds)
		seeds, admins = append(seeds, seed), append(admins, creds["Administrator"])
		r.Stop()
	}
	if seeds[0] == seeds[1] || admins[0] == admins[1] || admins[0] == "" {
		t.Errorf("two serves without --seed: seeds %v, Administrator passwords equal: %v", seeds, admins[0] == admins[1])
	}
}
