package fakekds

import (
	"testing"

	"github.com/gmsasim/gmsasim/ad"
)

// Benchmarks (issue 3). Bound for a cold password: 1 + (32−L1) + (32−L2) seed-key KDF runs plus
// one password run; target for a warm chain: ≤ 2× one KDF run. Each reports KDF runs per op.

var benchSID = ad.SID{Authority: 5, SubAuthority: []uint32{21, 1437000690, 1664695696, 1586295871, 1112}}

func BenchmarkKDFSeedKey(b *testing.B) {
	rk := goldenLabKey(b)
	ctx := seedContext(rk.ID, 360, -1, -1, nil)
	for b.Loop() {
		KDF(SHA512, rk.Data, kdsServiceLabel, ctx, SeedKeyLength)
	}
}

func BenchmarkKDFPassword(b *testing.B) {
	rk := goldenLabKey(b)
	sid := benchSID.Bytes()
	for b.Loop() {
		KDF(SHA512, rk.Data, gmsaPasswordLabel, sid, PasswordLength)
	}
}

// Worst case for the cold chain: L1 = 0, L2 = 0 (1 + 32 + 32 seed runs).
func BenchmarkPasswordColdChain(b *testing.B) {
	rk := goldenLabKey(b)
	var runs uint64
	for b.Loop() {
		d := NewDeriver()
		if _, err := d.Password(rk, GKID{360, 0, 0}, benchSID); err != nil {
			b.Fatal(err)
		}
		runs += d.KDFRuns()
	}
	b.ReportMetric(float64(runs)/float64(b.N), "kdf-runs/op")
}

func BenchmarkPasswordWarmChain(b *testing.B) {
	rk := goldenLabKey(b)
	d := NewDeriver()
	g := GKID{360, 16, 3}
	d.Password(rk, g, benchSID)
	start := d.KDFRuns()
	for b.Loop() {
		if _, err := d.Password(rk, g, benchSID); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(d.KDFRuns()-start)/float64(b.N), "kdf-runs/op")
}

// 1,000 gMSAs read in one interval through ManagedPassword, each with its own SID: one op is
// the whole batch.
func BenchmarkManagedPassword1000GMSAsOneInterval(b *testing.B) {
	rk := goldenLabKey(b)
	keys := []*RootKey{rk}
	created := GKID{360, 16, 3}.StartFileTime() + KeyCycleDuration/2
	id := NewPasswordID(rk.ID, GKIDFromFileTime(created), "contoso.com", "contoso.com").Marshal()
	accts := make([]Account, 1000)
	for i := range accts {
		sid := ad.SID{Authority: 5, SubAuthority: []uint32{21, 1, 2, 3, uint32(1000 + i)}}
		accts[i] = Account{SID: sid, Created: created, CurrentID: id, Domain: "contoso.com", Forest: "contoso.com"}
	}
	d := NewDeriver()
	var runs uint64
	for b.Loop() {
		before := d.KDFRuns()
		for _, a := range accts {
			if _, err := d.ManagedPassword(keys, a, created+Day); err != nil {
				b.Fatal(err)
			}
		}
		runs += d.KDFRuns() - before
	}
	b.ReportMetric(float64(runs)/float64(b.N)/1000, "kdf-runs/gmsa")
}
