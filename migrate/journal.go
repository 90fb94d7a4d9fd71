package migrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Phase is what a journal record says about a step.
type Phase string

// Phases. A step is complete when its last record is PhaseDone.
const (
	PhaseIntent Phase = "intent" // about to run; written (and fsync'd) before anything is done
	PhaseDone   Phase = "done"   // ran to completion; Data holds what later steps rely on
	PhaseFailed Phase = "failed" // failed; Detail says why; resume runs it again
	// PhaseObserved records state seen before a step changed it (a registry value's previous
	// data), written before the change so that rollback has it even after a crash.
	PhaseObserved Phase = "observed"
)

// Record is one journal entry.
type Record struct {
	Seq    int               `json:"seq"`
	Step   string            `json:"step"`
	Phase  Phase             `json:"phase"`
	At     string            `json:"at,omitempty"` // RFC 3339, from Options.Now
	Detail string            `json:"detail,omitempty"`
	Data   map[string]string `json:"data,omitempty"`
}

// JournalFormat is the journal file's format version.
const JournalFormat = 1

// Journal is the apply log: the plan it runs and every step's intent and result. The file is
// always a complete JSON document: each change writes a temporary file next to it, fsyncs it,
// renames it over the journal and fsyncs the directory, so a crash leaves the old or the new
// journal, never a torn one.
type Journal struct {
	Format   int      `json:"format"`
	PlanHash string   `json:"planHash"`
	Plan     *Plan    `json:"plan"`
	Records  []Record `json:"records"`
	path     string
}

// CreateJournal starts a journal for plan at path. It refuses an existing file: that is a run
// to resume (or a journal of another run, which must not be lost).
func CreateJournal(path string, p *Plan) (*Journal, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: no journal file given", ErrJournal)
	}
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%w: %s exists: resume it, or name a new journal file", ErrJournal, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s: %v", ErrJournal, path, err)
	}
	j := &Journal{Format: JournalFormat, PlanHash: p.Hash(), Plan: p, path: path}
	if err := j.save(); err != nil {
		return nil, err
	}
	return j, nil
}

// OpenJournal reads a journal and checks that its plan is intact.
func OpenJournal(path string) (*Journal, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrJournal, path, err)
	}
	j := &Journal{}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, fmt.Errorf("%w: %s is not a journal: %v", ErrJournal, path, err)
	}
	if j.Format != JournalFormat || j.Plan == nil {
		return nil, fmt.Errorf("%w: %s: format %d without a plan, want format %d", ErrJournal, path, j.Format, JournalFormat)
	}
	if h := j.Plan.Hash(); h != j.PlanHash {
		return nil, fmt.Errorf("%w: %s: the plan was edited (hash %s, recorded %s); start a new journal", ErrJournal, path, h[:12], j.PlanHash[:12])
	}
	for i, r := range j.Records {
		if r.Seq != i+1 {
			return nil, fmt.Errorf("%w: %s: record %d has seq %d", ErrJournal, path, i+1, r.Seq)
		}
	}
	j.path = path
	return j, nil
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Last returns the last record of step, or nil.
func (j *Journal) Last(step string) *Record {
	for i := len(j.Records) - 1; i >= 0; i-- {
		if j.Records[i].Step == step {
			return &j.Records[i]
		}
	}
	return nil
}

// Done reports whether step completed.
func (j *Journal) Done(step string) bool {
	r := j.Last(step)
	return r != nil && r.Phase == PhaseDone
}

// first returns the first record of step in phase, or nil.
func (j *Journal) first(step string, phase Phase) *Record {
	for i := range j.Records {
		if j.Records[i].Step == step && j.Records[i].Phase == phase {
			return &j.Records[i]
		}
	}
	return nil
}

// Touched reports whether step has any record (it may have had effects).
func (j *Journal) Touched(step string) bool { return j.Last(step) != nil }

// RolledBack reports whether a rollback started from this journal.
func (j *Journal) RolledBack() bool {
	for _, r := range j.Records {
		if strings.HasPrefix(r.Step, rollbackPrefix) {
			return true
		}
	}
	return false
}

func (j *Journal) append(r Record) error {
	r.Seq = len(j.Records) + 1
	j.Records = append(j.Records, r)
	if err := j.save(); err != nil {
		j.Records = j.Records[:len(j.Records)-1]
		return err
	}
	return nil
}

// save writes the journal atomically: temporary file, fsync, rename, fsync of the directory.
func (j *Journal) save() error {
	b, err := json.MarshalIndent(j, "", " ")
	if err != nil {
		return fmt.Errorf("%w: encode: %v", ErrJournal, err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(j.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(j.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrJournal, err)
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("%w: write %s: %v", ErrJournal, j.path, err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), j.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%w: replace %s: %v", ErrJournal, j.path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return nil
}
