package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
)

// BenchmarkNew measures sim.New to a queryable domain (target: < 10 ms for one DC). Each iteration
// also answers one base search, so "queryable" is part of what is timed.
func BenchmarkNew(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("dcs=%d", n), func(b *testing.B) {
			cfg := Config{Seed: 1}
			for i := 1; i <= n; i++ {
				cfg.DCs = append(cfg.DCs, DCSpec{Name: fmt.Sprintf("DC%d", i)})
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				cfg.Seed = uint64(i)
				w, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if _, ok := readAttr(b, w, "DC1", "CN=Schema,CN=Configuration,DC=contoso,DC=com", "objectVersion"); !ok {
					b.Fatal("schema object missing")
				}
			}
		})
	}
}

// BenchmarkReplicate measures replicating N changes (one attribute each, on N objects) from DC1 to
// DC2 and their damped echo: capture, copy, deliver, apply, forward.
func BenchmarkReplicate(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("changes=%d", n), func(b *testing.B) {
			w, err := New(twoDCs(time.Second))
			if err != nil {
				b.Fatal(err)
			}
			dns := make([]string, n)
			for i := range dns {
				dns[i] = addUser(b, w, "DC1", fmt.Sprintf("bench%d", i))
			}
			if err := w.Settle(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				val := []byte(fmt.Sprint("v", i))
				err := w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
					for _, dn := range dns {
						if err := d.Modify(now, fakead.SystemCaller, dn, []fakead.Modification{
							{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: "description", Values: [][]byte{val}}}}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Settle(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemReplicate is the world's own share of replication (scheduling, copying, filtering),
// with the stand-in replica instead of the model.
func BenchmarkMemReplicate(b *testing.B) {
	const n = 1000
	w, r := memWorld(b, Config{Seed: 1, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}, {Name: "DC3"}}})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Exec(func(now time.Time) error {
			for j := 0; j < n; j++ {
				r["DC1"].write(now, byte(j), "a", "v")
			}
			return nil
		})
		if err := w.Settle(); err != nil {
			b.Fatal(err)
		}
	}
}
