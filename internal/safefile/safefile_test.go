package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mustStat returns the file's contents and mode (of the file itself, not a link's target).
func mustStat(t *testing.T, path string) (string, fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() {
		return "", fi.Mode()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), fi.Mode()
}

// noLeftovers fails if dir holds anything but the names given (a temp file left behind).
func noLeftovers(t *testing.T, dir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}

func TestWriteFileModes(t *testing.T) {
	dir := t.TempDir()
	for _, perm := range []fs.FileMode{0o600, 0o644, 0o640} {
		p := filepath.Join(dir, "f")
		if err := WriteFile(p, []byte("data "+perm.String()), perm); err != nil {
			t.Fatal(err)
		}
		if data, mode := mustStat(t, p); data != "data "+perm.String() || mode != perm {
			t.Errorf("WriteFile(%v): %q, mode %v", perm, data, mode)
		}
	}
	noLeftovers(t, dir, "f")
}

// A world-readable file already at the target (say a credentials.json someone prepared) does not
// keep its mode: the result is the mode asked for.
func TestWriteFileTightensAnExistingFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "credentials.json")
	if err := os.WriteFile(p, []byte("old"), 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o666) // past the umask
	if err := WriteFile(p, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, mode := mustStat(t, p); data != "secret" || mode != 0o600 {
		t.Errorf("after WriteFile over a 0666 file: %q, mode %v, want \"secret\", -rw-------", data, mode)
	}
}

// A symlink at the target is replaced by a regular file; the file it pointed to is untouched, and
// a dangling link does not create its target.
func TestWriteFileDoesNotFollowSymlinks(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	elsewhere := filepath.Join(other, "elsewhere")
	if err := os.WriteFile(elsewhere, []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(elsewhere, 0o644)
	dangling := filepath.Join(other, "not-yet")
	for name, dest := range map[string]string{"link": elsewhere, "dangling": dangling} {
		p := filepath.Join(dir, name)
		if err := os.Symlink(dest, p); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(p, []byte("secret"), 0o600); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if data, mode := mustStat(t, p); data != "secret" || mode != 0o600 {
			t.Errorf("%s: target is %q, mode %v; want a regular file \"secret\", -rw-------", name, data, mode)
		}
	}
	if data, mode := mustStat(t, elsewhere); data != "original" || mode != 0o644 {
		t.Errorf("the symlink's destination changed: %q, mode %v", data, mode)
	}
	if _, err := os.Lstat(dangling); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dangling symlink's destination was created: %v", err)
	}
	noLeftovers(t, dir, "dangling", "link")
}

// A failed write leaves the target as it was and no temporary file behind.
func TestWriteFileFailureLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(filepath.Join(dir, "sub"), []byte("x"), 0o600)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "sub")) {
		t.Fatalf("WriteFile over a directory: %v, want an error naming it", err)
	}
	noLeftovers(t, dir, "sub")
	if err := WriteFile(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600); err == nil {
		t.Fatal("WriteFile into a missing directory succeeded")
	}
}

func TestRewriteKeepsModeAndRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.scn")
	if err := os.WriteFile(p, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o640)
	if err := Rewrite(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if data, mode := mustStat(t, p); data != "new" || mode != 0o640 {
		t.Errorf("Rewrite: %q, mode %v; want \"new\", -rw-r-----", data, mode)
	}
	link := filepath.Join(dir, "b.scn")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	if err := Rewrite(link, []byte("via link")); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("Rewrite of a symlink: %v, want a refusal", err)
	}
	if data, _ := mustStat(t, p); data != "new" {
		t.Errorf("Rewrite through a symlink changed its destination: %q", data)
	}
	if err := Rewrite(filepath.Join(dir, "none.scn"), []byte("x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Rewrite of a missing file: %v, want ErrNotExist", err)
	}
}

func TestPrepareDirCreates0700(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a", "state")
	if err := PrepareDir(p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("PrepareDir made %v (%v), want a 0700 directory", fi.Mode(), err)
	}
	if err := PrepareDir(p); err != nil {
		t.Errorf("PrepareDir of the directory it made: %v", err)
	}
	if err := PrepareDir(p + "/"); err != nil {
		t.Errorf("PrepareDir with a trailing slash: %v", err)
	}
}

// Every refusal names the directory and the reason, matches ErrUnsafeDir, and changes nothing.
func TestPrepareDirRefuses(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, mode fs.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := mk("good", 0o700)
	link := filepath.Join(base, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Someone else's directory: chown one as root; otherwise / is root's.
	foreign := "/"
	if os.Getuid() == 0 {
		foreign = mk("foreign", 0o700)
		if err := os.Chown(foreign, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	const mkt = "(for example D=$(mktemp -d))"
	cases := []struct{ name, path, reason, fix string }{
		{"symlink to a good directory", link, "it is a symlink (to " + good + ")", mkt},
		{"symlink, trailing slash", link + "/", "it is a symlink", mkt},
		{"regular file", file, "it is not a directory (a regular file)", mkt},
		{"group-writable", mk("g", 0o770), "writable by group or others (mode 0770)", "chmod go-w " + filepath.Join(base, "g")},
		{"world-writable", mk("o", 0o777), "writable by group or others (mode 0777)", "chmod go-w " + filepath.Join(base, "o")},
		// Shared by design: no advice to chmod it.
		{"sticky and world-writable, like /tmp", mk("tmp", 0o777|fs.ModeSticky), "(mode 0777), who could replace the files in it: a shared directory", mkt},
		{"someone else's", foreign, "it is owned by uid ", mkt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := os.Lstat(c.path)
			err := PrepareDir(c.path)
			var ue *UnsafeDirError
			if !errors.Is(err, ErrUnsafeDir) || !errors.As(err, &ue) {
				t.Fatalf("PrepareDir(%s) = %v, want an *UnsafeDirError", c.path, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, filepath.Clean(c.path)) || !strings.Contains(msg, c.reason) || !strings.HasSuffix(msg, c.fix) {
				t.Errorf("PrepareDir(%s):\n  %s\nwant the path, %q and, at the end, %q", c.path, msg, c.reason, c.fix)
			}
			if after, _ := os.Lstat(c.path); after.Mode() != before.Mode() {
				t.Errorf("PrepareDir changed the refused %s from %v to %v", c.path, before.Mode(), after.Mode())
			}
		})
	}
	if data, mode := mustStat(t, file); data != "" || mode != 0o600 {
		t.Errorf("the regular file changed: %q %v", data, mode)
	}
}
