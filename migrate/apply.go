package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// CrashPoint is where Options.Interrupt may stop a run.
type CrashPoint string

// Crash points around each step.
const (
	BeforeStep CrashPoint = "before" // the intent is journaled, nothing done yet
	AfterStep  CrashPoint = "after"  // the step's effect is in place, its result not journaled
)

// Options control one Apply, Resume or Rollback.
type Options struct {
	Journal string // the journal file the operator names
	// Now stamps journal records; nil leaves them unstamped (the engine has no clock).
	Now func() time.Time
	// Interrupt, when it returns true, stops the run at that point as a crash would: nothing
	// more is written. The run returns ErrInterrupted. Used to inject crashes.
	Interrupt func(step string, at CrashPoint) bool
	// Progress receives one line per step as it runs.
	Progress io.Writer
}

// Result is what one run did.
type Result struct {
	Ran      []string `json:"ran"`               // steps executed by this run
	Skipped  []string `json:"skipped,omitempty"` // completed by an earlier run (journal)
	Warnings []string `json:"warnings,omitempty"`
}

// Apply runs plan from the start with a new journal. pre must be a passing preflight report of
// the same estate: Apply refuses to start otherwise.
func (e *Engine) Apply(ctx context.Context, plan *Plan, pre *Report, opt Options) (*Result, error) {
	if pre == nil {
		return nil, fmt.Errorf("%w: no preflight report: run Preflight first", ErrPreflight)
	}
	if b := pre.Blockers(); len(b) > 0 {
		var ids []string
		for _, c := range b {
			ids = append(ids, c.ID+hostSuffix(c.Host)+": "+c.Detail+" (fix: "+c.Fix+")")
		}
		return nil, fmt.Errorf("%w: %d blocker(s): %s", ErrPreflight, len(b), strings.Join(ids, "; "))
	}
	j, err := createJournal(opt.Journal, plan, "apply")
	if err != nil {
		return nil, err
	}
	defer j.Close()
	return e.run(ctx, j, opt)
}

// Resume continues the run recorded in the journal: completed steps are skipped, a step with
// only an intent (or a failure) runs again (steps are idempotent).
func (e *Engine) Resume(ctx context.Context, opt Options) (*Result, error) {
	j, err := openJournalForUpdate(opt.Journal, "resume")
	if err != nil {
		return nil, err
	}
	defer j.Close()
	if j.RolledBack() {
		return nil, fmt.Errorf("%w: %s was rolled back; to convert again take a new inventory and plan with a new journal", ErrJournal, opt.Journal)
	}
	return e.run(ctx, j, opt)
}

func hostSuffix(h string) string {
	if h == "" {
		return ""
	}
	return "@" + h
}

// runner is the state of one run.
type runner struct {
	e   *Engine
	j   *Journal
	opt Options
	d   *dirConn
	res *Result
}

func newRunner(e *Engine, j *Journal, opt Options) *runner {
	r := &runner{e: e, j: j, opt: opt, res: &Result{}}
	if j.Torn > 0 {
		r.progress("journal: cut off a torn last line (%d bytes): a record a crash interrupted before it was written", j.Torn)
	}
	return r
}

func (r *runner) dir() (*dirConn, error) {
	if r.d == nil {
		d, err := r.e.connect()
		if err != nil {
			return nil, err
		}
		r.d = d
	}
	return r.d, nil
}

func (r *runner) close() {
	if r.d != nil {
		r.d.Close()
	}
}

func (r *runner) stamp() string {
	if r.opt.Now == nil {
		return ""
	}
	return r.opt.Now().UTC().Format(time.RFC3339)
}

func (r *runner) progress(format string, args ...any) {
	if r.opt.Progress != nil {
		fmt.Fprintf(r.opt.Progress, format+"\n", args...)
	}
}

func (r *runner) interrupted(step string, at CrashPoint) bool {
	return r.opt.Interrupt != nil && r.opt.Interrupt(step, at)
}

// do runs one step under the journal: intent, effect, result.
func (r *runner) do(ctx context.Context, n, total int, s Step, exec func() (map[string]string, error)) error {
	if r.j.Done(s.ID) {
		r.res.Skipped = append(r.res.Skipped, s.ID)
		r.progress("[%2d/%d] %-50s already done", n, total, s.ID)
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.j.append(Record{Step: s.ID, Phase: PhaseIntent, At: r.stamp(), Detail: s.Description}); err != nil {
		return err
	}
	if r.interrupted(s.ID, BeforeStep) {
		return fmt.Errorf("%w before %s", ErrInterrupted, s.ID)
	}
	data, err := exec()
	if err != nil {
		var se *StepError
		if !errors.As(err, &se) {
			err = &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Err: err, Fix: "fix the cause and run resume"}
		}
		if jerr := r.j.append(Record{Step: s.ID, Phase: PhaseFailed, At: r.stamp(), Detail: err.Error()}); jerr != nil {
			return errors.Join(err, jerr)
		}
		r.progress("[%2d/%d] %-50s FAILED: %v", n, total, s.ID, err)
		return err
	}
	if r.interrupted(s.ID, AfterStep) {
		return fmt.Errorf("%w after %s", ErrInterrupted, s.ID)
	}
	if err := r.j.append(Record{Step: s.ID, Phase: PhaseDone, At: r.stamp(), Data: data}); err != nil {
		return err
	}
	r.res.Ran = append(r.res.Ran, s.ID)
	note := ""
	if data["note"] != "" {
		note = " (" + data["note"] + ")"
	}
	r.progress("[%2d/%d] %-50s done%s", n, total, s.ID, note)
	return nil
}

func (e *Engine) run(ctx context.Context, j *Journal, opt Options) (*Result, error) {
	r := newRunner(e, j, opt)
	defer r.close()
	steps := j.Plan.Steps
	for i, s := range steps {
		for _, dep := range s.DependsOn {
			if !j.Done(dep) {
				return r.res, &StepError{Step: s.ID, Host: s.Host, Object: dep, Expected: "dependency " + dep + " complete",
					Got: "not complete", Fix: "run resume; the plan's order was changed"}
			}
		}
		s := s
		if err := r.do(ctx, i+1, len(steps), s, func() (map[string]string, error) { return r.exec(ctx, s) }); err != nil {
			return r.res, err
		}
	}
	return r.res, nil
}

// sortedData renders a record's data for messages.
func sortedData(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}
