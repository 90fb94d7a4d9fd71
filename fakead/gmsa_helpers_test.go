package fakead

import (
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// fixedRand is a deterministic byte stream for root-key creation in tests.
type fixedRand struct{ n byte }

func (r *fixedRand) Read(p []byte) (int, error) {
	for i := range p {
		r.n++
		p[i] = r.n*31 + 7
	}
	return len(p), nil
}

// addRootKey writes a root key created at created, as Add-KdsRootKey does (an LDAP add of
// RootKey.Attributes()), on d as caller c.
func addRootKey(t testing.TB, d *Directory, c Caller, created time.Time, opt fakekds.AddOptions, rnd *fixedRand) *fakekds.RootKey {
	t.Helper()
	rk, err := fakekds.AddKdsRootKey(rnd, ad.FileTimeFromTime(created), "CN=DC1,OU=Domain Controllers,DC=contoso,DC=com", opt)
	if err != nil {
		t.Fatal(err)
	}
	var attrs []Attribute
	for _, a := range rk.Attributes() {
		attrs = append(attrs, Attribute{Name: a.Name, Values: a.Values})
	}
	if err := d.Add(created, c, rk.DN(d.DomainDN()), attrs); err != nil {
		t.Fatalf("adding root key: %v", err)
	}
	return rk
}

// addUsableRootKey adds, as SYSTEM, a key effective 10 hours before t0 (the lab recipe
// Add-KdsRootKey -EffectiveTime ((Get-Date).AddHours(-10))), usable for gMSAs created at t0.
func addUsableRootKey(t testing.TB, d *Directory) *fakekds.RootKey {
	t.Helper()
	eff := ad.FileTimeFromTime(t0.Add(-10 * time.Hour))
	return addRootKey(t, d, SystemCaller, t0, fakekds.AddOptions{EffectiveTime: &eff}, &fixedRand{})
}
