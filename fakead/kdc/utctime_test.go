package kdc

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// utcTime gives time.Parse's result for every YYYYMMDDHHMMSSZ that time.Parse takes back (month
// ends, leap days, the last second of a day), and refuses the ones out of range, which time.Parse
// then refuses too: on edge values and 20000 random digit strings.
func TestUTCTimeEqualsParse(t *testing.T) {
	const layout = "20060102150405Z0700"
	check := func(s string) {
		t.Helper()
		want, err := time.Parse(layout, s)
		parsed := err == nil && want.Format(layout) == s
		got, ok := utcTime([]byte(s))
		switch {
		case ok && !parsed:
			t.Fatalf("%s: utcTime takes %v, time.Parse does not (%v)", s, got, err)
		case ok && !reflect.DeepEqual(got, want):
			t.Fatalf("%s: utcTime %#v, time.Parse %#v", s, got, want)
		case !ok && parsed && len(s) == 15 && s[14] == 'Z':
			t.Fatalf("%s: utcTime refuses what time.Parse takes", s)
		}
	}
	for _, s := range []string{"20240229235959Z", "20230229000000Z", "20260431120000Z", "20261231235959Z",
		"20260101240000Z", "20260101006000Z", "20260101000060Z", "00000101000000Z", "99991231235959Z",
		"20261301000000Z", "20260001000000Z", "20260100000000Z", "2026010100000Z", "20260101000000+0000", "2026010100000aZ"} {
		check(s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		s := fmt.Sprintf("%04d%02d%02d%02d%02d%02dZ", r.IntN(10000), r.IntN(14), r.IntN(33), r.IntN(26), r.IntN(62), r.IntN(62))
		check(s)
	}
}
