package scenarios

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/mim"
	"github.com/gmsasim/gmsasim/sim/mimagent"
)

// crashEach is `migrate crash-each`: from the scenario's world as it is now, an uninterrupted
// apply gives the reference end state; then, for every step of the plan, the world as a crash
// right after that step leaves it (its effect in place, its result not journaled) is saved and
// loaded back, resumed from the journal, and its end state (hosts, key set export, directory by
// names) compared with the reference. The scenario's own world is left as it was.
//
// The crashed worlds are not reached by applying the plan again for every step (O(n²) steps):
// the reference run snapshots, at each step's after-step crash point, the saved world and the
// journal (the bytes a crash there leaves: the engine neither writes nor changes anything between
// that point and returning ErrInterrupted). For a sample of steps (crashSample) a from-scratch
// apply with the crash armed must reach byte-identical world and journal, so the shortcut stays
// honest; every step is then saved/loaded/resumed and compared in full.
func crashEach(r *runner, mr *mimRun) (string, error) {
	if mr.m == nil {
		return "", fmt.Errorf("no MIM hosts: install them with a mim block first")
	}
	start, err := mim.Save(mr.m)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(journalTempDir(), "gmsasim-crash-each-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	load := func(b []byte) (*mimagent.Env, error) {
		w, m, err := mim.Load(b, sim.Config{Keys: r.w.Keys()}) // one memo for every world the sweep loads
		if err != nil {
			return nil, err
		}
		env, err := mimagent.Serve(w, m)
		if err == nil && mr.syncPassword != nil {
			env.Config.SyncAccount.Password = *mr.syncPassword
		}
		return env, err
	}
	env, err := load(start)
	if err != nil {
		return "", err
	}
	refJournal := filepath.Join(dir, "reference.json")
	snaps := map[string]crashSnapshot{}
	p, _, err := env.Apply(ctx, mimagent.RunOptions{Journal: refJournal,
		AtCrashPoint: func(step string, at migrate.CrashPoint) error {
			if at != migrate.AfterStep {
				return nil
			}
			s, err := snapshot(env, refJournal)
			snaps[step] = s
			return err
		}})
	if err != nil {
		env.Close()
		return "", fmt.Errorf("the uninterrupted run failed: %w", err)
	}
	want, err := endState(env.World, env.MIM)
	env.Close()
	if err != nil {
		return "", err
	}
	// Every step's check is independent (its own world, journal and listeners): they run on
	// GOMAXPROCS workers and report in plan order.
	sample := crashSample(len(p.Steps))
	notes := make([]string, len(p.Steps))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for n := min(runtime.GOMAXPROCS(0), len(p.Steps)); n > 0; n-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				notes[i] = crashStep(ctx, load, start, snaps, want, filepath.Join(dir, fmt.Sprintf("crash-%d.json", i)), p.Steps[i].ID, sample[i])
			}
		}()
	}
	for i := range p.Steps {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	var out strings.Builder
	same := 0
	for _, n := range notes {
		if n == "" {
			same++
			continue
		}
		out.WriteString(n)
	}
	fmt.Fprintf(&out, "%d of %d steps: crashed right after the step, reloaded, resumed to the uninterrupted end state\n", same, len(p.Steps))
	out.WriteString("end state:\n" + want)
	return strings.TrimSpace(out.String()), nil
}

// crashStep checks one step from its snapshot (first against a from-scratch crash when sampled):
// "" when the resumed world ends as the uninterrupted one, else a note naming the step.
func crashStep(ctx context.Context, load func([]byte) (*mimagent.Env, error), start []byte, snaps map[string]crashSnapshot,
	want, journal, step string, sampled bool) string {
	snap, ok := snaps[step]
	if !ok {
		return fmt.Sprintf("%s: the uninterrupted run never reached the crash point after it\n", step)
	}
	if sampled {
		if err := crashFromScratch(ctx, load, start, journal, step, snap); err != nil {
			return fmt.Sprintf("%s: %v\n", step, err)
		}
	}
	got, err := resumeSnapshot(ctx, load, snap, journal)
	switch {
	case err != nil:
		return fmt.Sprintf("%s: %v\n", step, err)
	case got != want:
		return fmt.Sprintf("%s: end state differs:\n%s\n", step, stateDiff(want, got))
	}
	return ""
}

// crashSnapshot is what a crash leaves: the saved world and the journal on disk.
type crashSnapshot struct {
	world, journal []byte
}

func snapshot(env *mimagent.Env, journal string) (crashSnapshot, error) {
	w, err := mim.Save(env.MIM)
	if err != nil {
		return crashSnapshot{}, err
	}
	j, err := os.ReadFile(journal)
	return crashSnapshot{world: w, journal: j}, err
}

// endState is what crash-each compares: the hosts, then the directory by names.
func endState(w *sim.World, m *mim.Deployment) (string, error) {
	d, err := mimagent.DirectoryState(w)
	return mimagent.HostState(m) + "\n" + d, err
}

// crashSample is the steps (by index) whose snapshot is checked against a from-scratch apply
// crashed there: the first, the last, and every crashSampleEvery-th between.
func crashSample(n int) map[int]bool {
	s := map[int]bool{}
	for i := 0; i < n; i += crashSampleEvery {
		s[i] = true
	}
	if n > 0 {
		s[n-1] = true
	}
	return s
}

const crashSampleEvery = 8

// crashFromScratch applies the plan from the start world with the crash armed after step and
// checks that the world it saves and the journal it leaves are byte for byte the snapshot.
func crashFromScratch(ctx context.Context, load func([]byte) (*mimagent.Env, error), start []byte, journal, step string, snap crashSnapshot) error {
	env, err := load(start)
	if err != nil {
		return err
	}
	defer env.Close()
	_, _, err = env.Apply(ctx, mimagent.RunOptions{Journal: journal, CrashAfter: step})
	if !errors.Is(err, migrate.ErrInterrupted) {
		return fmt.Errorf("apply did not stop at the crash: %v", err)
	}
	got, err := snapshot(env, journal)
	if err != nil {
		return err
	}
	if !bytes.Equal(got.world, snap.world) {
		return fmt.Errorf("from scratch, the crashed world differs from the uninterrupted run's snapshot at the same point (%d vs %d bytes)", len(got.world), len(snap.world))
	}
	if !bytes.Equal(got.journal, snap.journal) {
		return fmt.Errorf("from scratch, the journal differs from the uninterrupted run's at the same point:\n%s", stateDiff(string(snap.journal), string(got.journal)))
	}
	return nil
}

// resumeSnapshot loads a crashed world, resumes it from its journal and returns its end state.
func resumeSnapshot(ctx context.Context, load func([]byte) (*mimagent.Env, error), snap crashSnapshot, journal string) (string, error) {
	if err := os.WriteFile(journal, snap.journal, 0o600); err != nil {
		return "", err
	}
	env, err := load(snap.world)
	if err != nil {
		return "", err
	}
	defer env.Close()
	if _, err := env.Resume(ctx, mimagent.RunOptions{Journal: journal}); err != nil {
		return "", fmt.Errorf("resume: %w", err)
	}
	return endState(env.World, env.MIM)
}

// journalTempDir is where crash-each keeps its journals: a memory file system when there is one
// (the journal syncs every record to disk, twice per step; that durability is what the engine
// promises a real operator and is not what crash-each checks), else the default.
func journalTempDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "gmsasim-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return ""
}

// stateDiff lists the lines only in a (-) or only in b (+).
func stateDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
