package scenarios

import (
	"fmt"

	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/scenarios/ps"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
	"github.com/gmsasim/gmsasim/sim/mim"
)

// BuildMIMWorld builds the world of a scenario file for `gmsasim migrate --world FILE`: its world
// block, then its steps up to the first migrate or crash-at directive (a mim block among them
// installs the MIM hosts), without comparing outputs.
func BuildMIMWorld(path string) (*sim.World, *mim.Deployment, error) {
	w, m, _, err := BuildMIMWorldOverrides(path)
	return w, m, err
}

// BuildMIMWorldOverrides is BuildMIMWorld, and the operator's names and choices the file's first
// migrate directive gives (gmsa=, installer=, sync-group=, service-group=, root-key-rule=, mode=),
// so that `gmsasim migrate --world FILE` runs the engine as the file's migrate line would.
func BuildMIMWorldOverrides(path string) (*sim.World, *mim.Deployment, migrate.Overrides, error) {
	var ov migrate.Overrides
	sc, err := ParseFile(path)
	if err != nil {
		return nil, nil, ov, err
	}
	r := newRunner(sc, Options{NoCompare: true})
	defer r.closeMIM()
	wst := sc.Steps[0]
	ws, err := parseWorld(wst)
	if err != nil {
		return nil, nil, ov, fmt.Errorf("%s:%d: %w", path, wst.Line, err)
	}
	r.ws = ws
	cfg := ws.cfg
	cfg.Seed = r.seed()
	if !ws.explicit {
		cfg.Links = nil
	}
	cfg.TraceWriter = r.trace
	cfg.Keys = r.opt.Keys
	if r.w, err = sim.New(cfg); err != nil {
		return nil, nil, ov, fmt.Errorf("%s:%d: world: %w", path, wst.Line, err)
	}
	r.hosts = host.NewFleet(r.w)
	r.kdsRand = r.w.Rand("scenario/kds")
	r.sess = &session{r: r, ps: ps.NewSession()}
	if _, err := r.buildObjects(ws); err != nil {
		return nil, nil, ov, fmt.Errorf("%s:%d: %w", path, wst.Line, err)
	}
	for _, st := range sc.Steps[1:] {
		if st.Cmd == "migrate" {
			if ov, err = overridesOf(st, migrate.Overrides{}); err != nil {
				return nil, nil, ov, fmt.Errorf("%s:%d: %w", path, st.Line, err)
			}
			break
		}
		if st.Cmd == "crash-at" {
			break
		}
		if _, err := r.directives[st.Cmd].run(r, st); err != nil {
			return nil, nil, ov, fmt.Errorf("%s:%d: %w", path, st.Line, err)
		}
	}
	m := r.mimState().m
	if m == nil {
		return nil, nil, ov, fmt.Errorf("%s: no mim block before the first migrate directive: the world has no MIM hosts", path)
	}
	return r.w, m, ov, nil
}
