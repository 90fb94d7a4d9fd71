package sim

import (
	"fmt"
	"testing"
)

// BenchmarkCheckConverged is the convergence check on three quiet replicas of a fresh domain with
// 50 users: what the scenario runner pays after every scenario.
func BenchmarkCheckConverged(b *testing.B) {
	cfg := Config{Seed: 1}
	for i := 1; i <= 3; i++ {
		cfg.DCs = append(cfg.DCs, DCSpec{Name: fmt.Sprintf("DC%d", i)})
	}
	w, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		addUser(b, w, "DC1", fmt.Sprintf("bench%d", i))
	}
	if err := w.Settle(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := w.CheckConverged(); err != nil {
			b.Fatal(err)
		}
	}
}
