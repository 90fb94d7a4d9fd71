package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
)

func rotationLines(w *World) []string {
	var out []string
	for _, l := range w.Trace() {
		if strings.Contains(l, "rotated the password") {
			out = append(out, l)
		}
	}
	return out
}

// A lazy rotation performed by an LDAP search of msDS-ManagedPassword (not World.ManagedPassword)
// is traced once, with the DC, the account, the time of the read and the next rotation; a read
// the gMSA's SD refuses rotates nothing.
func TestLazyRotationOnSearchIsTraced(t *testing.T) {
	w := twoDCWorld(t)
	eff := ad.FileTimeFromTime(w.Now().Add(-10 * time.Hour))
	if _, err := w.AddKdsRootKey("DC1", fakekds.AddOptions{EffectiveTime: &eff}); err != nil {
		t.Fatal(err)
	}
	if err := newGMSAOn(w, "DC1", kdsGMSADN, "ITFarm1"); err != nil {
		t.Fatal(err)
	}
	if err := w.Advance(31 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	search := func(c fakead.Caller) int {
		var n int
		if err := w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
			res, err := d.Search(now, c, &fakead.SearchRequest{BaseDN: kdsGMSADN, Scope: fakead.ScopeBase,
				Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: []string{"msDS-ManagedPassword"}})
			if err != nil {
				return err
			}
			for _, a := range res[0].Attributes {
				n += len(a.Values)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Alice is not in msDS-GroupMSAMembership (nobody is): no password, no rotation.
	dn := addUser(t, w, "DC1", "alice")
	var alice fakead.Caller
	if err := w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		var err error
		alice, err = d.CallerFor(dn, true)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := search(alice); n != 0 {
		t.Fatalf("alice read %d values of msDS-ManagedPassword, want 0", n)
	}
	if got := rotationLines(w); len(got) != 0 {
		t.Fatalf("a refused read rotated: %q", got)
	}
	sys := fakead.SystemCaller
	sys.Encrypted = true
	if n := search(sys); n != 1 {
		t.Fatalf("SYSTEM read %d values, want 1", n)
	}
	want := "+744h00m00s DC1 rotated the password of " + kdsGMSADN + " (next rotation "
	got := rotationLines(w)
	if len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Fatalf("rotation trace = %q, want one line starting %q", got, want)
	}
	if n := search(sys); n != 1 || len(rotationLines(w)) != 1 {
		t.Errorf("a second read: %d values, %d rotation lines; want 1 and still 1", n, len(rotationLines(w)))
	}
}
