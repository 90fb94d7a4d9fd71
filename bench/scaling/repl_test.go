//go:build unix

package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/sim"
)

// TestReplication: in a mesh every DC is one link delay (15 s) from DC1 and the change crosses
// each of the n(n-1)/2 links once (n-1 deliveries, then the echoes the up-to-dateness vectors
// filter); around a ring it takes n/2 hops and n deliveries.
func TestReplication(t *testing.T) {
	for _, c := range []struct {
		top        string
		dcs, hops  int
		deliveries int
	}{
		{"mesh", 2, 1, 1}, {"mesh", 4, 1, 6}, {"ring", 2, 1, 1}, {"ring", 5, 2, 5}, {"ring", 6, 3, 6},
	} {
		r, err := RunRepl(3, c.top, c.dcs)
		if err != nil {
			t.Fatalf("%s of %d: %v", c.top, c.dcs, err)
		}
		if r.Hops != c.hops || r.SimTime != time.Duration(c.hops)*15*time.Second || r.Events != c.deliveries {
			t.Errorf("%s of %d DCs: %d hops, %v, %d deliveries; want %d hops, %v, %d deliveries", c.top, c.dcs,
				r.Hops, r.SimTime, r.Events, c.hops, time.Duration(c.hops)*15*time.Second, c.deliveries)
		}
		if r.Heap == 0 || r.AllocBytes == 0 || r.Wall <= 0 {
			t.Errorf("%s of %d DCs: %+v: heap, allocations or wall time not measured", c.top, c.dcs, r)
		}
	}
	if _, err := RunRepl(3, "star", 3); err == nil {
		t.Error("an unknown topology was accepted")
	}
}

// BenchmarkReplication is one change replicated to every DC and on until quiet (the probes that
// look whether every DC has it included).
func BenchmarkReplication(b *testing.B) {
	for _, top := range Topologies {
		for _, n := range []int{2, 5, 10, 20} {
			b.Run(fmt.Sprintf("%s/dcs=%d", top, n), func(b *testing.B) {
				cfg, err := replConfig(1, top, n)
				if err != nil {
					b.Fatal(err)
				}
				w, err := sim.New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := replicateOne(w, fmt.Sprintf("Bench%d", i), 15*time.Second, n); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
