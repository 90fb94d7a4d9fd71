package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2" //nolint:revive // Ginkgo's DSL is meant to be dot-imported
	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	types2 "github.com/onsi/ginkgo/v2/types"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/scenarios"
	"github.com/gmsasim/gmsasim/sim"
)

// Config says which scenario files become specs and how they run.
type Config struct {
	Dirs           []string // directories searched for *.scn (testdata excluded)
	IncludePending bool
	Seed           uint64 // with SeedSet, overrides every file's seed
	SeedSet        bool
	// IncludeLong runs the files labelled long (sweeps such as the migration crashed after each
	// step); without it their specs are skipped.
	IncludeLong bool
}

// absPath is f made absolute (as it is when a spec's location points at it); f itself on error.
func absPath(f string) string {
	if a, err := filepath.Abs(f); err == nil {
		return a
	}
	return f
}

// Files lists the scenario files below dirs, sorted.
func Files(dirs ...string) ([]string, error) {
	var out []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" && p != dir {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(p, ".scn") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// Specs declares one It per scenario file, at tree-construction time. Call it inside a Describe
// (or at the top level of a suite file via var _ = Describe(...)).
func Specs(cfg Config) {
	files, err := Files(cfg.Dirs...)
	if err != nil {
		It("finds the scenario files", func() { gomega.Expect(err).NotTo(gomega.HaveOccurred()) })
		return
	}
	keys := fakekds.NewKeyMemo() // the specs' worlds share their key derivations (ginkgo -p: per process)
	for _, f := range files {
		f := f
		sc, perr := scenarios.ParseFile(f)
		if perr != nil {
			loc := types2.CodeLocation{FileName: absPath(f), LineNumber: 1}
			var pe *scenarios.ParseError
			if errors.As(perr, &pe) {
				loc.LineNumber = pe.Line
			}
			It(f, Label("malformed"), loc, func() { Fail(perr.Error()) })
			continue
		}
		// The spec's location is the scenario file at its world line, so that ginkgo's reports and
		// editors point at the .scn, not at this function. Divergence: Ginkgo v2 has no API to
		// set a failure's own location (Fail takes a caller skip); the failure message starts
		// with the failing step's file:line instead.
		loc := types2.CodeLocation{FileName: absPath(f), LineNumber: sc.Steps[0].Line}
		long := sc.HasLabel("long") && !cfg.IncludeLong
		// A file with a worlds block is a spec per world (file.scn[schema=47]).
		worlds := []string{""}
		if len(sc.Worlds) > 0 {
			worlds = nil
			for _, w := range sc.Worlds {
				worlds = append(worlds, w.Name)
			}
		}
		for _, world := range worlds {
			args := []any{Label(sc.Labels...), loc}
			if sc.Pending() && !cfg.IncludePending {
				args = append(args, Pending)
			}
			args = append(args, func() {
				if long {
					Skip("labelled long (a sweep): GMSASIM_TEST_LONG=1, make test-long or make run runs it")
				}
				res := scenarios.Run(sc, scenarios.Options{Seed: cfg.Seed, SeedSet: cfg.SeedSet, IncludePending: cfg.IncludePending, Keys: keys, World: world})
				AddReportEntry("seed", res.Seed)
				AddReportEntry("simulated", res.SimElapsed.String())
				gomega.Expect(res).To(PassScenario())
			})
			name := f
			if world != "" {
				name += "[" + world + "]"
			}
			It(name+": "+sc.Title(), args...)
		}
	}
}

// PassScenario succeeds for a Result that was not skipped and did not fail; its failure
// message is the runner's (seed, file:line, diff, trace tail, replay command).
func PassScenario() types.GomegaMatcher { return &passMatcher{} }

type passMatcher struct{}

func (m *passMatcher) Match(actual any) (bool, error) {
	r, ok := actual.(*scenarios.Result)
	if !ok || r == nil {
		return false, fmt.Errorf("PassScenario expects a *scenarios.Result, got %T", actual)
	}
	return r.Failure == nil && !r.Skipped, nil
}

func (m *passMatcher) FailureMessage(actual any) string {
	r := actual.(*scenarios.Result)
	if r.Skipped {
		return "scenario " + r.Scenario.Path + " was skipped: " + r.SkipReason
	}
	return r.Failure.Error()
}

func (m *passMatcher) NegatedFailureMessage(actual any) string {
	return "expected scenario " + actual.(*scenarios.Result).Scenario.Path + " to fail, it passed"
}

// Converge succeeds for a *sim.World that, after settling replication, has identical replicas.
func Converge() types.GomegaMatcher { return &convergeMatcher{} }

type convergeMatcher struct{ err error }

func (m *convergeMatcher) Match(actual any) (bool, error) {
	w, ok := actual.(*sim.World)
	if !ok || w == nil {
		return false, fmt.Errorf("Converge expects a *sim.World, got %T", actual)
	}
	if err := w.Settle(); err != nil {
		m.err = err
		return false, nil
	}
	m.err = w.CheckConverged()
	return m.err == nil, nil
}

func (m *convergeMatcher) FailureMessage(actual any) string {
	return fmt.Sprintf("expected the replicas to converge:\n%v", m.err)
}

func (m *convergeMatcher) NegatedFailureMessage(actual any) string {
	return "expected the replicas not to converge, they did"
}

// HaveDigestOf succeeds when the first DC of the actual *sim.World holds the same directory
// (fakead's Digest) as the first DC of other — the metamorphic check.
func HaveDigestOf(other *sim.World) types.GomegaMatcher { return &digestMatcher{other: other} }

type digestMatcher struct {
	other    *sim.World
	got, exp string
}

func firstDigest(w *sim.World) string {
	var dg string
	_ = w.ExecOn(w.DCs()[0].Name(), func(_ time.Time, d *fakead.Directory) error {
		dg = d.Digest()
		return nil
	})
	return dg
}

func (m *digestMatcher) Match(actual any) (bool, error) {
	w, ok := actual.(*sim.World)
	if !ok || w == nil {
		return false, fmt.Errorf("HaveDigestOf expects a *sim.World, got %T", actual)
	}
	m.got, m.exp = firstDigest(w), firstDigest(m.other)
	return m.got == m.exp, nil
}

func (m *digestMatcher) FailureMessage(actual any) string {
	return fmt.Sprintf("expected directory digest %.16s, got %.16s", m.exp, m.got)
}

func (m *digestMatcher) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("expected directory digests to differ, both are %.16s", m.got)
}
