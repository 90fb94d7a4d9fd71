package migrate_test

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/migrate"
)

// TestCrashAtEveryStepResumes stops the apply before and after every step of the plan (as a
// killed process would: nothing more written), resumes from the journal, and checks that the end
// state equals an uninterrupted run's, that no completed step ran twice, that the key set was
// exported exactly once and is intact, and that sync change mode never ran without an export.
func TestCrashAtEveryStepResumes(t *testing.T) {
	ref := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	_, rep, plan := ref.prepare(t)
	_, err := ref.eng.Apply(ref.ctx, plan, rep, migrate.Options{Journal: ref.journal})
	mustf(t, err, "reference apply")
	want := ref.state(t)

	// make test checks every tenth step (and the last), -short every fifteenth; make test-long
	// (GMSASIM_TEST_LONG=1) every one.
	every := 10
	switch {
	case os.Getenv("GMSASIM_TEST_LONG") != "":
		every = 1
	case testing.Short():
		every = 15
	}
	for i, s := range plan.Steps {
		if i%every != 0 && i != len(plan.Steps)-1 {
			continue
		}
		for _, at := range []migrate.CrashPoint{migrate.BeforeStep, migrate.AfterStep} {
			t.Run(fmt.Sprintf("%02d-%s-%s", i+1, at, s.ID), func(t *testing.T) {
				m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
				_, rep, plan2 := m.prepare(t)
				if plan2.Hash() != plan.Hash() {
					t.Fatalf("plan differs between identical worlds")
				}
				_, err := m.eng.Apply(m.ctx, plan2, rep, migrate.Options{Journal: m.journal,
					Interrupt: func(step string, p migrate.CrashPoint) bool { return step == s.ID && p == at }})
				if !errors.Is(err, migrate.ErrInterrupted) {
					t.Fatalf("apply: %v, want ErrInterrupted", err)
				}
				before, err := migrate.OpenJournal(m.journal)
				mustf(t, err, "open journal")
				res, err := m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal})
				mustf(t, err, "resume")
				for _, id := range res.Ran {
					if before.Done(id) {
						t.Errorf("resume repeated completed step %s", id)
					}
				}
				if len(res.Ran)+len(res.Skipped) != len(plan.Steps) {
					t.Errorf("resume ran %d + skipped %d, want %d steps", len(res.Ran), len(res.Skipped), len(plan.Steps))
				}
				j, err := migrate.OpenJournal(m.journal)
				mustf(t, err, "reopen journal")
				done := map[string]int{}
				for _, r := range j.Records {
					if r.Phase == migrate.PhaseDone {
						done[r.Step]++
					}
				}
				for _, st := range plan.Steps {
					if done[st.ID] != 1 {
						t.Errorf("step %s completed %d times in the journal, want 1", st.ID, done[st.ID])
					}
				}
				if got := m.state(t); got != want {
					t.Errorf("end state after crash+resume:\n%s\nwant (uninterrupted):\n%s", got, want)
				}
				if m.sync.exports != 1 || m.sync.violation != "" {
					t.Errorf("key set exported %d times (want 1); violation %q", m.sync.exports, m.sync.violation)
				}
			})
		}
	}
}
