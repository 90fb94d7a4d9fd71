package sim

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = DefaultStart()

// recorder collects "name@offset" for each event run.
type recorder struct {
	c   *Clock
	got []string
}

func (r *recorder) ev(name string) EventFunc {
	return func(now time.Time) error {
		r.got = append(r.got, name+"@"+FormatOffset(now.Sub(r.c.Start())))
		return nil
	}
}

func TestClockRunsEventsInTimeOrder(t *testing.T) {
	c := NewClock(t0, 1, Bounds{})
	r := &recorder{c: c}
	c.At(t0.Add(3*time.Hour), "c", r.ev("c"))
	c.At(t0.Add(1*time.Hour), "a", r.ev("a"))
	c.After(2*time.Hour, "b", r.ev("b"))
	c.At(t0.Add(5*time.Hour), "late", r.ev("late"))
	if err := c.Advance(4 * time.Hour); err != nil {
		t.Fatal(err)
	}
	want := "a@+1h00m00s b@+2h00m00s c@+3h00m00s"
	if got := strings.Join(r.got, " "); got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
	if got := c.Elapsed(); got != 4*time.Hour {
		t.Errorf("elapsed = %v, want 4h (time lands at the target, not the last event)", got)
	}
	if c.Pending() != 1 {
		t.Errorf("pending = %d, want 1 (the +5h event)", c.Pending())
	}
}

func TestClockTiesRunInSchedulingOrder(t *testing.T) {
	c := NewClock(t0, 1, Bounds{})
	r := &recorder{c: c}
	at := t0.Add(time.Minute)
	for _, n := range []string{"first", "second", "third", "fourth"} {
		c.At(at, n, r.ev(n))
	}
	if err := c.AdvanceTo(at); err != nil {
		t.Fatal(err)
	}
	want := "first@+1m00s second@+1m00s third@+1m00s fourth@+1m00s"
	if got := strings.Join(r.got, " "); got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
}

func TestClockNestedScheduling(t *testing.T) {
	c := NewClock(t0, 1, Bounds{})
	r := &recorder{c: c}
	// a schedules b at the same instant (runs after everything already due then) and d later;
	// x was scheduled before a ran, at the same instant as a.
	c.At(t0.Add(time.Hour), "a", func(now time.Time) error {
		r.ev("a")(now)
		c.At(now, "b", r.ev("b"))
		c.At(now.Add(30*time.Minute), "d", func(now time.Time) error {
			r.ev("d")(now)
			c.After(10*time.Minute, "e", r.ev("e"))
			return nil
		})
		c.At(now.Add(-time.Hour), "past", r.ev("past")) // clamped to now
		return nil
	})
	c.At(t0.Add(time.Hour), "x", r.ev("x"))
	c.At(t0.Add(80*time.Minute), "y", r.ev("y"))
	if err := c.Advance(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	// y (+1h20m) runs before d (+1h30m): order is by time first, scheduling order second.
	want := "a@+1h00m00s x@+1h00m00s b@+1h00m00s past@+1h00m00s y@+1h20m00s d@+1h30m00s e@+1h40m00s"
	if got := strings.Join(r.got, " "); got != want {
		t.Errorf("events =\n %q\nwant\n %q", got, want)
	}
	if c.EventsRun() != 7 {
		t.Errorf("events run = %d, want 7", c.EventsRun())
	}
}

func TestClockCancel(t *testing.T) {
	c := NewClock(t0, 1, Bounds{})
	r := &recorder{c: c}
	c.After(time.Second, "keep", r.ev("keep"))
	id := c.After(time.Second, "drop", r.ev("drop"))
	if !c.Cancel(id) {
		t.Fatal("Cancel of a pending event = false")
	}
	if c.Cancel(id) {
		t.Error("second Cancel = true, want false")
	}
	if c.Pending() != 1 {
		t.Errorf("pending = %d, want 1", c.Pending())
	}
	if err := c.RunUntilQuiet(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.got, " "); got != "keep@+1s" {
		t.Errorf("events = %q, want keep only", got)
	}
	if c.Cancel(id) {
		t.Error("Cancel after the run = true")
	}
}

func TestClockRunUntilQuiet(t *testing.T) {
	c := NewClock(t0, 1, Bounds{})
	n := 0
	var tick EventFunc
	tick = func(now time.Time) error {
		n++
		if n < 5 {
			c.After(10*time.Hour, "tick", tick)
		}
		return nil
	}
	c.After(10*time.Hour, "tick", tick)
	if err := c.RunUntilQuiet(); err != nil {
		t.Fatal(err)
	}
	if n != 5 || c.Elapsed() != 50*time.Hour {
		t.Errorf("ticks = %d at %v, want 5 at 50h", n, c.Elapsed())
	}
}

func TestClockEventBudget(t *testing.T) {
	c := NewClock(t0, 42, Bounds{MaxEvents: 100})
	var loop EventFunc
	loop = func(now time.Time) error { c.After(time.Second, "loop", loop); return nil }
	c.After(time.Second, "loop", loop)
	err := c.RunUntilQuiet()
	if !errors.Is(err, ErrEventBudget) {
		t.Fatalf("err = %v, want ErrEventBudget", err)
	}
	if !strings.HasPrefix(err.Error(), "seed=42 t=+1m40s: event budget exceeded") {
		t.Errorf("err = %q, want it to start with the seed and time", err)
	}
	if c.EventsRun() != 100 {
		t.Errorf("events run = %d, want exactly the budget, 100", c.EventsRun())
	}
}

func TestClockSimTimeBudget(t *testing.T) {
	c := NewClock(t0, 7, Bounds{MaxSimTime: 24 * time.Hour})
	if err := c.Advance(24 * time.Hour); err != nil {
		t.Fatalf("advance to the limit: %v", err)
	}
	err := c.Advance(time.Second)
	if !errors.Is(err, ErrSimTimeBudget) || !strings.HasPrefix(err.Error(), "seed=7 t=+24h00m00s") {
		t.Fatalf("err = %v, want ErrSimTimeBudget with seed=7 t=+24h00m00s", err)
	}
	if c.Elapsed() != 24*time.Hour {
		t.Errorf("elapsed = %v, want the clock left at 24h", c.Elapsed())
	}
	// An event chain past the limit stops too.
	c2 := NewClock(t0, 7, Bounds{MaxSimTime: time.Hour})
	var loop EventFunc
	loop = func(now time.Time) error { c2.After(time.Minute, "loop", loop); return nil }
	c2.After(time.Minute, "loop", loop)
	if err := c2.RunUntilQuiet(); !errors.Is(err, ErrSimTimeBudget) {
		t.Fatalf("err = %v, want ErrSimTimeBudget", err)
	}
	if c2.EventsRun() != 60 {
		t.Errorf("events run = %d, want 60", c2.EventsRun())
	}
}

func TestClockBackwardsAndEventErrors(t *testing.T) {
	c := NewClock(t0, 3, Bounds{})
	if err := c.Advance(-time.Second); !errors.Is(err, ErrClockBackwards) {
		t.Errorf("Advance(-1s) = %v, want ErrClockBackwards", err)
	}
	c.Advance(time.Hour)
	if err := c.AdvanceTo(t0); !errors.Is(err, ErrClockBackwards) {
		t.Errorf("AdvanceTo(start) = %v, want ErrClockBackwards", err)
	}
	boom := errors.New("boom")
	c.After(time.Minute, "fails", func(time.Time) error { return boom })
	c.After(2*time.Minute, "after", func(time.Time) error { return nil })
	err := c.Advance(time.Hour)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), `event "fails"`) {
		t.Errorf("err = %v, want boom naming the event", err)
	}
	if c.Elapsed() != time.Hour+time.Minute || c.Pending() != 1 {
		t.Errorf("after failure: elapsed %v pending %d, want 1h01m and 1", c.Elapsed(), c.Pending())
	}
}

func TestWallClockFollowsInjectedWall(t *testing.T) {
	c := NewClock(t0, 1, Bounds{})
	wall := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.wall = func() time.Time { return wall }
	c.wallStart = wall
	fired := 0
	c.After(5*time.Second, "x", func(time.Time) error { fired++; return nil })
	wall = wall.Add(3 * time.Second)
	c.Sync()
	if c.Elapsed() != 3*time.Second || fired != 0 {
		t.Errorf("after 3 s wall: elapsed %v fired %d", c.Elapsed(), fired)
	}
	if err := c.Advance(time.Hour); err != nil { // skips ahead of the wall clock
		t.Fatal(err)
	}
	if c.Elapsed() != time.Hour+3*time.Second || fired != 1 {
		t.Errorf("after skipping 1 h: elapsed %v fired %d", c.Elapsed(), fired)
	}
	wall = wall.Add(-time.Minute) // the wall clock steps back; simulated time does not
	c.Sync()
	if c.Elapsed() != time.Hour+3*time.Second {
		t.Errorf("after wall step back: elapsed %v", c.Elapsed())
	}
	if !NewWallClock(t0, 1, Bounds{}).Realtime() || c.Realtime() != true {
		t.Error("Realtime() false for a wall clock")
	}
}

func TestFormatOffset(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "+0s"},
		{5 * time.Second, "+5s"},
		{59 * time.Minute, "+59m00s"},
		{61*time.Minute + 2*time.Second, "+1h01m02s"},
		{10*time.Hour + 5*time.Minute, "+10h05m00s"},
		{240 * time.Hour, "+240h00m00s"},
		{250 * time.Millisecond, "+0.25s"},
		{time.Hour + 1500*time.Millisecond, "+1h00m01.5s"},
		{time.Nanosecond, "+0.000000001s"},
		{-90 * time.Second, "-1m30s"},
	} {
		if got := FormatOffset(tc.d); got != tc.want {
			t.Errorf("FormatOffset(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func ExampleClock() {
	c := NewClock(DefaultStart(), 1, Bounds{})
	c.After(time.Hour, "replicate", func(now time.Time) error {
		fmt.Println("replicate at", FormatOffset(now.Sub(DefaultStart())))
		return nil
	})
	c.Advance(2 * time.Hour)
	fmt.Println("now", c.Now().Format(time.RFC3339))
	// Output:
	// replicate at +1h00m00s
	// now 2026-11-23T12:30:00Z
}
