package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
)

// These tests drive the replication machinery with memReplica stand-ins; world_test.go repeats
// the acceptance cases against the real directory model.

func twoDCs(delay time.Duration) Config {
	return Config{Seed: 11, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}}, LinkDelay: delay}
}

func TestMemReplicationArrivesAfterLinkDelay(t *testing.T) {
	w, r := memWorld(t, twoDCs(time.Hour))
	write(t, w, r["DC1"], 1, "description", "v1")
	mustAdvance(t, w, 59*time.Minute)
	if got := r["DC2"].get(1, "description"); got != "" {
		t.Fatalf("DC2 at +59m has %q, want nothing yet", got)
	}
	mustAdvance(t, w, 2*time.Minute)
	if got := r["DC2"].get(1, "description"); got != "v1" {
		t.Fatalf("DC2 at +61m has %q, want v1", got)
	}
	want := "+0s world seed=11 domain=contoso.com netbios=CONTOSO schema=88 sid=" + DomainSID(11) + " dcs=DC1,DC2\n" +
		"+1h00m00s DC2 replicated 1 change from DC1"
	if got := traceText(w); got != want {
		t.Errorf("trace =\n%s\nwant\n%s", got, want)
	}
	if err := w.CheckConverged(); err != nil {
		t.Errorf("CheckConverged: %v", err)
	}
}

func TestMemReplicationCarriesValuesAsOfTheWrite(t *testing.T) {
	w, r := memWorld(t, twoDCs(time.Hour))
	write(t, w, r["DC1"], 1, "description", "v1")
	mustAdvance(t, w, 30*time.Minute)
	write(t, w, r["DC1"], 1, "description", "v2")
	mustAdvance(t, w, 31*time.Minute) // +61m
	if got := r["DC2"].get(1, "description"); got != "v1" {
		t.Fatalf("DC2 at +61m has %q, want v1 (v2 was written at +30m and is due at +90m)", got)
	}
	mustAdvance(t, w, 30*time.Minute) // +91m
	if got := r["DC2"].get(1, "description"); got != "v2" {
		t.Fatalf("DC2 at +91m has %q, want v2", got)
	}
}

func TestMemReplicationStaysFIFOWhenDelayShrinks(t *testing.T) {
	w, r := memWorld(t, twoDCs(time.Hour))
	write(t, w, r["DC1"], 1, "description", "v1")
	if err := w.SetLinkDelay("dc2", "dc1", time.Minute); err != nil {
		t.Fatal(err)
	}
	write(t, w, r["DC1"], 2, "description", "other")
	mustAdvance(t, w, 59*time.Minute)
	if got := r["DC2"].get(2, "description"); got != "" {
		t.Fatalf("the later write overtook the earlier one: DC2 has obj2=%q at +59m", got)
	}
	mustAdvance(t, w, 2*time.Minute)
	if r["DC2"].get(1, "description") != "v1" || r["DC2"].get(2, "description") != "other" {
		t.Fatalf("DC2 at +61m: obj1=%q obj2=%q", r["DC2"].get(1, "description"), r["DC2"].get(2, "description"))
	}
	if d, _ := w.LinkDelay("DC1", "DC2"); d != time.Minute {
		t.Errorf("LinkDelay = %v, want 1m", d)
	}
}

func TestMemCutLinkHoldsUntilHealed(t *testing.T) {
	w, r := memWorld(t, twoDCs(time.Hour))
	if err := w.CutLink("DC1", "DC2"); err != nil {
		t.Fatal(err)
	}
	write(t, w, r["DC1"], 1, "description", "v1")
	mustAdvance(t, w, 5*time.Hour)
	if got := r["DC2"].get(1, "description"); got != "" {
		t.Fatalf("DC2 got %q over a cut link", got)
	}
	if err := w.CheckConverged(); !errors.Is(err, ErrNotQuiescent) || !strings.Contains(err.Error(), "link DC1-DC2 is cut") {
		t.Errorf("CheckConverged while cut = %v, want ErrNotQuiescent naming the link", err)
	}
	if w.PendingDeliveries() != 1 {
		t.Errorf("pending = %d, want 1", w.PendingDeliveries())
	}
	if err := w.HealLink("DC2", "DC1"); err != nil {
		t.Fatal(err)
	}
	mustAdvance(t, w, 59*time.Minute)
	if got := r["DC2"].get(1, "description"); got != "" {
		t.Fatalf("DC2 got %q before the delay after the heal", got)
	}
	mustAdvance(t, w, 2*time.Minute)
	if got := r["DC2"].get(1, "description"); got != "v1" {
		t.Fatalf("DC2 at heal+61m has %q, want v1", got)
	}
	tr := traceText(w)
	for _, want := range []string{"+0s link DC1-DC2 cut", "+1h00m00s DC2 replication from DC1 waits: link DC1-DC2 is cut",
		"+5h00m00s link DC1-DC2 healed", "+6h00m00s DC2 replicated 1 change from DC1"} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q:\n%s", want, tr)
		}
	}
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	if err := w.CheckConverged(); err != nil {
		t.Errorf("CheckConverged after heal: %v", err)
	}
}

func TestMemChainPropagation(t *testing.T) {
	cfg := Config{Seed: 3, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}, {Name: "DC3"}},
		Links: []LinkSpec{{A: "DC1", B: "DC2", Delay: time.Hour}, {A: "DC2", B: "DC3", Delay: 2 * time.Hour}}}
	w, r := memWorld(t, cfg)
	if _, err := w.LinkDelay("DC1", "DC3"); !errors.Is(err, ErrUnknownLink) {
		t.Fatalf("DC1-DC3 link = %v, want ErrUnknownLink", err)
	}
	write(t, w, r["DC1"], 1, "description", "from1")
	mustAdvance(t, w, 2*time.Hour+59*time.Minute)
	if r["DC2"].get(1, "description") != "from1" || r["DC3"].get(1, "description") != "" {
		t.Fatalf("at +2h59m: DC2=%q DC3=%q, want from1 and nothing", r["DC2"].get(1, "description"), r["DC3"].get(1, "description"))
	}
	mustAdvance(t, w, 2*time.Minute)
	if got := r["DC3"].get(1, "description"); got != "from1" {
		t.Fatalf("DC3 at +3h01m has %q, want from1 (via DC2)", got)
	}
	write(t, w, r["DC3"], 2, "description", "from3")
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	if got := r["DC1"].get(2, "description"); got != "from3" {
		t.Fatalf("DC1 has %q, want from3 (via DC2)", got)
	}
	if err := w.CheckConverged(); err != nil {
		t.Error(err)
	}
}

func TestMemStoppedDCCatchesUp(t *testing.T) {
	w, r := memWorld(t, twoDCs(time.Hour))
	if err := w.StopDC("dc2"); err != nil {
		t.Fatal(err)
	}
	err := w.ExecOn("DC2", func(time.Time, *fakead.Directory) error { t.Error("ran on a stopped DC"); return nil })
	if fakead.CodeOf(err) != fakead.Unavailable || !strings.Contains(err.Error(), "DC2 is stopped") {
		t.Errorf("ExecOn stopped DC = %v, want unavailable", err)
	}
	write(t, w, r["DC1"], 1, "description", "v1")
	mustAdvance(t, w, 10*time.Hour)
	if r["DC2"].get(1, "description") != "" || r["DC2"].applied != 0 {
		t.Fatalf("a stopped DC received changes")
	}
	if err := w.StartDC("DC2"); err != nil {
		t.Fatal(err)
	}
	mustAdvance(t, w, 59*time.Minute)
	if r["DC2"].get(1, "description") != "" {
		t.Fatal("DC2 caught up before the link delay")
	}
	mustAdvance(t, w, 2*time.Minute)
	if got := r["DC2"].get(1, "description"); got != "v1" {
		t.Fatalf("DC2 after start+61m has %q, want v1", got)
	}
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	if err := w.CheckConverged(); err != nil {
		t.Error(err)
	}
}

func TestMemConflictsConverge(t *testing.T) {
	w, r := memWorld(t, twoDCs(time.Hour))
	// Rung 1: DC1 writes twice (version 2) before DC2's single later write (version 1).
	write(t, w, r["DC1"], 1, "a", "dc1-first")
	write(t, w, r["DC1"], 1, "a", "dc1-second")
	mustAdvance(t, w, time.Minute)
	write(t, w, r["DC2"], 1, "a", "dc2-later")
	// Rung 2: same version, DC2 writes later.
	write(t, w, r["DC1"], 2, "a", "dc1-early")
	mustAdvance(t, w, time.Minute)
	write(t, w, r["DC2"], 2, "a", "dc2-late")
	// Rung 3: same version, same time: the higher invocationId (DC2's, 0x02...) wins.
	write(t, w, r["DC1"], 3, "a", "dc1-same")
	write(t, w, r["DC2"], 3, "a", "dc2-same")
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	for _, dc := range []string{"DC1", "DC2"} {
		for obj, want := range map[byte]string{1: "dc1-second", 2: "dc2-late", 3: "dc2-same"} {
			if got := r[dc].get(obj, "a"); got != want {
				t.Errorf("%s obj%d = %q, want %q", dc, obj, got, want)
			}
		}
	}
	if err := w.CheckConverged(); err != nil {
		t.Error(err)
	}
}

func TestMemDampingAndReplicateNow(t *testing.T) {
	cfg := Config{Seed: 5, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}, {Name: "DC3"}}, LinkDelay: time.Hour}
	w, r := memWorld(t, cfg)
	write(t, w, r["DC1"], 1, "a", "x")
	if err := w.CutLink("DC1", "DC3"); err != nil {
		t.Fatal(err)
	}
	if err := w.ReplicateNow(); err != nil {
		t.Fatal(err)
	}
	// DC2 got it directly; DC3 through DC2 although its direct link is cut.
	if r["DC2"].get(1, "a") != "x" || r["DC3"].get(1, "a") != "x" {
		t.Fatalf("after ReplicateNow: DC2=%q DC3=%q", r["DC2"].get(1, "a"), r["DC3"].get(1, "a"))
	}
	if w.Elapsed() != 0 {
		t.Errorf("ReplicateNow moved time to %v", w.Elapsed())
	}
	if got := w.PendingDeliveries(); got != 1 {
		t.Errorf("pending = %d, want 1 (DC1→DC3 waits behind the cut)", got)
	}
	if got := w.clock.Pending(); got != 1 {
		t.Errorf("pending events = %d, want 1: forced deliveries must cancel their events", got)
	}
	if err := w.HealLink("DC1", "DC3"); err != nil {
		t.Fatal(err)
	}
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	if w.PendingDeliveries() != 0 {
		t.Fatalf("pending after settle = %d", w.PendingDeliveries())
	}
	// Every replica applied only finitely many batches: damping stopped the echo.
	if n := r["DC1"].applied + r["DC2"].applied + r["DC3"].applied; n > 6 {
		t.Errorf("%d deliveries for one write over 3 links; the echo was not dampened", n)
	}
	if !strings.Contains(traceText(w), "DC3 replicated 1 change from DC2 (forced)") {
		t.Errorf("trace lacks the forced delivery:\n%s", traceText(w))
	}
	if err := w.CheckConverged(); err != nil {
		t.Error(err)
	}
}

func TestMemCheckConvergedReportsTheDifference(t *testing.T) {
	w, r := memWorld(t, twoDCs(time.Minute))
	write(t, w, r["DC1"], 7, "description", "same")
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	r["DC2"].write(w.Now(), 7, "description", "diverged") // behind the world's back
	err := w.CheckConverged()
	if !errors.Is(err, ErrNotConverged) {
		t.Fatalf("err = %v, want ErrNotConverged", err)
	}
	want := `seed=11 t=+1m00s: replicas differ: DC1 and DC2: obj7 attribute description: ["same"] vs ["diverged"]`
	if got, _, _ := strings.Cut(err.Error(), "\n"); got != want {
		t.Errorf("err =\n%s\nwant\n%s", got, want)
	}
}

// A broken replica that re-originates what it receives (instead of keeping the stamps) makes two
// DCs echo forever: the event budget stops it with the seed instead of hanging.
type echoReplica struct{ memReplica }

func (e *echoReplica) ApplyReplicated(now time.Time, ch []fakead.ReplChange) error {
	for _, c := range ch {
		for _, a := range c.Attrs {
			e.write(now, c.GUID[15], a.Name, string(a.Values[0]))
		}
	}
	return nil
}

func TestEventBudgetStopsAnEcho(t *testing.T) {
	cfg := twoDCs(time.Second)
	cfg.Seed = 99
	cfg.MaxEvents = 50
	w, err := newWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, b := &echoReplica{*newMemReplica(0)}, &echoReplica{*newMemReplica(1)}
	w.attach(nil, []replica{a, b})
	if err := w.Exec(func(now time.Time) error { a.write(now, 1, "x", "y"); return nil }); err != nil {
		t.Fatal(err)
	}
	err = w.Settle()
	if !errors.Is(err, ErrEventBudget) {
		t.Fatalf("Settle = %v, want ErrEventBudget", err)
	}
	if !strings.HasPrefix(err.Error(), "seed=99 t=+50s: event budget exceeded (limit 50 events)") {
		t.Errorf("err = %q", err)
	}
	var f *Failure
	if !errors.As(err, &f) || len(f.TraceTail) == 0 {
		t.Errorf("want a Failure with a trace tail, got %#v", err)
	}
}

func TestPanicInsideTheLoopFailsTheWorld(t *testing.T) {
	w, r := memWorld(t, Config{Seed: 77})
	write(t, w, r["DC1"], 1, "a", "b")
	err := w.Exec(func(time.Time) error { panic("invariant broken") })
	if !errors.Is(err, ErrWorldPanicked) || !strings.HasPrefix(err.Error(), "seed=77 t=+0s: world stopped after a broken invariant: panic: invariant broken") {
		t.Fatalf("err = %v", err)
	}
	var f *Failure
	if !errors.As(err, &f) || f.Stack == "" || !strings.Contains(err.Error(), "trace tail:\n  +0s world seed=77") {
		t.Errorf("failure lacks stack or trace tail: %v", err)
	}
	if err2 := w.Advance(time.Second); err2 != err {
		t.Errorf("after a panic the world answered %v, want the same failure", err2)
	}
}

func TestUnknownNamesAndBadInput(t *testing.T) {
	w, _ := memWorld(t, twoDCs(time.Minute))
	for name, err := range map[string]error{
		"ExecOn":   w.ExecOn("DC9", func(time.Time, *fakead.Directory) error { return nil }),
		"CutLink":  w.CutLink("DC1", "DC9"),
		"StopDC":   w.StopDC("nope"),
		"ExportDC": w.ExportLDIF("DC9", nil),
	} {
		if !errors.Is(err, ErrUnknownDC) || !strings.Contains(err.Error(), "the world has DC1, DC2") {
			t.Errorf("%s: err = %v, want ErrUnknownDC listing the DCs", name, err)
		}
	}
	if err := w.SetLinkDelay("DC1", "DC2", -time.Second); err == nil {
		t.Error("negative delay accepted")
	}
	if err := w.SetLinkDelay("DC1", "dc1", time.Second); err == nil {
		t.Error("self link accepted")
	}
	if err := w.Advance(-time.Second); !errors.Is(err, ErrClockBackwards) {
		t.Errorf("Advance(-1s) = %v", err)
	}
	be := w.Backend("DC9")
	if _, err := be.Bind(false, "x", "y"); fakead.CodeOf(err) != fakead.Unavailable {
		t.Errorf("Bind on unknown DC = %v, want unavailable", err)
	}
}

func TestMemSameSeedSameTrace(t *testing.T) {
	run := func(seed uint64) string {
		cfg := Config{Seed: seed, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}, {Name: "DC3"}}, LinkDelay: 20 * time.Minute}
		w, r := memWorld(t, cfg)
		write(t, w, r["DC1"], 1, "a", "x")
		w.CutLink("DC2", "DC3")
		mustAdvance(t, w, 30*time.Minute)
		write(t, w, r["DC3"], 1, "a", "y")
		w.StopDC("DC1")
		mustAdvance(t, w, time.Hour)
		w.HealLink("DC2", "DC3")
		w.StartDC("DC1")
		if err := w.Settle(); err != nil {
			t.Fatal(err)
		}
		if err := w.CheckConverged(); err != nil {
			t.Fatal(err)
		}
		return traceText(w)
	}
	a, b := run(1), run(1)
	if a != b {
		t.Errorf("same seed, different traces:\n%s\n---\n%s", a, b)
	}
	if a == run(2) {
		t.Error("seeds 1 and 2 gave the same trace (the seed line at least must differ)")
	}
}

func TestWorldTimersAndBudget(t *testing.T) {
	cfg := Config{Seed: 123, MaxEvents: 30}
	w, _ := memWorld(t, cfg)
	ticks := 0
	var tick EventFunc
	tick = func(now time.Time) error {
		ticks++
		w.Loop().Logf("tick %d", ticks)
		w.Loop().After(10*time.Hour, "tick", tick)
		return nil
	}
	w.After(10*time.Hour, "tick", tick)
	mustAdvance(t, w, 25*time.Hour)
	if ticks != 2 {
		t.Fatalf("ticks = %d at +25h, want 2", ticks)
	}
	if got := w.Trace()[1:]; strings.Join(got, "|") != "+10h00m00s tick 1|+20h00m00s tick 2" {
		t.Errorf("trace = %q", got)
	}
	err := w.RunUntilQuiet()
	if !errors.Is(err, ErrEventBudget) || !strings.HasPrefix(err.Error(), `seed=123 t=+300h00m00s: event budget exceeded (limit 30 events); next event "tick"`) {
		t.Fatalf("RunUntilQuiet on an endless timer = %v", err)
	}
	if w.EventsRun() != 30 {
		t.Errorf("events run = %d, want 30", w.EventsRun())
	}
	w2, _ := memWorld(t, Config{Seed: 5, MaxSimTime: 24 * time.Hour})
	if err := w2.Advance(25 * time.Hour); !errors.Is(err, ErrSimTimeBudget) || !strings.HasPrefix(err.Error(), "seed=5 t=+0s: simulated time budget exceeded (limit 24h0m0s)") {
		t.Errorf("Advance past MaxSimTime = %v", err)
	}
}

// Random histories over the stand-in replica, many seeds: whatever the cuts, stops, delay changes
// and timing, once healed and settled the replicas are identical, and every replica holds the
// newest write of each attribute by AD's rule.
func TestMemRandomHistoriesConverge(t *testing.T) {
	for seed := uint64(1); seed <= 500; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		cfg := Config{Seed: seed, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}, {Name: "DC3"}, {Name: "DC4"}}}
		if rng.IntN(2) == 0 { // a ring instead of the full mesh
			cfg.Links = []LinkSpec{{A: "DC1", B: "DC2"}, {A: "DC2", B: "DC3"}, {A: "DC3", B: "DC4"}, {A: "DC4", B: "DC1"}}
		}
		w, r := memWorld(t, cfg)
		names := []string{"DC1", "DC2", "DC3", "DC4"}
		var log []string
		best := map[byte]*memAttr{} // the winning originating write of each object, by AD's rule
		for i := 0; i < 150; i++ {
			a, b := names[rng.IntN(4)], names[rng.IntN(4)]
			var err error
			switch k := rng.IntN(12); {
			case k < 5:
				if !w.DC(a).Running() {
					continue
				}
				obj, val := byte(rng.IntN(5)), fmt.Sprint("v", i)
				log = append(log, fmt.Sprintf("write %s obj%d=%s", a, obj, val))
				write(t, w, r[a], obj, "x", val)
				if st := r[a].objects[ad.GUID{15: obj}]["x"]; best[obj] == nil || stampLess(best[obj].meta, st.meta) {
					best[obj] = &memAttr{val: st.val, meta: st.meta}
				}
			case k < 7:
				d := time.Duration(rng.IntN(90)) * time.Minute
				log = append(log, "advance "+d.String())
				err = w.Advance(d)
			case k == 7 && a != b:
				log = append(log, "cut "+a+"-"+b)
				err = w.CutLink(a, b)
				if errors.Is(err, ErrUnknownLink) {
					err = nil
				}
			case k == 8 && a != b:
				log = append(log, "heal "+a+"-"+b)
				if err = w.HealLink(a, b); errors.Is(err, ErrUnknownLink) {
					err = nil
				}
			case k == 9:
				log = append(log, "stop "+a)
				err = w.StopDC(a)
			case k == 10:
				log = append(log, "start "+a)
				err = w.StartDC(a)
			case k == 11 && a != b:
				d := time.Duration(rng.IntN(120)) * time.Minute
				log = append(log, fmt.Sprintf("delay %s-%s %v", a, b, d))
				err = w.SetLinkDelay(a, b, d)
			}
			if err != nil {
				t.Fatalf("seed=%d %s: %v\n%s", seed, log[len(log)-1], err, strings.Join(log, "\n"))
			}
		}
		for _, a := range names {
			w.StartDC(a)
			for _, b := range names {
				if a < b {
					w.HealLink(a, b)
				}
			}
		}
		if err := w.Settle(); err != nil {
			t.Fatalf("seed=%d settle: %v", seed, err)
		}
		if err := w.CheckConverged(); err != nil {
			t.Fatalf("seed=%d: %v\noperations:\n%s", seed, err, strings.Join(log, "\n"))
		}
		for obj, b := range best {
			for _, n := range names {
				if got := r[n].get(obj, "x"); got != b.val {
					t.Fatalf("seed=%d: %s obj%d = %q, want the winning write %q\noperations:\n%s", seed, n, obj, got, b.val, strings.Join(log, "\n"))
				}
			}
		}
	}
}

// A link created while the world runs starts with a full sync: an isolated DC gets everything.
func TestMemNewLinkFullSync(t *testing.T) {
	w, r := memWorld(t, Config{Seed: 1, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}, {Name: "DC3"}},
		Links: []LinkSpec{{A: "DC1", B: "DC2", Delay: time.Minute}}})
	write(t, w, r["DC1"], 1, "x", "before the link")
	write(t, w, r["DC3"], 2, "x", "from the island")
	mustAdvance(t, w, time.Hour)
	if r["DC3"].get(1, "x") != "" {
		t.Fatal("an isolated DC received a write")
	}
	if err := w.SetLinkDelay("DC3", "DC2", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	mustAdvance(t, w, 10*time.Minute)
	if r["DC3"].get(1, "x") != "before the link" || r["DC2"].get(2, "x") != "from the island" {
		t.Fatalf("after the new link's delay: DC3 obj1=%q DC2 obj2=%q", r["DC3"].get(1, "x"), r["DC2"].get(2, "x"))
	}
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	if err := w.CheckConverged(); err != nil {
		t.Fatal(err)
	}
}
