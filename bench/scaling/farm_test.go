//go:build unix

package main

import (
	"fmt"
	"testing"
)

// TestFarmYear: a year of a 3-gMSA farm rotates each password 12 times (365 days over a 30-day
// interval; the first rotation is due 30 days after creation) and leaves every host's cache on
// its gMSA's current password (RunFarm checks the caches itself).
func TestFarmYear(t *testing.T) {
	r, err := RunFarm(7, 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.GMSAs != 3 || r.Rotations != 3*12 {
		t.Errorf("gMSAs %d rotations %d, want 3 and 36 (12 each)", r.GMSAs, r.Rotations)
	}
	if r.Events == 0 || r.Allocs == 0 || r.AllocBytes == 0 || r.Wall <= 0 {
		t.Errorf("result %+v: no events, allocations or wall time measured", r)
	}
}

// BenchmarkFarmYear is one simulated year of the farm sweep per iteration (the setup excluded):
// ns/op grows linearly with the gMSAs, each rotating twelve times.
func BenchmarkFarmYear(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("gmsas=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				f, err := NewFarm(uint64(i+1), n)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := f.W.Advance(Year); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
