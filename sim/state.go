package sim

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
)

// Saving the world core and rebuilding it: each DC's replica as LDIF, the configuration that
// built the domain, and the simulated time. Layers above (member hosts, MIM) save their own state
// beside it, in the same closure (sim/mim writes the whole file `gmsasim migrate resume` reads).
//
// Divergence: queued replication is not saved (call ReplicateNow first), pending events are not
// saved (their owners schedule them again), the restored world's trace starts afresh and its
// random streams start again from the seed (objectGUIDs come from a stream named after the saved
// moment, so they do not collide with saved ones).

// SavedState is the world core as Loop.Save writes it and Restore reads it.
type SavedState struct {
	Now      time.Time         `json:"now"`
	Config   SavedConfig       `json:"config"`
	Replicas map[string]string `json:"replicas"` // DC name → LDIF
}

// SavedConfig is the part of Config a saved world keeps: what built its domain.
type SavedConfig struct {
	Seed          uint64        `json:"seed"`
	Domain        string        `json:"domain"`
	NetBIOS       string        `json:"netbios"`
	SchemaVersion int           `json:"schemaVersion"`
	DCs           []DCSpec      `json:"dcs"`
	Links         []LinkSpec    `json:"links"`
	LinkDelay     time.Duration `json:"linkDelay"`
	AdminPassword string        `json:"adminPassword"`
}

// Save is the world core now: every replica as LDIF, the configuration and the time.
func (l Loop) Save() (SavedState, error) {
	w := l.w
	cfg := w.cfg
	s := SavedState{Now: w.clock.Now(), Replicas: map[string]string{},
		Config: SavedConfig{Seed: cfg.Seed, Domain: cfg.Domain, NetBIOS: cfg.NetBIOS, SchemaVersion: cfg.SchemaVersion,
			DCs: cfg.DCs, Links: cfg.Links, LinkDelay: cfg.LinkDelay, AdminPassword: cfg.AdminPassword}}
	for _, dc := range w.dcs {
		var b bytes.Buffer
		if err := dc.dir.ExportLDIF(&b); err != nil {
			return SavedState{}, fmt.Errorf("sim: saving %s: %w", dc.name, err)
		}
		s.Replicas[dc.name] = b.String()
	}
	return s, nil
}

// Restore rebuilds a world from a SavedState, at the saved simulated time. cfg supplies what is
// not saved (TraceWriter, TraceLines, bounds, Realtime); its domain, DCs, seed and passwords are
// replaced by the saved ones. With cfg.Realtime the restored world's time runs on from the saved
// moment at the wall clock's pace (serve restoring a snapshot); otherwise on the virtual clock.
func Restore(s SavedState, cfg Config) (*World, error) {
	cfg.Seed, cfg.Start, cfg.Domain, cfg.NetBIOS = s.Config.Seed, s.Now, s.Config.Domain, s.Config.NetBIOS
	cfg.SchemaVersion, cfg.DCs, cfg.Links, cfg.LinkDelay = s.Config.SchemaVersion, s.Config.DCs, s.Config.Links, s.Config.LinkDelay
	cfg.AdminPassword = s.Config.AdminPassword
	w, err := newWorld(cfg)
	if err != nil {
		return nil, err
	}
	var dirs []*fakead.Directory
	var reps []replica
	for _, dc := range w.cfg.DCs {
		text, ok := s.Replicas[dc.Name]
		if !ok {
			return nil, fmt.Errorf("sim: loading a saved world: no replica for %s", dc.Name)
		}
		d, err := fakead.ImportLDIF(strings.NewReader(text))
		if err != nil {
			return nil, fmt.Errorf("sim: loading %s: %w", dc.Name, err)
		}
		dirs, reps = append(dirs, d), append(reps, d)
	}
	// New objectGUIDs come from a stream named after the saved moment and the replicas' USNs, so
	// that they differ from those minted before the save and after an earlier restore.
	var usns uint64
	for _, d := range dirs {
		usns += d.HighestUSN()
	}
	ids := GUIDSource{w.streams.Get(fmt.Sprintf("%s/restore/%d/%d", StreamGUIDs, s.Now.UnixNano(), usns))}
	for _, d := range dirs {
		d.SetIDSource(ids)
		d.SetKeyMemo(w.cfg.Keys)
	}
	w.attach(dirs, reps)
	return w, nil
}
