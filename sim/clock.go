package sim

import (
	"container/heap"
	"errors"
	"fmt"
	"time"
)

// EventFunc is the body of a scheduled event. It runs with the clock set to the event's time. An
// error stops the advance that ran it and is returned from Advance/AdvanceTo/RunUntilQuiet.
type EventFunc func(now time.Time) error

// EventID names a scheduled event so it can be cancelled. IDs are the scheduling sequence numbers,
// so they also say in which order same-time events run.
type EventID uint64

// Bounds limit a clock: how many events it may run in its lifetime and how far past its start
// time it may go. Zero means no limit. Exceeding either fails the advance with a *BoundsError
// instead of running (or hanging) forever.
type Bounds struct {
	MaxEvents  int
	MaxSimTime time.Duration
}

// Sentinels for errors.Is on clock failures.
var (
	// ErrEventBudget: more events than Bounds.MaxEvents would have run.
	ErrEventBudget = errors.New("event budget exceeded")
	// ErrSimTimeBudget: the clock would have passed start + Bounds.MaxSimTime.
	ErrSimTimeBudget = errors.New("simulated time budget exceeded")
	// ErrClockBackwards: AdvanceTo was asked for a time before Now.
	ErrClockBackwards = errors.New("clock cannot go backwards")
)

// BoundsError reports a bound the clock hit. The clock stops at the last event it was allowed to run.
type BoundsError struct {
	Seed    uint64
	Elapsed time.Duration // simulated time since start when the bound was hit
	Err     error         // ErrEventBudget or ErrSimTimeBudget
	Limit   string        // the limit, as configured ("1000 events", "8760h0m0s")
	Next    string        // the event that would have run next, "" if none
}

func (e *BoundsError) Error() string {
	msg := fmt.Sprintf("seed=%d t=%s: %v (limit %s)", e.Seed, FormatOffset(e.Elapsed), e.Err, e.Limit)
	if e.Next != "" {
		msg += fmt.Sprintf("; next event %q", e.Next)
	}
	return msg + "; raise Config.MaxEvents/MaxSimTime if the run is meant to be this long, else look for an event that keeps rescheduling itself"
}

func (e *BoundsError) Unwrap() error { return e.Err }

// Clock is simulated time plus a scheduler. Advancing runs every due event in time order; events
// due at the same instant run in the order they were scheduled (by sequence number), so a run
// replays exactly. Events may schedule further events, including at the current instant; those
// run in the same advance.
//
// A Clock is not safe for concurrent use: the World serialises every call to it.
type Clock struct {
	start  time.Time
	now    time.Time
	seq    uint64
	q      eventQueue
	live   map[EventID]bool // scheduled, not yet run or cancelled
	cancel map[EventID]bool // cancelled, still in the heap
	ran    int
	bounds Bounds
	seed   uint64

	// Wall-clock mode (serve --realtime): simulated time follows the wall clock from the moment
	// the clock was made, plus whatever Advance skipped ahead.
	wall      func() time.Time
	wallStart time.Time
	skip      time.Duration
}

// NewClock returns a virtual clock at start with no pending events. seed is only carried into
// error messages so that a failure names the run to replay.
func NewClock(start time.Time, seed uint64, b Bounds) *Clock {
	return &Clock{start: start, now: start, live: map[EventID]bool{}, cancel: map[EventID]bool{}, bounds: b, seed: seed}
}

// NewWallClock returns a clock whose time follows the wall clock, starting at start: Sync moves
// it up to start + (wall time elapsed) + (time skipped by Advance). Only `serve --realtime` uses it.
func NewWallClock(start time.Time, seed uint64, b Bounds) *Clock {
	c := NewClock(start, seed, b)
	c.wall = time.Now // wallclock: serve --realtime
	c.wallStart = c.wall()
	return c
}

// Realtime reports whether the clock follows the wall clock.
func (c *Clock) Realtime() bool { return c.wall != nil }

// Wire is the time on the wire to and from real clients (their Kerberos timestamps and skew
// check, ticket times): with a wall clock, the wall clock itself, however far Advance has moved
// simulated time ahead of it; on a virtual clock, Now (in-process clients live on it).
func (c *Clock) Wire() time.Time {
	if c.wall != nil {
		return c.wall().UTC()
	}
	return c.now
}

// Start is the time the clock started at.
func (c *Clock) Start() time.Time { return c.start }

// Now is the current simulated time.
func (c *Clock) Now() time.Time { return c.now }

// Elapsed is the simulated time since Start.
func (c *Clock) Elapsed() time.Duration { return c.now.Sub(c.start) }

// EventsRun is how many events have run so far (cancelled ones are not counted).
func (c *Clock) EventsRun() int { return c.ran }

// Pending is the number of scheduled events not yet run or cancelled.
func (c *Clock) Pending() int { return len(c.live) }

// NextAt returns the time of the next pending event.
func (c *Clock) NextAt() (time.Time, bool) {
	c.dropCancelledHead()
	if len(c.q) == 0 {
		return time.Time{}, false
	}
	return c.q[0].at, true
}

// At schedules fn to run at t. A t before Now runs at Now (after everything already due then).
func (c *Clock) At(t time.Time, name string, fn EventFunc) EventID {
	if t.Before(c.now) {
		t = c.now
	}
	c.seq++
	heap.Push(&c.q, &event{at: t, seq: c.seq, name: name, fn: fn})
	c.live[EventID(c.seq)] = true
	return EventID(c.seq)
}

// After schedules fn to run d after Now.
func (c *Clock) After(d time.Duration, name string, fn EventFunc) EventID {
	return c.At(c.now.Add(d), name, fn)
}

// Cancel removes a pending event. It reports whether the event was still pending.
func (c *Clock) Cancel(id EventID) bool {
	if !c.live[id] {
		return false
	}
	delete(c.live, id)
	c.cancel[id] = true
	return true
}

// Advance moves time forward by d, running every event due on the way.
func (c *Clock) Advance(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("seed=%d t=%s: advance by %v: %w", c.seed, FormatOffset(c.Elapsed()), d, ErrClockBackwards)
	}
	if c.wall != nil {
		c.skip += d
		return c.Sync()
	}
	return c.AdvanceTo(c.now.Add(d))
}

// AdvanceTo moves time forward to t, running every event due at or before t in time order, then
// leaves the clock at t. On an error the clock stays at the time of the last event run.
func (c *Clock) AdvanceTo(t time.Time) error {
	if t.Before(c.now) {
		return fmt.Errorf("seed=%d t=%s: advance to %s, before now %s: %w", c.seed, FormatOffset(c.Elapsed()),
			t.UTC().Format(time.RFC3339Nano), c.now.UTC().Format(time.RFC3339Nano), ErrClockBackwards)
	}
	if err := c.checkTime(t, ""); err != nil {
		return err
	}
	for {
		e := c.peek()
		if e == nil || e.at.After(t) {
			break
		}
		if err := c.runNext(); err != nil {
			return err
		}
	}
	c.now = t
	return nil
}

// RunUntilQuiet runs every pending event, including those they schedule, until none is left.
// Time ends at the last event run. The bounds stop an event chain that never ends.
func (c *Clock) RunUntilQuiet() error {
	for c.peek() != nil {
		if err := c.runNext(); err != nil {
			return err
		}
	}
	return nil
}

// RunDue runs the events due at or before Now without moving time.
func (c *Clock) RunDue() error { return c.AdvanceTo(c.now) }

// Sync, in wall-clock mode, moves simulated time up to the wall clock, running due events. On a
// virtual clock it does nothing.
func (c *Clock) Sync() error {
	if c.wall == nil {
		return nil
	}
	// Whole seconds since the start (the start itself is what the caller gave, serve truncates it):
	// a trace line says "+720h00m05s", not "+720h00m05.114579791s", and Kerberos and LDAP times
	// are whole seconds anyway.
	t := c.start.Add((c.wall().Sub(c.wallStart) + c.skip).Truncate(time.Second))
	if t.Before(c.now) {
		t = c.now // the wall clock stepped back: simulated time never does
	}
	return c.AdvanceTo(t)
}

func (c *Clock) peek() *event {
	c.dropCancelledHead()
	if len(c.q) == 0 {
		return nil
	}
	return c.q[0]
}

func (c *Clock) dropCancelledHead() {
	for len(c.q) > 0 && c.cancel[EventID(c.q[0].seq)] {
		delete(c.cancel, EventID(c.q[0].seq))
		heap.Pop(&c.q)
	}
}

// runNext runs the head event (which must exist), charging it to the budget.
func (c *Clock) runNext() error {
	e := c.q[0]
	if err := c.checkTime(e.at, e.name); err != nil {
		return err
	}
	if c.bounds.MaxEvents > 0 && c.ran >= c.bounds.MaxEvents {
		return &BoundsError{Seed: c.seed, Elapsed: c.Elapsed(), Err: ErrEventBudget,
			Limit: fmt.Sprintf("%d events", c.bounds.MaxEvents), Next: e.name}
	}
	heap.Pop(&c.q)
	delete(c.live, EventID(e.seq))
	if e.at.Before(c.now) {
		// The heap only holds times >= now (At clamps): a broken invariant, not bad input.
		panic(fmt.Sprintf("sim: event %q at %s is before now %s", e.name, e.at, c.now))
	}
	c.now = e.at
	c.ran++
	if err := e.fn(e.at); err != nil {
		return fmt.Errorf("event %q: %w", e.name, err)
	}
	return nil
}

// charge counts n units of work done outside scheduled events (ReplicateNow's immediate
// deliveries) against the event budget.
func (c *Clock) charge(n int, what string) error {
	if c.bounds.MaxEvents > 0 && c.ran+n > c.bounds.MaxEvents {
		return &BoundsError{Seed: c.seed, Elapsed: c.Elapsed(), Err: ErrEventBudget,
			Limit: fmt.Sprintf("%d events", c.bounds.MaxEvents), Next: what}
	}
	c.ran += n
	return nil
}

func (c *Clock) checkTime(t time.Time, next string) error {
	if c.bounds.MaxSimTime > 0 && t.Sub(c.start) > c.bounds.MaxSimTime {
		return &BoundsError{Seed: c.seed, Elapsed: c.Elapsed(), Err: ErrSimTimeBudget,
			Limit: c.bounds.MaxSimTime.String(), Next: next}
	}
	return nil
}

type event struct {
	at   time.Time
	seq  uint64
	name string
	fn   EventFunc
}

// eventQueue is a min-heap by (time, sequence number).
type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

// FormatOffset formats a simulated-time offset the way traces and failures print it:
// "+0s", "+59m00s", "+10h05m00s", "+1h00m00.25s". Deterministic and sortable within a run.
func FormatOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	h := d / time.Hour
	m := (d % time.Hour) / time.Minute
	s := d % time.Minute
	secs := fmt.Sprintf("%02d", s/time.Second)
	if frac := s % time.Second; frac != 0 {
		f := fmt.Sprintf(".%09d", int64(frac)) // ".250000000"
		for f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		secs += f
	}
	switch {
	case h > 0:
		return fmt.Sprintf("%s%dh%02dm%ss", sign, h, m, secs)
	case m > 0:
		return fmt.Sprintf("%s%dm%ss", sign, m, secs)
	default:
		return fmt.Sprintf("%s%ss", sign, trimLeadingZero(secs))
	}
}

func trimLeadingZero(s string) string {
	if len(s) > 1 && s[0] == '0' && s[1] != '.' {
		return s[1:]
	}
	return s
}
