package fakead

import (
	"strings"
	"testing"
)

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

func BenchmarkExportImportLDIF(b *testing.B) {
	ds, err := NewDomain(testConfig(), &seqIDs{}, t0)
	if err != nil {
		b.Fatal(err)
	}
	x := exportString(b, ds[0])
	b.ReportAllocs()
	for b.Loop() {
		d, err := ImportLDIF(strings.NewReader(x))
		if err != nil {
			b.Fatal(err)
		}
		exportString(b, d)
	}
}
