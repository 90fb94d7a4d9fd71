//go:build unix

package main

import (
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// Year is the simulated time of the farm sweep.
const Year = 365 * 24 * time.Hour

// Farm is a world of n gMSAs, each installed on its own member host: host Hnnnn may retrieve the
// password of gMSA Gnnnn (PrincipalsAllowedToRetrieveManagedPassword names the host's account),
// and has run Install-ADServiceAccount, so its cache refreshes itself before every rotation (every
// 30 days), which makes the DC rotate the password.
type Farm struct {
	W     *sim.World
	Fleet *host.Fleet
	N     int
}

func farmHost(i int) string { return fmt.Sprintf("H%05d", i) }
func farmGMSA(i int) string { return fmt.Sprintf("G%05d", i) }

// NewFarm builds the farm on one DC: a root key usable at once (the lab shortcut, effective 10
// hours ago), n hosts, n gMSAs, n installs. The simulated clock stays where the world started.
func NewFarm(seed uint64, n int) (*Farm, error) {
	w, err := sim.New(sim.Config{Seed: seed})
	if err != nil {
		return nil, err
	}
	dc := w.Config().DCs[0].Name
	if _, err := w.AddRootKey(dc, sim.RootKeyOptions{EffectiveTime: w.Now().Add(-10 * time.Hour)}); err != nil {
		return nil, fmt.Errorf("farm of %d: Add-KdsRootKey: %w", n, err)
	}
	f := &Farm{W: w, Fleet: host.NewFleet(w), N: n}
	for i := range n {
		if _, err := f.Fleet.Add(host.Spec{Name: farmHost(i), OS: "2019"}); err != nil {
			return nil, fmt.Errorf("farm of %d: host %s: %w", n, farmHost(i), err)
		}
	}
	for i := range n {
		s := sim.GMSASpec{Name: farmGMSA(i), DNSHostName: farmGMSA(i) + ".contoso.com",
			PrincipalsAllowedToRetrieve: []string{farmHost(i) + "$"}}
		if _, err := w.NewGMSA(dc, s); err != nil {
			return nil, fmt.Errorf("farm of %d: gMSA %s: %w", n, farmGMSA(i), err)
		}
	}
	for i := range n {
		if err := f.Fleet.Host(farmHost(i)).InstallADServiceAccount(farmGMSA(i)); err != nil {
			return nil, fmt.Errorf("farm of %d: %s: Install-ADServiceAccount %s: %w", n, farmHost(i), farmGMSA(i), err)
		}
	}
	return f, nil
}

// FarmResult is one point of the farm sweep.
type FarmResult struct {
	GMSAs      int
	Setup      time.Duration // wall time of NewFarm
	Wall       time.Duration // wall time of the simulated year
	CPU        time.Duration // CPU time of this process over the year (user + system, GC included)
	Events     int           // events the year ran (cache refreshes, rotations' replication)
	Allocs     uint64        // heap allocations during the year
	AllocBytes uint64        // bytes allocated during the year
	Heap       uint64        // live heap after the year (after a GC)
	Rotations  int           // sum over the gMSAs of their key version number's increase
}

// SimPerWall is simulated seconds per wall second over the year.
func (r FarmResult) SimPerWall() float64 { return Year.Seconds() / r.Wall.Seconds() }

// RunFarm builds a farm of n gMSAs and advances it one year, measuring the year alone. It then
// checks the work was done: every host's cache holds its gMSA's current password as the DC
// computes it (Fleet.CheckCaches), and every gMSA rotated (its kvno went up).
func RunFarm(seed uint64, n int) (FarmResult, error) {
	t0 := time.Now() // wallclock: a benchmark measures wall time
	f, err := NewFarm(seed, n)
	if err != nil {
		return FarmResult{}, err
	}
	r := FarmResult{GMSAs: n, Setup: time.Since(t0)} // wallclock: a benchmark measures wall time
	kv0, err := f.kvnos()
	if err != nil {
		return r, err
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	e0 := f.W.EventsRun()
	c0 := cpuTime()
	t1 := time.Now() // wallclock: a benchmark measures wall time
	if err := f.W.Advance(Year); err != nil {
		return r, fmt.Errorf("farm of %d: a year: %w", n, err)
	}
	r.Wall = time.Since(t1) // wallclock: a benchmark measures wall time
	r.CPU = cpuTime() - c0
	runtime.ReadMemStats(&m1)
	r.Events = f.W.EventsRun() - e0
	r.Allocs, r.AllocBytes = m1.Mallocs-m0.Mallocs, m1.TotalAlloc-m0.TotalAlloc
	runtime.GC()
	runtime.ReadMemStats(&m1)
	r.Heap = m1.HeapAlloc
	if err := f.Fleet.CheckCaches(); err != nil {
		return r, fmt.Errorf("farm of %d after a year: %w", n, err)
	}
	kv1, err := f.kvnos()
	if err != nil {
		return r, err
	}
	for i := range kv1 {
		if kv1[i] <= kv0[i] {
			return r, fmt.Errorf("farm of %d: %s kept kvno %d through a year", n, farmGMSA(i), kv1[i])
		}
		r.Rotations += kv1[i] - kv0[i]
	}
	runtime.KeepAlive(f)
	return r, nil
}

// cpuTime is this process' CPU time so far (getrusage RUSAGE_SELF: user + system, all threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// kvnos is every gMSA's stored key version number on the DC.
func (f *Farm) kvnos() ([]int, error) {
	dc := f.W.Config().DCs[0].Name
	out := make([]int, f.N)
	for i := range out {
		k, err := f.W.StoredKVNO(dc, farmGMSA(i))
		if err != nil {
			return nil, fmt.Errorf("farm of %d: kvno of %s: %w", f.N, farmGMSA(i), err)
		}
		out[i] = k
	}
	return out, nil
}
