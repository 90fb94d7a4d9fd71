package fakead

import "testing"

func BenchmarkNewDomain(b *testing.B) {
	if _, err := NewDomain(testConfig(), &seqIDs{}, t0); err != nil { // warm the parse caches
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewDomain(testConfig(), &seqIDs{}, t0); err != nil {
			b.Fatal(err)
		}
	}
}
