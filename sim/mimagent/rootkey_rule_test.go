package mimagent_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/migrate"
)

// One root-key rule (issue 14): for random key use-start times and DC clocks, under both readings,
// the engine's preflight rule (migrate.RootKeyRule) says a key is eligible exactly when the
// simulated DC's KDS (fakekds.Policy, what New-ADServiceAccount asks) gives a new gMSA that key;
// and preflight's "usable from" is the first moment the DC accepts it — refused a microsecond
// before, accepted at it.
func TestEngineAndDCShareOneRootKeyRule(t *testing.T) {
	rnd := rand.New(rand.NewPCG(14, 2026))
	base := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	for _, pair := range []struct {
		engine migrate.RootKeyRule
		dc     fakekds.CreationRule
	}{{migrate.RuleIntervalStart, fakekds.RuleIntervalStart}, {migrate.RuleOneIntervalAgo, fakekds.RuleOneIntervalAgo}} {
		policy := fakekds.Policy{CreationRule: pair.dc}
		if string(pair.engine) != pair.dc.String() {
			t.Errorf("the engine's rule %q and the DC's %q have different names", pair.engine, pair.dc)
		}
		for i := 0; i < 400; i++ {
			created := base.Add(time.Duration(rnd.Int64N(int64(72 * time.Hour))))
			useStart := created.Add(time.Duration(rnd.Int64N(int64(24*time.Hour))) - 12*time.Hour).Truncate(time.Microsecond)
			ft := ad.FileTimeFromTime(useStart)
			key, err := fakekds.AddKdsRootKey(rnd2(rnd), ad.FileTimeFromTime(created), "CN=DC1,OU=Domain Controllers,DC=contoso,DC=com",
				fakekds.AddOptions{EffectiveTime: &ft})
			if err != nil {
				t.Fatal(err)
			}
			dcAccepts := func(now time.Time) bool {
				_, err := policy.RootKeyForNewAccount([]*fakekds.RootKey{key}, ad.FileTimeFromTime(now))
				return err == nil
			}
			now := useStart.Add(time.Duration(rnd.Int64N(int64(24*time.Hour))) - 2*time.Hour).Truncate(time.Microsecond)
			if got, want := pair.engine.Eligible(useStart, now), dcAccepts(now); got != want {
				t.Fatalf("%s: use-start %s, DC time %s: preflight says eligible=%v, the DC %v", pair.engine, useStart, now, got, want)
			}
			from := pair.engine.UsableFrom(useStart)
			if dcAccepts(from.Add(-time.Microsecond)) || !dcAccepts(from) {
				t.Fatalf("%s: use-start %s: preflight says usable from %s; the DC accepts a microsecond before: %v, at it: %v",
					pair.engine, useStart, from, dcAccepts(from.Add(-time.Microsecond)), dcAccepts(from))
			}
		}
	}
}

// rnd2 is a byte stream for the key's id and data.
func rnd2(r *rand.Rand) *byteReader { return &byteReader{r} }

type byteReader struct{ r *rand.Rand }

func (b *byteReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b.r.Uint32())
	}
	return len(p), nil
}
