package host

import (
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/sim"
)

// A year of a three-host farm: about twelve rotations, each host refreshing its cache before each.
// Cost grows with events, not with simulated time.
func BenchmarkHostFarmYear(b *testing.B) {
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		w := newFarmWorld(b, sim.Config{Seed: uint64(60 + i%4)}, host("Web1", "ITFarmHosts"), host("Web2", "ITFarmHosts"), host("Web3", "ITFarmHosts"))
		newGMSA(b, w, "28")
		for _, h := range w.Hosts() {
			if err := h.InstallADServiceAccount(farmGMSAName); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := w.Advance(365 * 24 * time.Hour); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
	}
}
