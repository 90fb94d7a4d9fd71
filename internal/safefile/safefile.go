package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes data to path, replacing whatever is there, and leaves a regular file with
// mode perm (exactly: the umask does not apply, so the mode never depends on the caller's
// environment). It never opens path itself: a symlink at path is replaced, not followed. See the
// package comment.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm.Perm())
}

// Rewrite replaces the contents of the existing regular file at path with data, keeping the
// file's permission bits. It refuses a symlink (rewrite the file it points to instead) and
// anything that is not a regular file. For tools that update a user's own file in place, such as
// `gmsasim run --rewrite`.
func Rewrite(path string, data []byte) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		dest, _ := os.Readlink(path)
		return fmt.Errorf("refusing to rewrite %s: it is a symlink (to %s); name the file it points to instead", path, dest)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("refusing to rewrite %s: it is not a regular file (%s)", path, fi.Mode().Type())
	}
	return write(path, data, fi.Mode().Perm())
}

func write(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("write %s: the path names a directory, not a file", path)
	}
	if dir == "" {
		dir = "."
	}
	// CreateTemp opens a fresh random name with O_CREATE|O_EXCL and mode 0600: it never reuses a
	// file or follows a link someone left behind, and nobody else can read it while it fills.
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: set mode %v: %w", path, perm, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err // the temporary name means nothing to the reader
		}
		return fmt.Errorf("write %s: replace it: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable. Best effort: some file systems refuse fsync on a directory,
// and the file's contents are already synced either way.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// ErrUnsafeDir is matched (errors.Is) by every *UnsafeDirError.
var ErrUnsafeDir = errors.New("unsafe directory")

// UnsafeDirError is PrepareDir's refusal: which directory, why, and what to do instead.
type UnsafeDirError struct {
	Path   string
	Reason string // "it is a symlink (to /elsewhere)"
	Fix    string // "use a directory you own, for example one from mktemp -d"
}

func (e *UnsafeDirError) Error() string {
	return fmt.Sprintf("refusing to keep files in %s: %s; %s", e.Path, e.Reason, e.Fix)
}

func (e *UnsafeDirError) Is(target error) bool { return target == ErrUnsafeDir }

// PrepareDir makes path a directory only the current user can write to: it creates it (and any
// missing parents) with mode 0700, or, if it exists, checks it and returns an *UnsafeDirError when
// it is a symlink, not a directory, owned by another user, or writable by group or others.
func PrepareDir(path string) error {
	// Clean drops a trailing slash, which would make Lstat follow a symlink to a directory.
	path = filepath.Clean(path)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
		// Mkdir, not MkdirAll: if someone creates path between the Lstat and here, we must not take
		// it as ours unchecked; EEXIST falls through to the checks.
		if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", path, err)
		}
	}
	return CheckDir(path)
}

// CheckDir is PrepareDir's check of an existing directory, without creating it.
func CheckDir(path string) error {
	path = filepath.Clean(path)
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	fix := "use a directory you own that only you can write to (for example D=$(mktemp -d))"
	refuse := func(reason string) error { return &UnsafeDirError{Path: path, Reason: reason, Fix: fix} }
	if fi.Mode()&fs.ModeSymlink != 0 {
		dest, _ := os.Readlink(path)
		return refuse(fmt.Sprintf("it is a symlink (to %s), and whoever controls the link decides where the files go", dest))
	}
	if !fi.IsDir() {
		return refuse(fmt.Sprintf("it is not a directory (%s)", typeName(fi.Mode())))
	}
	if uid, ok := ownerOf(fi); ok && uid != os.Getuid() {
		return refuse(fmt.Sprintf("it is owned by uid %d, not by this user (uid %d), who can read and replace the files in it", uid, os.Getuid()))
	}
	if m := fi.Mode().Perm(); m&0o022 != 0 {
		reason := fmt.Sprintf("it is writable by group or others (mode %04o), who could replace the files in it", m)
		if fi.Mode()&fs.ModeSticky != 0 {
			// /tmp and the like: shared by design, so chmod is not the fix.
			return refuse(reason + ": a shared directory (sticky bit) is no place for secrets")
		}
		fix = fmt.Sprintf("%s, or, if nobody else should write to it, chmod go-w %s", fix, path)
		return refuse(reason)
	}
	return nil
}

func typeName(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}
