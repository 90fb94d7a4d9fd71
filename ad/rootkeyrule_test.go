package ad

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The two readings at the document's example: -EffectiveImmediately at 10:30 is usable from 14:00
// (the next 10-hour boundary counted from 1601) or from 20:35 (10 h 5 min later); and for random
// times, a key is eligible exactly from UsableFrom on.
func TestRootKeyRule(t *testing.T) {
	at := func(s string) FileTime {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return FileTimeFromTime(tm)
	}
	use := at("2026-11-23T10:30:00Z")
	for rule, want := range map[RootKeyRule]string{RuleIntervalStart: "2026-11-23T14:00:00Z", RuleOneIntervalAgo: "2026-11-23T20:35:00Z"} {
		if got := rule.UsableFrom(use).Time().UTC().Format(time.RFC3339); got != want {
			t.Errorf("%s: usable from %s, want %s", rule, got, want)
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		u := FileTime(rnd.Uint64N(uint64(at("2100-01-01T00:00:00Z"))))
		c := u + FileTime(rnd.Int64N(int64(3*RootKeyCycle))) - RootKeyCycle
		for _, rule := range []RootKeyRule{RuleIntervalStart, RuleOneIntervalAgo} {
			if got, want := rule.Eligible(u, c), c >= rule.UsableFrom(u); got != want {
				t.Fatalf("%s: use-start %d, created %d: eligible %v, but usable from %d", rule, u, c, got, rule.UsableFrom(u))
			}
		}
	}
	if r, err := ParseRootKeyRule(""); err != nil || r != RuleIntervalStart {
		t.Errorf(`ParseRootKeyRule(""): %v %v`, r, err)
	}
	if _, err := ParseRootKeyRule("ten-hours"); err == nil {
		t.Error("ParseRootKeyRule accepted ten-hours")
	}
}
