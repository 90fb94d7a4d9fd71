package migrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The journal's lock: one writer at a time. Apply, Resume and Rollback (and CreateJournal) take
// it before they read or write the journal and hold it until they return; OpenJournal, which only
// reads, does not. The lock is an flock(2) LOCK_EX|LOCK_NB on JOURNAL.lock, a file next to the
// journal that names its holder (pid, command, since when) as one JSON line. A second writer
// fails at once with a *LockedError naming the holder; nothing waits. The kernel drops an flock
// when the process that holds it ends, killed or not, so a lock file left by a crash holds
// nothing and the next writer takes it over. The holder removes the file when it releases the lock.
//
// A program that must hold the journal across more than one engine call (gmsasim migrate holds
// it while it loads and saves the simulated world around the run) takes it with LockJournal; the
// engine's runs in that process then use that lock, one run at a time, instead of taking their own.

// ErrJournalLocked: another writer holds the journal's lock (errors.Is; the error is a *LockedError).
var ErrJournalLocked = errors.New("journal locked")

// LockHolder is what a lock file says about the process that holds the lock.
type LockHolder struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	Since   string `json:"since"` // RFC 3339, UTC, wall-clock
}

// LockedError is a journal whose lock another writer holds.
type LockedError struct {
	Journal string
	Holder  LockHolder // zero when the lock file does not name its holder (yet)
	// Here: the holder is this process (an engine run of it, or LockJournal called twice).
	Here bool
}

func (e *LockedError) Error() string {
	who := "another process (its lock file " + lockPath(e.Journal) + " does not name it yet)"
	if e.Holder.PID != 0 {
		who = fmt.Sprintf("pid %d (%s, since %s)", e.Holder.PID, e.Holder.Command, e.Holder.Since)
	}
	fix := "another apply, resume or rollback is writing it: wait until it ends (the lock goes with the process, even a killed one) and run again"
	if e.Here {
		fix = "this process already writes it (one run at a time per journal)"
	}
	return fmt.Sprintf("journal %s is locked by %s; %s", e.Journal, who, fix)
}

func (e *LockedError) Unwrap() []error { return []error{ErrJournal, ErrJournalLocked} }

// JournalLock is a held journal lock. Release it when done; the process ending releases it too.
type JournalLock struct {
	journal string
	path    string // the lock file
	key     string // absolute lock file path: the process-wide table's key
	f       *os.File
	holder  LockHolder
	inUse   bool // an engine run (or CreateJournal's journal) writes under it; guarded by held
	owned   bool // taken by the engine for one run; released when the run's journal is closed
}

// held is the journal locks this process holds. flock excludes open files, not processes: a
// second open of the lock file in this process would conflict with the first, so the engine looks
// here before taking a lock of its own.
var held = struct {
	sync.Mutex
	m map[string]*JournalLock
}{m: map[string]*JournalLock{}}

func lockPath(journal string) string { return journal + ".lock" }

// LockJournal takes the journal's lock for this process, or fails at once with a *LockedError
// naming the holder. command says who holds it (e.g. "gmsasim migrate apply"); empty: the program's
// name. Until Release, the engine's runs in this process on this journal use this lock.
func LockJournal(journal, command string) (*JournalLock, error) {
	if journal == "" {
		return nil, fmt.Errorf("%w: no journal file given", ErrJournal)
	}
	if command == "" {
		command = filepath.Base(os.Args[0])
	}
	path := lockPath(journal)
	key, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%w: lock %s: %v", ErrJournal, path, err)
	}
	held.Lock()
	l := held.m[key]
	held.Unlock()
	if l != nil {
		return nil, &LockedError{Journal: journal, Holder: l.holder, Here: true}
	}
	// A holder removes the file as it releases the lock: a file opened just before that is no
	// longer the lock file once flock succeeds, so take the one now at the path. Bounded: each
	// round means another writer took and released the lock meanwhile.
	for range 16 {
		// No-follow: the holder's line is written into the file, so a symlink someone left at the
		// lock's path must not lead that write (and its truncation) to another file.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|openNoFollow, 0o600)
		if err != nil {
			if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
				return nil, fmt.Errorf("%w: lock %s is a symlink; refusing to write through it (remove it and run again)", ErrJournal, path)
			}
			return nil, fmt.Errorf("%w: lock %s: %v", ErrJournal, path, err)
		}
		if err := flockExclusive(f); err != nil {
			h := readHolder(f)
			f.Close()
			if errors.Is(err, errWouldBlock) {
				return nil, &LockedError{Journal: journal, Holder: h, Here: h.PID == os.Getpid()}
			}
			return nil, fmt.Errorf("%w: lock %s: %v", ErrJournal, path, err)
		}
		if !isFileAt(f, path) {
			f.Close()
			continue
		}
		since := time.Now().UTC().Format(time.RFC3339) // wallclock: the holder's start, for an operator comparing with ps(1)
		h := LockHolder{PID: os.Getpid(), Command: command, Since: since}
		b, _ := json.Marshal(h)
		// Best effort: the flock is the lock; this line only names its holder.
		_ = f.Truncate(0)
		_, _ = f.WriteAt(append(b, '\n'), 0)
		l := &JournalLock{journal: journal, path: path, key: key, f: f, holder: h}
		held.Lock()
		held.m[key] = l
		held.Unlock()
		return l, nil
	}
	return nil, fmt.Errorf("%w: lock %s: the lock file was replaced 16 times while taking it; run again", ErrJournal, path)
}

// Holder is what the lock file says about this lock's holder.
func (l *JournalLock) Holder() LockHolder { return l.holder }

// Release gives the lock up and removes the lock file. Releasing twice does nothing.
func (l *JournalLock) Release() error {
	held.Lock()
	if held.m[l.key] != l {
		held.Unlock()
		return nil
	}
	delete(held.m, l.key)
	held.Unlock()
	// Remove while still holding the flock, so that whoever opened this file meanwhile sees it is
	// gone once its flock succeeds, and takes a new one.
	if isFileAt(l.f, l.path) {
		os.Remove(l.path)
	}
	return l.f.Close()
}

// holdJournal is the lock for one engine operation on journal: the process's own (LockJournal),
// lent to one run at a time, or else a lock taken for this run alone.
func holdJournal(journal, op string) (*JournalLock, error) {
	if journal == "" {
		return nil, fmt.Errorf("%w: no journal file given", ErrJournal)
	}
	key, err := filepath.Abs(lockPath(journal))
	if err != nil {
		return nil, fmt.Errorf("%w: lock %s: %v", ErrJournal, lockPath(journal), err)
	}
	held.Lock()
	if l := held.m[key]; l != nil {
		defer held.Unlock()
		if l.inUse {
			return nil, &LockedError{Journal: journal, Holder: l.holder, Here: true}
		}
		l.inUse = true
		return l, nil
	}
	held.Unlock()
	l, err := LockJournal(journal, filepath.Base(os.Args[0])+" (migrate "+op+")")
	if err != nil {
		return nil, err
	}
	held.Lock()
	l.inUse, l.owned = true, true
	held.Unlock()
	return l, nil
}

// unhold ends one engine operation's use of the lock.
func (l *JournalLock) unhold() {
	held.Lock()
	l.inUse = false
	owned := l.owned
	held.Unlock()
	if owned {
		l.Release()
	}
}

func readHolder(f *os.File) LockHolder {
	var h LockHolder
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err != nil {
		return LockHolder{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if json.Unmarshal([]byte(line), &h) != nil {
		return LockHolder{}
	}
	return h
}

// isFileAt reports whether f is the file now at path.
func isFileAt(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}
