package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
)

// TestRandomHistoriesConverge is the replication invariant under random histories (pebble's
// metamorphic idea): for each seed, random adds, modifies and deletes land on random DCs while
// links are cut and healed, DCs stopped and started, and time advances by random amounts; once
// everything is healed and settled, every replica must be identical (CheckConverged). A failure
// prints the seed and the operations.
func TestRandomHistoriesConverge(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { randomHistory(t, seed, 120) })
	}
}

func randomHistory(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0xc0ffee))
	dcs := []string{"DC1", "DC2", "DC3"}
	delays := []time.Duration{15 * time.Second, 5 * time.Minute, time.Hour}
	w := newTestWorld(t, Config{Seed: seed, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}, {Name: "DC3"}},
		Links: []LinkSpec{{A: "DC1", B: "DC2", Delay: delays[rng.IntN(3)]}, {A: "DC2", B: "DC3", Delay: delays[rng.IntN(3)]},
			{A: "DC1", B: "DC3", Delay: delays[rng.IntN(3)]}}})
	var log []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed=%d: %s\noperations:\n%s", seed, fmt.Sprintf(format, args...), joinLines(log))
	}
	users := 0
	for i := 0; i < steps; i++ {
		dc := dcs[rng.IntN(3)]
		var op string
		var err error
		switch k := rng.IntN(10); {
		case k < 3:
			users++
			cn := fmt.Sprint("u", users)
			op = "add " + dc + " " + cn
			err = w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
				return d.Add(now, fakead.SystemCaller, "CN="+cn+","+usersDN, []fakead.Attribute{
					{Name: "objectClass", Values: [][]byte{[]byte("user")}},
					{Name: "sAMAccountName", Values: [][]byte{[]byte(cn)}}})
			})
		case k < 6 && users > 0:
			cn := fmt.Sprint("u", 1+rng.IntN(users))
			val := fmt.Sprint("d", i)
			op = "modify " + dc + " " + cn + " description=" + val
			err = w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
				return d.Modify(now, fakead.SystemCaller, "CN="+cn+","+usersDN, []fakead.Modification{
					{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: "description", Values: [][]byte{[]byte(val)}}}})
			})
		case k < 7 && users > 0 && rng.IntN(2) == 0:
			cn := fmt.Sprint("u", 1+rng.IntN(users))
			op = "delete " + dc + " " + cn
			err = w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
				return d.Delete(now, fakead.SystemCaller, "CN="+cn+","+usersDN)
			})
		case k < 7 && rng.IntN(3) == 0:
			a, b := dcs[rng.IntN(3)], dcs[rng.IntN(3)]
			if a == b {
				continue
			}
			d := delays[rng.IntN(3)]
			op, err = fmt.Sprintf("delay %s-%s %v", a, b, d), w.SetLinkDelay(a, b, d)
		case k < 7 && users > 0:
			n := 1 + rng.IntN(users)
			cn := fmt.Sprint("u", n)
			users++
			op = fmt.Sprintf("rename %s %s u%d", dc, cn, users)
			newRDN := fmt.Sprint("CN=u", users)
			err = w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
				return d.ModifyDN(now, fakead.SystemCaller, "CN="+cn+","+usersDN, newRDN, true, "")
			})
		case k < 8 && rng.IntN(3) == 0:
			// The same name added on two DCs before they hear of each other: AD keeps both,
			// renaming one with a CNF: mangle.
			cn := fmt.Sprint("same", rng.IntN(3))
			op = "add " + dc + " " + cn
			err = w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
				return d.Add(now, fakead.SystemCaller, "CN="+cn+","+usersDN, []fakead.Attribute{
					{Name: "objectClass", Values: [][]byte{[]byte("contact")}}})
			})
		case k < 8:
			a, b := dcs[rng.IntN(3)], dcs[rng.IntN(3)]
			if a == b {
				continue
			}
			if rng.IntN(2) == 0 {
				op, err = "cut "+a+" "+b, w.CutLink(a, b)
			} else {
				op, err = "heal "+a+" "+b, w.HealLink(a, b)
			}
		case k < 9:
			if rng.IntN(2) == 0 {
				op, err = "stop "+dc, w.StopDC(dc)
			} else {
				op, err = "start "+dc, w.StartDC(dc)
			}
		default:
			d := time.Duration(rng.IntN(7200)) * time.Second
			op, err = "advance "+d.String(), w.Advance(d)
		}
		if op == "" {
			continue
		}
		log = append(log, op)
		// Model refusals (the object is not on that DC yet, was deleted, the DC is stopped) are
		// part of a random history; world failures are not.
		if code := fakead.CodeOf(err); err != nil && code != fakead.NoSuchObject && code != fakead.Unavailable &&
			code != fakead.EntryAlreadyExists {
			fail("%s: %v", op, err)
		}
	}
	for _, a := range dcs {
		if err := w.StartDC(a); err != nil {
			fail("start %s: %v", a, err)
		}
		for _, b := range dcs {
			if a < b {
				if err := w.HealLink(a, b); err != nil {
					fail("heal: %v", err)
				}
			}
		}
	}
	if err := w.Settle(); err != nil {
		fail("settle: %v", err)
	}
	if err := w.CheckConverged(); err != nil {
		fail("%v", err)
	}
}

func joinLines(ls []string) string {
	out := ""
	for _, l := range ls {
		out += "  " + l + "\n"
	}
	return out
}
