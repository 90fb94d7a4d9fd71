package scenarios

import (
	"context"
	"github.com/gmsasim/gmsasim/fakekds"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/mim"
	"github.com/gmsasim/gmsasim/sim/mimagent"
)

// Every MIM scenario (scenarios/mim) parses and passes; -rewrite regenerates their outputs.
func TestMIMLibrary(t *testing.T) {
	if !*rewrite && os.Getenv("GMSASIM_TEST_LONG") == "" {
		t.Skip("make test runs every scenario file as a Ginkgo spec (harness/library_suite_test.go); -rewrite or GMSASIM_TEST_LONG=1 runs them here too")
	}
	files, _ := filepath.Glob("mim/*.scn")
	if len(files) < 15 {
		t.Errorf("scenarios/mim has %d scenarios, want at least 15", len(files))
	}
	keys := fakekds.NewKeyMemo() // shared by the files' worlds, as gmsasim run shares one
	for _, f := range files {
		f := f
		t.Run(filepath.Base(f), func(t *testing.T) {
			if *rewrite {
				sc, err := ParseFileForRewrite(f)
				if err != nil {
					t.Fatal(err)
				}
				if res := Run(sc, Options{Rewrite: true}); !res.Skipped {
					if res.Failure != nil && res.Failure.Expected == "" && res.Failure.Got == "" {
						t.Fatalf("%v", res.Failure)
					}
					if err := os.WriteFile(f, []byte(res.Rewritten), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			sc, err := ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if sc.HasLabel("long") && os.Getenv("GMSASIM_TEST_LONG") == "" {
				// A sweep (the migration crashed after each of its steps): make test-long runs it
				// here under the race detector, make run (the main job, in .ci/run) without.
				t.Skip("labelled long: make test-long and make run run it")
			}
			res := Run(sc, Options{Keys: keys})
			if res.Failure != nil {
				t.Errorf("%v", res.Failure)
			}
		})
	}
}

// crash-each checks from scratch the first step, every crashSampleEvery-th and the last.
func TestCrashSample(t *testing.T) {
	got := crashSample(17)
	for _, i := range []int{0, 8, 16} {
		if !got[i] {
			t.Errorf("crashSample(17) lacks step %d: %v", i, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("crashSample(17) = %v, want steps 0, 8 and 16", got)
	}
	if one := crashSample(1); len(one) != 1 || !one[0] {
		t.Errorf("crashSample(1) = %v, want step 0", one)
	}
}

// The shortcut's honesty check: a snapshot taken at the after-step crash point is what a
// from-scratch crash reaches; one taken before the step is not, and is reported.
func TestCrashSnapshotMatchesFromScratch(t *testing.T) {
	_, m, err := BuildMIMWorld("mim/crash-after-every-step.scn")
	if err != nil {
		t.Fatal(err)
	}
	start, err := mim.Save(m)
	if err != nil {
		t.Fatal(err)
	}
	load := func(b []byte) (*mimagent.Env, error) {
		w, m, err := mim.Load(b, sim.Config{})
		if err != nil {
			return nil, err
		}
		return mimagent.Serve(w, m)
	}
	dir := t.TempDir()
	env, err := load(start)
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(dir, "ref.json")
	snaps := map[migrate.CrashPoint]crashSnapshot{}
	var first string
	ctx := context.Background()
	_, _, err = env.Apply(ctx, mimagent.RunOptions{Journal: ref, AtCrashPoint: func(step string, at migrate.CrashPoint) error {
		if first == "" {
			first = step
		}
		if step != first {
			return nil
		}
		s, err := snapshot(env, ref)
		snaps[at] = s
		return err
	}})
	env.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := crashFromScratch(ctx, load, start, filepath.Join(dir, "a.json"), first, snaps[migrate.AfterStep]); err != nil {
		t.Errorf("after-step snapshot of %s: %v", first, err)
	}
	err = crashFromScratch(ctx, load, start, filepath.Join(dir, "b.json"), first, snaps[migrate.BeforeStep])
	if err == nil || !strings.Contains(err.Error(), "differs from the uninterrupted run's snapshot") {
		t.Errorf("before-step snapshot of %s passed as the crashed world: %v", first, err)
	}
}
