//go:build unix

package main

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/gmsasim/gmsasim/sim"
)

// Topologies of the replication sweep. "mesh" is sim's default (every pair of DCs linked, one hop
// from anywhere to anywhere: n(n-1)/2 links); "ring" links each DC to the next and the last to the
// first (n links, at most n/2 hops), as AD's KCC lays out the DCs of one site (without the extra
// links it adds to keep any two within three hops: see sim's doc.go).
var Topologies = []string{"mesh", "ring"}

// ReplResult is one point of the replication sweep: a change (a new group) made on DC1 of a domain
// of DCs DCs linked as Topology, each link with sim's default delay.
type ReplResult struct {
	Topology   string
	DCs        int
	Build      time.Duration // wall time of sim.New (every DC builds its replica)
	Heap       uint64        // live heap of the world (after a GC), bytes
	Hops       int           // link delays until the last DC had the change
	SimTime    time.Duration // simulated time from the change to the last DC having it
	Wall       time.Duration // wall time of one change's replication, from the write to no delivery pending (median)
	Events     int           // deliveries of one change (an echo to a DC that already has it included)
	AllocBytes uint64        // bytes allocated by one change's replication (mean)
	Allocs     uint64        // heap allocations of one change's replication (mean)
	Check      time.Duration // wall time of CheckConverged afterwards (digest of every replica)
}

func replConfig(seed uint64, topology string, n int) (sim.Config, error) {
	cfg := sim.Config{Seed: seed}
	for i := 1; i <= n; i++ {
		cfg.DCs = append(cfg.DCs, sim.DCSpec{Name: fmt.Sprintf("DC%d", i)})
	}
	switch topology {
	case "mesh":
	case "ring":
		for i := 1; i < n; i++ {
			cfg.Links = append(cfg.Links, sim.LinkSpec{A: fmt.Sprintf("DC%d", i), B: fmt.Sprintf("DC%d", i+1)})
		}
		if n > 2 {
			cfg.Links = append(cfg.Links, sim.LinkSpec{A: fmt.Sprintf("DC%d", n), B: "DC1"})
		}
	default:
		return cfg, fmt.Errorf("topology %q: want mesh or ring", topology)
	}
	return cfg, nil
}

// meter sums wall time and allocations over the calls it times, and leaves out what runs between
// them (the probes that look whether every DC has the change yet).
type meter struct {
	wall          time.Duration
	bytes, allocs uint64
}

func (m *meter) time(fn func() error) error {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	t := time.Now() // wallclock: a benchmark measures wall time
	err := fn()
	m.wall += time.Since(t) // wallclock: a benchmark measures wall time
	runtime.ReadMemStats(&b)
	m.bytes += b.TotalAlloc - a.TotalAlloc
	m.allocs += b.Mallocs - a.Mallocs
	return err
}

// changes is how many changes RunRepl times one after the other (the wall time is their median,
// the allocations their mean): one change takes milliseconds, where a GC moves a single figure.
const changes = 5

// RunRepl builds the domain and makes a change on DC1 (a new group), advancing one link delay at a
// time until every DC has it, then until no delivery is pending; it does so for several changes one
// after the other, then checks that the replicas converged.
func RunRepl(seed uint64, topology string, n int) (ReplResult, error) {
	r := ReplResult{Topology: topology, DCs: n}
	cfg, err := replConfig(seed, topology, n)
	if err != nil {
		return r, err
	}
	// The first world of a process also fills the package-level caches (schema, ...): build one
	// first, so the first point's heap is its world's alone.
	warm.Do(func() { sim.New(sim.Config{Seed: seed}) })
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	t0 := time.Now() // wallclock: a benchmark measures wall time
	w, err := sim.New(cfg)
	if err != nil {
		return r, err
	}
	r.Build = time.Since(t0) // wallclock: a benchmark measures wall time
	if err := w.Settle(); err != nil {
		return r, err
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if m1.HeapAlloc > m0.HeapAlloc {
		r.Heap = m1.HeapAlloc - m0.HeapAlloc
	}
	delay, err := w.LinkDelay("DC1", "DC2")
	if err != nil {
		return r, err
	}
	var walls []time.Duration
	for round := range changes {
		c, err := replicateOne(w, fmt.Sprintf("ScaleProbe%d", round), delay, n)
		if err != nil {
			return r, fmt.Errorf("%s of %d DCs: %w", topology, n, err)
		}
		walls = append(walls, c.wall)
		r.Hops, r.SimTime, r.Events = c.hops, c.sim, c.events
		r.AllocBytes += c.bytes / changes
		r.Allocs += c.allocs / changes
	}
	slices.Sort(walls)
	r.Wall = walls[len(walls)/2]
	t1 := time.Now() // wallclock: a benchmark measures wall time
	if err := w.CheckConverged(); err != nil {
		return r, fmt.Errorf("%s of %d DCs: %w", topology, n, err)
	}
	r.Check = time.Since(t1) // wallclock: a benchmark measures wall time
	runtime.KeepAlive(w)
	return r, nil
}

// change is what one change cost: its hops and simulated time, the deliveries it took, and the
// wall time and allocations of the calls that ran them (the probes between hops left out).
type change struct {
	meter
	hops   int
	sim    time.Duration
	events int
}

// replicateOne creates the group name on DC1 and advances one link delay at a time until every DC
// has it, then until no delivery is pending.
func replicateOne(w *sim.World, name string, delay time.Duration, n int) (change, error) {
	var c change
	start, e0 := w.Now(), w.EventsRun()
	if err := c.time(func() error { return w.NewGroup("DC1", name) }); err != nil {
		return c, err
	}
	for {
		missing, err := missingOn(w, name)
		if err != nil {
			return c, err
		}
		if missing == 0 {
			break
		}
		if c.hops++; c.hops > n {
			return c, fmt.Errorf("%s is missing on %d DCs after %d link delays", name, missing, n)
		}
		if err := c.time(func() error { return w.Advance(delay) }); err != nil {
			return c, err
		}
	}
	c.sim = w.Now().Sub(start)
	if err := c.time(w.Settle); err != nil {
		return c, err
	}
	c.events = w.EventsRun() - e0
	return c, nil
}

var warm sync.Once

// missingOn counts the DCs whose replica does not have the account yet.
func missingOn(w *sim.World, name string) (int, error) {
	n := 0
	for _, dc := range w.DCs() {
		ok, err := w.Exists(dc.Name(), name)
		if err != nil {
			return 0, err
		}
		if !ok {
			n++
		}
	}
	return n, nil
}
