package fakead

import "testing"

// BenchmarkManagedPasswordRead is one search of a gMSA's msDS-ManagedPassword by an allowed host
// over an encrypted connection, within one interval (warm seed-key chain, no rotation).
func BenchmarkManagedPasswordRead(b *testing.B) {
	f := newFarmB(b)
	web1 := f.callers["WEB1"]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok, err := readPassword(f.d, web1, t0, farmDN); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
