package scenarios

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/mimagent"
)

// crashEach is `migrate crash-each`: from the scenario's world as it is now, an uninterrupted
// apply gives the reference end state; then, for every step of the plan, a copy of the same world
// is applied with a crash right after that step (its effect in place, its result not journaled),
// saved and loaded back, resumed from the journal, and its end state (hosts, key set export,
// directory by names) compared with the reference. The scenario's own world is left as it was.
func crashEach(r *runner, mr *mimRun) (string, error) {
	if mr.m == nil {
		return "", fmt.Errorf("no MIM hosts: install them with a mim block first")
	}
	start, err := sim.SaveMIMWorld(r.w, mr.m)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "gmsasim-crash-each-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	state := func(w *sim.World, m *sim.MIM) (string, error) {
		d, err := mimagent.DirectoryState(w)
		return mimagent.HostState(m) + "\n" + d, err
	}
	load := func(b []byte) (*mimagent.Env, error) {
		w, m, err := sim.LoadMIMWorld(b, sim.Config{})
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
	p, _, err := env.Apply(ctx, mimagent.RunOptions{Journal: filepath.Join(dir, "reference.json")})
	if err != nil {
		env.Close()
		return "", fmt.Errorf("the uninterrupted run failed: %w", err)
	}
	want, err := state(env.World, env.MIM)
	env.Close()
	if err != nil {
		return "", err
	}
	var out strings.Builder
	same := 0
	for i, s := range p.Steps {
		got, err := crashAndResume(ctx, load, state, start, filepath.Join(dir, fmt.Sprintf("crash-%d.json", i)), s.ID)
		switch {
		case err != nil:
			fmt.Fprintf(&out, "%s: %v\n", s.ID, err)
		case got != want:
			fmt.Fprintf(&out, "%s: end state differs:\n%s\n", s.ID, stateDiff(want, got))
		default:
			same++
		}
	}
	fmt.Fprintf(&out, "%d of %d steps: crashed right after the step, reloaded, resumed to the uninterrupted end state\n", same, len(p.Steps))
	out.WriteString("end state:\n" + want)
	return strings.TrimSpace(out.String()), nil
}

func crashAndResume(ctx context.Context, load func([]byte) (*mimagent.Env, error), state func(*sim.World, *sim.MIM) (string, error),
	start []byte, journal, step string) (string, error) {
	env, err := load(start)
	if err != nil {
		return "", err
	}
	_, _, err = env.Apply(ctx, mimagent.RunOptions{Journal: journal, CrashAfter: step})
	if !errors.Is(err, migrate.ErrInterrupted) {
		env.Close()
		return "", fmt.Errorf("apply did not stop at the crash: %v", err)
	}
	saved, err := sim.SaveMIMWorld(env.World, env.MIM)
	env.Close()
	if err != nil {
		return "", err
	}
	env, err = load(saved)
	if err != nil {
		return "", err
	}
	defer env.Close()
	if _, err := env.Resume(ctx, mimagent.RunOptions{Journal: journal}); err != nil {
		return "", fmt.Errorf("resume: %w", err)
	}
	return state(env.World, env.MIM)
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
