package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// trap puts a symlink at dir/name pointing to a file elsewhere holding "untouched"; check verifies
// afterwards that the elsewhere file is unchanged and dir/name is a regular file with mode want.
func trap(t *testing.T, dir, name string) (check func(want fs.FileMode) []byte) {
	t.Helper()
	elsewhere := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(elsewhere, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.Symlink(elsewhere, p); err != nil {
		t.Fatal(err)
	}
	return func(want fs.FileMode) []byte {
		t.Helper()
		if b, _ := os.ReadFile(elsewhere); string(b) != "untouched" {
			t.Errorf("%s was written through its symlink: %s now holds %.40q", name, elsewhere, b)
		}
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode() != want {
			t.Errorf("%s: %v (%v), want a regular file %v", name, fi.Mode(), err, want)
		}
		b, _ := os.ReadFile(p)
		return b
	}
}

// ldif export --out replaces a symlink and a world-readable file with a 0600 file: the replica
// holds the KDS root key.
func TestLDIFExportOutIsPrivate(t *testing.T) {
	dir := t.TempDir()
	check := trap(t, dir, "link.ldif")
	loose := filepath.Join(dir, "loose.ldif")
	if err := os.WriteFile(loose, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(loose, 0o644)
	for _, out := range []string{filepath.Join(dir, "link.ldif"), loose} {
		var errb bytes.Buffer
		if code := run([]string{"ldif", "export", "--seed", "4", "--out", out}, &bytes.Buffer{}, &errb); code != 0 {
			t.Fatalf("ldif export --out %s: exit %d: %s", out, code, errb.String())
		}
	}
	if b := check(0o600); !bytes.Contains(b, []byte("dn: CN=alice,CN=Users,DC=contoso,DC=com\n")) {
		t.Errorf("link.ldif is not the export: %.60q", b)
	}
	if fi, err := os.Lstat(loose); err != nil || fi.Mode() != 0o600 {
		t.Errorf("loose.ldif: %v (%v), want -rw-------", fi.Mode(), err)
	}
}

// keytab --out, against the default domain over LDAPS in-process, as WEB1$: a symlink at the
// output is replaced by a 0600 keytab.
func TestKeytabOutReplacesSymlink(t *testing.T) {
	ds, dir := startTestDomain(t, serveOptions{LDAPS: "127.0.0.1:0", Seed: 6, SchemaVersion: 88})
	check := trap(t, dir, "itfarm1.keytab")
	var out, errb bytes.Buffer
	code := run([]string{"keytab", "--ldap", "ldaps://" + ds.Addrs()[0].LDAPS, "--ca", filepath.Join(dir, "ca.pem"),
		"--bind", "WEB1$@contoso.com", "--password", ds.Pop.Passwords["WEB1$"], "--account", "ITFarm1$",
		"--out", filepath.Join(dir, "itfarm1.keytab")}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "keys for ITFarm1$") {
		t.Fatalf("keytab: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if b := check(0o600); len(b) < 2 || b[0] != 0x05 || b[1] != 0x02 {
		t.Errorf("the keytab does not start with the MIT version 0x0502: %x", b[:min(len(b), 4)])
	}
}

// run's outputs: --junit, --trace and --report's index.html replace a symlink with a 0644 file;
// --rewrite keeps the scenario file's mode and refuses a scenario file that is a symlink.
func TestRunOutputsAndRewrite(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(libDir, "gmsa-forgotten-dollar.scn"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(src), "SamAccountName    : Host1$", "SamAccountName    : Host1", 1)
	dir := t.TempDir()
	scn := filepath.Join(dir, "a.scn")
	if err := os.WriteFile(scn, []byte(broken), 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(scn, 0o640)
	if err := os.Mkdir(filepath.Join(dir, "rep"), 0o755); err != nil {
		t.Fatal(err)
	}
	checks := []func(fs.FileMode) []byte{trap(t, dir, "j.xml"), trap(t, dir, "trace"), trap(t, filepath.Join(dir, "rep"), "index.html")}
	var out, errb bytes.Buffer
	args := []string{scn, "--rewrite", "--junit", filepath.Join(dir, "j.xml"), "--trace", filepath.Join(dir, "trace"), "--report", filepath.Join(dir, "rep")}
	if code := runRun(args, &out, &errb); code != 0 || !strings.Contains(out.String(), "rewrote "+scn) {
		t.Fatalf("run --rewrite: exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, check := range checks {
		if b := check(0o644); len(b) == 0 {
			t.Error("empty output")
		}
	}
	fi, err := os.Lstat(scn)
	b, _ := os.ReadFile(scn)
	if err != nil || fi.Mode() != 0o640 || string(b) != string(src) {
		t.Errorf("rewritten scenario: mode %v (%v), equal to the library's: %v; want -rw-r----- and equal", fi.Mode(), err, string(b) == string(src))
	}

	// A scenario file that is a symlink: --rewrite refuses, the file it points to is unchanged.
	if err := os.WriteFile(scn, []byte(broken), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.scn")
	if err := os.Symlink(scn, link); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := runRun([]string{link, "--rewrite"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "refusing to rewrite "+link) {
		t.Errorf("run --rewrite of a symlink: exit %d, stderr %q", code, errb.String())
	}
	if b, _ := os.ReadFile(scn); string(b) != broken {
		t.Error("run --rewrite wrote through a symlink")
	}
}
