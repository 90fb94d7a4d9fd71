package mim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// Saving a MIM world to bytes and loading it back, so that `gmsasim migrate resume` after a
// killed process finds the world as the killed process left it: the world core (each DC's
// replica as LDIF, the simulated time: sim.Loop.Save), each host's state (machine password,
// services, gMSA cache, kdssvc: host.Fleet.SaveLocked) and each MIM host's state (components, key
// set files, registry, event log), as one JSON file.
//
// Divergence: queued replication is delivered before saving (ReplicateNow); see sim.SavedState and
// host.Saved for what a restore starts afresh.

// StateVersion is the format of Save.
const StateVersion = 1

type savedWorld struct {
	Format int `json:"format"`
	sim.SavedState
	Hosts []host.Saved        `json:"hosts"`
	MIM   map[string]savedMIM `json:"mim"`   // host name → MIM state
	Known map[string]string   `json:"known"` // Deployment.KnownPasswords
}

type savedMIM struct {
	Version    string            `json:"version"`
	Components []Component       `json:"components"`
	Agents     []ManagementAgent `json:"agents"`
	PCNS       bool              `json:"pcns"`
	Exchange   ExchangeMode      `json:"exchange"`
	Registry   [][4]string       `json:"registry"` // key, name, kind, data
	Files      map[string][]byte `json:"files"`
	Writes     map[string]int    `json:"writes"`
	KeyDB      string            `json:"keyDB"`
	KeyRun     string            `json:"keyRun"`
	SyncAuto   host.StartType    `json:"syncAuto"`
	Events     []string          `json:"events"`
	Warnings   []string          `json:"warnings"`
}

// Save writes the world, its member hosts and its MIM deployment as JSON.
func Save(m *Deployment) ([]byte, error) {
	w := m.w
	if err := w.ReplicateNow(); err != nil {
		return nil, err
	}
	s := savedWorld{Format: StateVersion, MIM: map[string]savedMIM{}}
	var out []byte
	err := w.Exec(func(now time.Time) error {
		var err error
		if s.SavedState, err = w.Loop().Save(); err != nil {
			return err
		}
		s.Hosts = m.fleet.SaveLocked()
		s.Known = m.known
		for _, mh := range m.order {
			s.MIM[strings.ToUpper(mh.h.Name())] = saveMIM(mh)
		}
		out, err = json.Marshal(s) // no indentation: the file is rewritten after every migration step, and indenting the replicas' LDIF cost a sixth of a run
		return err
	})
	return out, err
}

func saveMIM(mh *Host) savedMIM {
	sm := savedMIM{Version: mh.version, Agents: mh.agents, PCNS: mh.pcns, Exchange: mh.exchange, Files: mh.files,
		Writes: mh.writes, KeyDB: mh.keyDB, KeyRun: mh.keyRun, SyncAuto: mh.syncAuto, Events: mh.events, Warnings: mh.warnings}
	for _, c := range Components() {
		if mh.comps[c] {
			sm.Components = append(sm.Components, c)
		}
	}
	var keys []string
	for k := range mh.registry {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := mh.registry[k]
		sm.Registry = append(sm.Registry, [4]string{v.key, v.name, v.kind, v.data})
	}
	return sm
}

// Load rebuilds a world and its MIM deployment from Save's output, at the saved
// simulated time. cfg supplies what is not saved (TraceWriter, TraceLines, bounds); its domain,
// DCs, seed and passwords are replaced by the saved ones.
func Load(b []byte, cfg sim.Config) (*sim.World, *Deployment, error) {
	var s savedWorld
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, nil, fmt.Errorf("sim: loading a saved world: %w", err)
	}
	if s.Format != StateVersion {
		return nil, nil, fmt.Errorf("sim: loading a saved world: format %d, want %d", s.Format, StateVersion)
	}
	// A zero time would become DefaultStart silently, and a time outside the range the KDS and
	// Kerberos code assume fails far from here (a time in 1601, FILETIME zero, made logons fail
	// with "access denied"): a saved world's time comes from a simulation that started after 1970.
	why := ""
	switch {
	case s.Now.IsZero():
		why = "zero, as when the file has no time"
	case s.Now.Before(time.Unix(0, 0)):
		why = "before 1970"
	case s.Now.Year() > 9000:
		why = "after the year 9000"
	}
	if why != "" {
		return nil, nil, fmt.Errorf("simulated time %s is not a plausible time (it is %s; a saved world's time comes from a simulation that ran after 1970, "+
			"so the file is damaged or was edited): restore it from a copy, or start again with a new journal", s.Now.UTC().Format(time.RFC3339), why)
	}
	w, err := sim.Restore(s.SavedState, cfg)
	if err != nil {
		return nil, nil, err
	}
	f := host.NewFleet(w)
	m := New(f)
	for k, v := range s.Known {
		m.known[k] = v
	}
	err = w.Exec(func(now time.Time) error {
		hosts, err := f.RestoreLocked(now, s.Hosts)
		if err != nil {
			return err
		}
		for _, h := range hosts {
			if sm, ok := s.MIM[strings.ToUpper(h.Name())]; ok {
				mh := loadMIM(m, h, sm)
				m.hosts[strings.ToUpper(h.Name())] = mh
				m.order = append(m.order, mh)
			}
		}
		w.Loop().Logf("world restored from a saved state: %d hosts, %d MIM hosts", len(s.Hosts), len(m.order))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return w, m, nil
}

func loadMIM(m *Deployment, h *host.Host, sm savedMIM) *Host {
	mh := &Host{m: m, h: h, version: sm.Version, comps: map[Component]bool{}, agents: sm.Agents, pcns: sm.PCNS,
		exchange: sm.Exchange, registry: map[string]regValue{}, files: map[string][]byte{}, writes: map[string]int{},
		keyDB: sm.KeyDB, keyRun: sm.KeyRun, syncAuto: sm.SyncAuto, events: sm.Events, warnings: sm.Warnings}
	for _, c := range sm.Components {
		mh.comps[c] = true
	}
	for _, r := range sm.Registry {
		mh.registry[strings.ToLower(r[0]+`\`+r[1])] = regValue{r[0], r[1], r[2], r[3]}
	}
	for k, v := range sm.Files {
		mh.files[k] = v
	}
	for k, v := range sm.Writes {
		mh.writes[k] = v
	}
	return mh
}
