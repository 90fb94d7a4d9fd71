package migrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/internal/safefile"
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

// Record is one journal entry: one line of the journal file.
type Record struct {
	Seq    int               `json:"seq"` // 1-based; record n is line n+1
	Step   string            `json:"step"`
	Phase  Phase             `json:"phase"`
	At     string            `json:"at,omitempty"` // RFC 3339, from Options.Now
	Detail string            `json:"detail,omitempty"`
	Data   map[string]string `json:"data,omitempty"`
	// Prev is the previous record's Hash; for record 1, the plan's digest (the header's planHash).
	Prev string `json:"prev"`
	// Hash is the SHA-256 (hex) of this record's line as written, without its hash member: the
	// line's bytes up to `,"hash":"`, then `}`. The writer puts it last.
	Hash string `json:"hash,omitempty"`
}

// JournalFormat is the journal file's format version: 2 is JSON lines with a hash chain; 1 was
// one JSON document rewritten at every record.
const JournalFormat = 2

// maxJournalBytes bounds what OpenJournal reads: a plan of a few hundred steps and their records
// is well under a megabyte.
const maxJournalBytes = 64 << 20

// journalHeader is line 1 of the journal.
type journalHeader struct {
	Format   int    `json:"format"`
	PlanHash string `json:"planHash"`
	Plan     *Plan  `json:"plan"`
}

// Journal is the apply log: the plan it runs and every step's intent and result, as JSON lines
// (see doc.go): a header with the plan, then one record per line, each chained to the line
// before it by its hash. Records are appended and fsync'd one at a time.
type Journal struct {
	Format   int
	PlanHash string
	Plan     *Plan
	Records  []Record
	// Torn is the length of a final line without a newline that reading ignored: a record a crash
	// interrupted while it was being written (0: none). Writing cuts it off first.
	Torn int

	path  string
	head  string       // the last record's Hash (the plan's digest before any): the next record's Prev
	size  int64        // bytes of complete lines
	check chainCheck   // what the next record may be
	f     *os.File     // open for appending; nil when read-only
	lock  *JournalLock // nil when read-only
	err   error        // a failed write: the file's end is unknown, nothing more is written
}

// JournalError is a journal that cannot be used: which file, which record (1-based; record n
// is line n+1, line 1 the header), what is wrong, and what to do.
type JournalError struct {
	Path    string
	Record  int // 0: the header or the whole file
	Problem string
	Fix     string
}

func (e *JournalError) Error() string {
	where := ""
	if e.Record > 0 {
		where = fmt.Sprintf(" record %d (line %d):", e.Record, e.Record+1)
	}
	s := fmt.Sprintf("journal %s:%s %s", e.Path, where, e.Problem)
	if e.Fix != "" {
		s += "; to fix: " + e.Fix
	}
	return s
}

func (e *JournalError) Unwrap() error { return ErrJournal }

// fixDamaged is what to do with a journal that fails verification.
const fixDamaged = "restore the journal from a copy; without one, check the hosts and the directory by hand and " +
	"start again with a new plan and a new journal (steps are idempotent, and an existing key-set export is verified, never overwritten)"

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

const hashMember = `,"hash":"`

// encodeRecord is r's line (without the newline), its Hash filled in.
func encodeRecord(r *Record) ([]byte, error) {
	r.Hash = ""
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	r.Hash = sha256Hex(b)
	return append(append(append(b[:len(b)-1], hashMember...), r.Hash...), '"', '}'), nil
}

// recordHash checks that line ends with its hash member and returns the hash the rest of the
// line has, and the one the line claims.
func recordHash(line []byte) (got, claimed string, ok bool) {
	i := bytes.LastIndex(line, []byte(hashMember))
	if i < 0 || len(line) != i+len(hashMember)+64+2 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return "", "", false
	}
	body := append(bytes.Clone(line[:i]), '}')
	return sha256Hex(body), string(line[i+len(hashMember) : len(line)-2]), true
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// CreateJournal starts a journal for plan at path, locked (see LockJournal) until Close. It
// refuses an existing file: that is a run to resume (or a journal of another run, which must not
// be lost).
func CreateJournal(path string, p *Plan) (*Journal, error) {
	return createJournal(path, p, "create")
}

func createJournal(path string, p *Plan, op string) (*Journal, error) {
	lock, err := holdJournal(path, op)
	if err != nil {
		return nil, err
	}
	j, err := writeHeader(path, p)
	if err != nil {
		lock.unhold()
		return nil, err
	}
	j.lock = lock
	return j, nil
}

func writeHeader(path string, p *Plan) (*Journal, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%w: %s exists: resume it, or name a new journal file", ErrJournal, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s: %v", ErrJournal, path, err)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrJournal, path, err)
	}
	h := journalHeader{Format: JournalFormat, PlanHash: p.Hash(), Plan: p}
	line, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("%w: encode: %v", ErrJournal, err)
	}
	if err := safefile.WriteFile(path, append(line, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|openNoFollow, 0) // a symlink put in its place is not written through
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	j := &Journal{Format: h.Format, PlanHash: h.PlanHash, Plan: p, path: path, head: h.PlanHash,
		size: int64(len(line) + 1), f: f}
	j.check = newChainCheck(p)
	return j, nil
}

// OpenJournal reads a journal and verifies it (header, plan digest, hash chain, and that every
// record is one the engine could have written at that point). It does not lock: the journal it
// returns is read-only, and may be a moment old if a writer is at work.
func OpenJournal(path string) (*Journal, error) {
	return readJournal(path)
}

// openJournalForUpdate locks the journal, reads it, and cuts off a torn final line.
func openJournalForUpdate(path, op string) (*Journal, error) {
	lock, err := holdJournal(path, op)
	if err != nil {
		return nil, err
	}
	j, err := readJournal(path)
	if err == nil {
		j.f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|openNoFollow, 0) // a symlink put in its place is not written through
		if err == nil && j.Torn > 0 {
			if err = j.f.Truncate(j.size); err == nil {
				err = j.f.Sync()
			}
		}
		if err != nil {
			if j.f != nil {
				j.f.Close()
			}
			err = fmt.Errorf("%w: %s: %v", ErrJournal, path, err)
		}
	}
	if err != nil {
		lock.unhold()
		return nil, err
	}
	j.lock = lock
	return j, nil
}

// Close ends writing: it closes the file and releases the lock. A read-only journal has neither.
func (j *Journal) Close() error {
	var err error
	if j.f != nil {
		err = j.f.Close()
		j.f = nil
	}
	if j.lock != nil {
		j.lock.unhold()
		j.lock = nil
	}
	return err
}

func readJournal(path string) (*Journal, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrJournal, path, err)
	}
	if fi.Size() > maxJournalBytes {
		return nil, &JournalError{Path: path, Problem: fmt.Sprintf("%d bytes, more than a journal can be (%d)", fi.Size(), maxJournalBytes),
			Fix: "name the journal file, not another file"}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrJournal, path, err)
	}
	j := &Journal{path: path}
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		// Each record is written as one line with its newline, then fsync'd: a final line
		// without one is a write a crash interrupted, never acknowledged, so never acted on.
		j.Torn = len(b) - (i + 1)
		b = b[:i+1]
	}
	if len(b) == 0 {
		return nil, &JournalError{Path: path, Problem: "no complete header line (the file is empty or torn)", Fix: fixDamaged}
	}
	if bytes.HasPrefix(b, []byte("{\n")) {
		var old struct {
			Format int `json:"format"`
		}
		if json.Unmarshal(b, &old) == nil && old.Format == 1 {
			return nil, &JournalError{Path: path, Problem: "a format 1 journal (one JSON document, no hash chain), from an older engine",
				Fix: "finish or roll back that run with the engine that started it, or start a new journal"}
		}
	}
	lines := bytes.Split(b[:len(b)-1], []byte("\n"))
	if err := j.readHeader(lines[0]); err != nil {
		return nil, err
	}
	j.size = int64(len(lines[0]) + 1)
	for i, line := range lines[1:] {
		n := i + 1
		got, claimed, ok := recordHash(line)
		if !ok {
			return nil, &JournalError{Path: path, Record: n, Problem: `the line does not end with its "hash" member (a record the engine did not write)`, Fix: fixDamaged}
		}
		if got != claimed {
			return nil, &JournalError{Path: path, Record: n, Problem: fmt.Sprintf("the record was edited: it hashes to %s, its hash says %s", short(got), short(claimed)), Fix: fixDamaged}
		}
		var r Record
		if problem := decodeStrict(line, &r); problem != "" {
			return nil, &JournalError{Path: path, Record: n, Problem: "not a journal record: " + problem, Fix: fixDamaged}
		}
		if r.Seq != n {
			return nil, &JournalError{Path: path, Record: n, Problem: fmt.Sprintf("seq is %d, want %d: a record before it was deleted or inserted, or records were moved", r.Seq, n), Fix: fixDamaged}
		}
		if r.Prev != j.head {
			before := fmt.Sprintf("record %d's hash is %s", n-1, short(j.head))
			if n == 1 {
				before = fmt.Sprintf("the plan's digest is %s (the records belong to another plan)", short(j.head))
			}
			return nil, &JournalError{Path: path, Record: n, Problem: fmt.Sprintf("prev is %q, but %s: records were deleted, inserted or reordered", short(r.Prev), before), Fix: fixDamaged}
		}
		if problem := j.check.next(j, r); problem != "" {
			return nil, &JournalError{Path: path, Record: n, Problem: problem, Fix: fixDamaged}
		}
		j.Records = append(j.Records, r)
		j.head = r.Hash
		j.size += int64(len(line) + 1)
	}
	return j, nil
}

func (j *Journal) readHeader(line []byte) error {
	var h journalHeader
	if problem := decodeStrict(line, &h); problem != "" {
		return &JournalError{Path: j.path, Problem: "line 1 is not a journal header: " + problem, Fix: "name the journal file, not another file"}
	}
	if h.Format != JournalFormat || h.Plan == nil {
		return &JournalError{Path: j.path, Problem: fmt.Sprintf("header says format %d (plan given: %t), want format %d with a plan", h.Format, h.Plan != nil, JournalFormat),
			Fix: "use the engine version that wrote it, or start a new journal"}
	}
	if got := h.Plan.Hash(); got != h.PlanHash {
		return &JournalError{Path: j.path, Problem: fmt.Sprintf("the plan was edited (its digest is %s, the header records %s)", short(got), short(h.PlanHash)),
			Fix: "start a new journal for the plan you mean to run"}
	}
	if err := h.Plan.validate(); err != nil {
		return &JournalError{Path: j.path, Problem: err.Error(), Fix: fixDamaged}
	}
	j.Format, j.PlanHash, j.Plan = h.Format, h.PlanHash, h.Plan
	j.head = h.PlanHash
	j.check = newChainCheck(h.Plan)
	return nil
}

// decodeStrict decodes one JSON value filling v, refusing unknown fields and trailing data.
func decodeStrict(line []byte, v any) string {
	d := json.NewDecoder(bytes.NewReader(line))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err.Error()
	}
	if d.More() {
		return "more than one JSON value on the line"
	}
	return ""
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
func (j *Journal) RolledBack() bool { return j.check.rollback != nil }

// append writes one record: one line, then fsync. The record is checked as a reader would check
// it, so the engine never writes a journal it would refuse to read.
func (j *Journal) append(r Record) error {
	if j.f == nil {
		return fmt.Errorf("%w: %s is open read-only (OpenJournal): the engine writes journals it opened itself", ErrJournal, j.path)
	}
	if j.err != nil {
		return fmt.Errorf("%w: %s: an earlier write failed (%v); nothing more is written: run resume", ErrJournal, j.path, j.err)
	}
	r.Seq, r.Prev = len(j.Records)+1, j.head
	check := j.check.clone()
	if problem := check.next(j, r); problem != "" {
		return fmt.Errorf("%w: %s: refusing to write record %d (%s %s): %s", ErrJournal, j.path, r.Seq, r.Step, r.Phase, problem)
	}
	line, err := encodeRecord(&r)
	if err != nil {
		return fmt.Errorf("%w: encode: %v", ErrJournal, err)
	}
	if _, err = j.f.Write(append(line, '\n')); err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		// Cut off what part of the line reached the file; if that fails, the file's end is
		// unknown, and a reader treats a torn last line as never written anyway.
		if terr := j.f.Truncate(j.size); terr != nil {
			err = errors.Join(err, terr)
		}
		j.err = err
		return fmt.Errorf("%w: write %s: %v", ErrJournal, j.path, err)
	}
	j.Records = append(j.Records, r)
	j.check = check
	j.head = r.Hash
	j.size += int64(len(line) + 1)
	return nil
}

// knownPhases lists the phases a record may have, for messages.
var knownPhases = map[Phase]bool{PhaseIntent: true, PhaseDone: true, PhaseFailed: true, PhaseObserved: true}

// chainCheck is what the next record may be: what the engine could have written after the
// records so far. It refuses unknown phases and steps, results of a step that is not running, a
// step started before every earlier step of the plan completed or after it completed itself, and
// apply records after a rollback began.
type chainCheck struct {
	plan     *Plan
	open     string          // the step with an intent and no result yet ("" none)
	rollback map[string]bool // rollback step ids, fixed when the first rollback record comes; nil before
}

func newChainCheck(p *Plan) chainCheck { return chainCheck{plan: p} }

func (c chainCheck) clone() chainCheck { return c } // rollback is never changed once set

// next checks r against j's records so far and advances; "" when r is acceptable, else why not.
func (c *chainCheck) next(j *Journal, r Record) string {
	if !knownPhases[r.Phase] {
		return fmt.Sprintf("unknown phase %q (want intent, observed, done or failed)", r.Phase)
	}
	if r.At != "" {
		if _, err := parseRFC3339(r.At); err != nil {
			return fmt.Sprintf("at %q is not an RFC 3339 time", r.At)
		}
	}
	var earlier []Step // plan steps that complete before this one starts
	if strings.HasPrefix(r.Step, rollbackPrefix) {
		if c.rollback == nil {
			ids := map[string]bool{}
			for _, s := range rollbackSteps(j) {
				ids[s.ID] = true
			}
			c.rollback = ids
		}
		if !c.rollback[r.Step] {
			return fmt.Sprintf("unknown rollback step %q: the records before it call for no such step", r.Step)
		}
	} else {
		i := slices.IndexFunc(c.plan.Steps, func(s Step) bool { return s.ID == r.Step })
		if i < 0 {
			return fmt.Sprintf("unknown step %q: the plan has no such step", r.Step)
		}
		if c.rollback != nil {
			return fmt.Sprintf("step %s after the rollback began (the engine refuses to resume a rolled-back journal)", r.Step)
		}
		earlier = c.plan.Steps[:i]
	}
	switch r.Phase {
	case PhaseIntent:
		if j.Done(r.Step) {
			return fmt.Sprintf("intent of step %s, which an earlier record completed (the engine never runs a completed step again)", r.Step)
		}
		// Apply and resume run the plan in order and stop at the first failure.
		for _, e := range earlier {
			if !j.Done(e.ID) {
				return fmt.Sprintf("intent of step %s before step %s, earlier in the plan, completed", r.Step, e.ID)
			}
		}
		c.open = r.Step
	case PhaseObserved, PhaseDone, PhaseFailed:
		if c.open != r.Step {
			running := "no step is running"
			if c.open != "" {
				running = "the running step is " + c.open
			}
			return fmt.Sprintf("%s record of step %s without its intent (%s): a forged or misplaced record", r.Phase, r.Step, running)
		}
		if r.Phase != PhaseObserved {
			c.open = ""
		}
	}
	return ""
}

func parseRFC3339(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }

// validate checks what the journal relies on in a plan: known step kinds, unique ids that are
// not rollback ids, and dependencies on earlier steps.
func (p *Plan) validate() error {
	seen := map[string]bool{}
	for i, s := range p.Steps {
		if _, ok := kindSymbol[s.Kind]; !ok {
			return fmt.Errorf("plan step %d (%s) has unknown kind %q", i+1, s.ID, s.Kind)
		}
		if s.ID == "" || seen[s.ID] || strings.HasPrefix(s.ID, rollbackPrefix) {
			return fmt.Errorf("plan step %d has id %q: empty, repeated or a rollback id", i+1, s.ID)
		}
		for _, d := range s.DependsOn {
			if !seen[d] {
				return fmt.Errorf("plan step %d (%s) depends on %q, which is not an earlier step", i+1, s.ID, d)
			}
		}
		seen[s.ID] = true
	}
	return nil
}
