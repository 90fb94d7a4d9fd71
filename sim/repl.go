package sim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
)

// Replication, as the world runs it:
//
//   - After every Exec closure and every event, each DC whose HighestUSN moved is asked for its
//     changes since the last capture (ChangesSince). The batch is copied (values as of now) and
//     queued on every outgoing link, due at now + the link's delay. A later write therefore can
//     never arrive before an earlier one, nor carry a newer value early.
//   - Each direction of a link is a FIFO queue. A delivery applies the batch on the target
//     (ApplyReplicated, where the model resolves conflicts as AD does); whatever the target newly
//     applied gets new local USNs there, so the next capture forwards it to the target's own
//     partners (DC1 → DC2 → DC3). Already-present changes change nothing and stop there.
//   - A delivery over a cut link, from or to a stopped DC, waits in its queue. Healing the link or
//     starting the DC reschedules everything waiting at (then) + delay.
//
// Divergence: AD replicates by pull (a DC asks a partner for changes past its up-to-dateness
// vector) on notification or schedule; here the source pushes captured batches. The observable
// result (what arrives where, when, and who wins a conflict) is the same for the link delays
// modelled; AD's batching of writes within the notification window is not modelled.

type link struct {
	a, b  *DC
	delay time.Duration
	cut   bool
	flows [2]*flow // a→b, b→a
}

// flow is one direction of a link.
type flow struct {
	l        *link
	from, to *DC
	q        []*batch
	lastDue  time.Time
}

type batch struct {
	changes []fakead.ReplChange
	utd     map[ad.GUID]uint64 // the source's up-to-dateness vector when it was captured
	due     time.Time
	blocked bool    // its delivery came due while the flow was unhealthy
	ev      EventID // its pending delivery event
	done    bool
}

func (f *flow) healthy() bool { return !f.l.cut && !f.from.stopped && !f.to.stopped }

func (f *flow) label() string { return f.from.name + "→" + f.to.name }

// why says why a flow cannot deliver.
func (f *flow) why() string {
	switch {
	case f.l.cut:
		return fmt.Sprintf("link %s-%s is cut", f.l.a.name, f.l.b.name)
	case f.from.stopped:
		return f.from.name + " is stopped"
	default:
		return f.to.name + " is stopped"
	}
}

func (w *World) addLink(a, b *DC, delay time.Duration) *link {
	if b.index < a.index {
		a, b = b, a
	}
	l := &link{a: a, b: b, delay: delay}
	l.flows[0] = &flow{l: l, from: a, to: b}
	l.flows[1] = &flow{l: l, from: b, to: a}
	w.links[pairOf(a.name, b.name)] = l
	a.out = append(a.out, l.flows[0])
	b.out = append(b.out, l.flows[1])
	sort.Slice(a.out, func(i, j int) bool { return a.out[i].to.index < a.out[j].to.index })
	sort.Slice(b.out, func(i, j int) bool { return b.out[i].to.index < b.out[j].to.index })
	return l
}

// sortedLinks returns the links in a stable order (by the DCs' configuration order).
func (w *World) sortedLinks() []*link {
	ls := make([]*link, 0, len(w.links))
	for _, l := range w.links {
		ls = append(ls, l)
	}
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].a.index != ls[j].a.index {
			return ls[i].a.index < ls[j].a.index
		}
		return ls[i].b.index < ls[j].b.index
	})
	return ls
}

// capture ships every DC's new local changes to its partners.
func (w *World) capture() error {
	w.traceRotations()
	for _, dc := range w.dcs {
		h := dc.repl.HighestUSN()
		if h < dc.shipped {
			panic(fmt.Sprintf("sim: %s highestCommittedUSN went back from %d to %d", dc.name, dc.shipped, h))
		}
		if h == dc.shipped {
			continue
		}
		changes := dc.repl.ChangesSince(dc.shipped)
		dc.shipped = h
		if dc.hasInv {
			dc.utd[dc.inv] = h // a DC has every write it originated
		}
		if len(changes) == 0 {
			continue
		}
		for _, f := range dc.out {
			w.enqueue(f, changes, dc.utd)
		}
	}
	return nil
}

func (w *World) enqueue(f *flow, changes []fakead.ReplChange, utd map[ad.GUID]uint64) {
	if changes = filterSeen(changes, f.to.utd); len(changes) == 0 {
		return // the target has seen all of it (its own writes echoed back)
	}
	now := w.clock.Now()
	due := now.Add(f.l.delay)
	if due.Before(f.lastDue) {
		due = f.lastDue // FIFO per direction, even after the delay was shortened
	}
	b := &batch{changes: copyChanges(changes), utd: copyUTD(utd), due: due}
	if n := len(f.q); n > 0 && f.q[n-1].due.After(due) {
		panic(fmt.Sprintf("sim: %s queue out of order: %s after %s", f.label(), due, f.q[n-1].due))
	}
	f.q = append(f.q, b)
	f.lastDue = due
	w.schedule(f, b)
}

func (w *World) schedule(f *flow, b *batch) {
	if b.ev != 0 {
		w.clock.Cancel(b.ev) // rescheduled
	}
	b.ev = w.clock.At(b.due, "replicate "+f.label(), func(now time.Time) error {
		b.ev = 0
		if b.done {
			return nil // delivered with an earlier batch's event
		}
		return w.fire(f, b)
	})
}

// fire is a batch's delivery time. If the flow is healthy, everything queued up to and including
// the batch is delivered in order; otherwise the batch waits for a heal or start.
func (w *World) fire(f *flow, b *batch) error {
	now := w.clock.Now()
	if !f.healthy() {
		b.blocked = true
		w.trace.Logf(now, "%s replication from %s waits: %s", f.to.name, f.from.name, f.why())
		return nil
	}
	for len(f.q) > 0 {
		head := f.q[0]
		if err := w.deliver(f, head, ""); err != nil {
			return err
		}
		if head == b {
			break
		}
	}
	return w.capture()
}

// deliver applies the head batch of f on its target and pops it. As in AD's pull, the target's
// up-to-dateness vector filters out what it has already seen (its own writes echoed back, what
// reached it by a faster path); a batch left empty is not traced.
func (w *World) deliver(f *flow, b *batch, how string) error {
	now := w.clock.Now()
	f.q[0] = nil
	f.q = f.q[1:]
	b.done = true
	if b.ev != 0 {
		w.clock.Cancel(b.ev)
		b.ev = 0
	}
	changes := filterSeen(b.changes, f.to.utd)
	if len(changes) == 0 {
		mergeUTD(f.to.utd, b.utd)
		return nil
	}
	before := f.to.repl.HighestUSN()
	if err := f.to.repl.ApplyReplicated(now, changes); err != nil {
		w.trace.Logf(now, "%s failed to apply %d changes from %s: %v", f.to.name, len(changes), f.from.name, err)
		return fmt.Errorf("%s applying %d changes replicated from %s: %w", f.to.name, len(changes), f.from.name, err)
	}
	// Only now has the target seen what the source had: a failed batch must not count as seen.
	mergeUTD(f.to.utd, b.utd)
	var notes []string
	if how != "" {
		notes = append(notes, how)
	}
	if f.to.repl.HighestUSN() == before {
		notes = append(notes, "nothing new")
	}
	suffix := ""
	if len(notes) > 0 {
		suffix = " (" + strings.Join(notes, ", ") + ")"
	}
	w.trace.Logf(now, "%s replicated %d %s from %s%s", f.to.name, len(changes), plural(len(changes), "change", "changes"), f.from.name, suffix)
	return nil
}

// filterSeen drops the attributes whose originating write the up-to-dateness vector covers.
func filterSeen(in []fakead.ReplChange, utd map[ad.GUID]uint64) []fakead.ReplChange {
	if len(utd) == 0 {
		return in
	}
	out := make([]fakead.ReplChange, 0, len(in))
	for _, c := range in {
		var keep []fakead.ReplAttr
		for _, a := range c.Attrs {
			if seen, ok := utd[a.Meta.OrigDSA]; ok && a.Meta.OrigUSN <= seen {
				continue
			}
			keep = append(keep, a)
		}
		if len(keep) > 0 {
			c.Attrs = keep // c is a copy: every other field of the change travels as is
			out = append(out, c)
		}
	}
	return out
}

func mergeUTD(dst, src map[ad.GUID]uint64) {
	for k, v := range src {
		if v > dst[k] {
			dst[k] = v
		}
	}
}

func copyUTD(m map[ad.GUID]uint64) map[ad.GUID]uint64 {
	out := make(map[ad.GUID]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// reschedule moves everything queued on f (after a heal or a start) to no earlier than now + delay,
// keeping the queue's order.
func (w *World) reschedule(f *flow) {
	due := w.clock.Now().Add(f.l.delay)
	for _, b := range f.q {
		if b.due.Before(due) {
			b.due = due
		}
		due = b.due
		b.blocked = false
		w.schedule(f, b)
	}
	if due.After(f.lastDue) {
		f.lastDue = due
	}
}

func (w *World) linkOf(a, b string) (*link, error) {
	da, err := w.lookup(a)
	if err != nil {
		return nil, err
	}
	db, err := w.lookup(b)
	if err != nil {
		return nil, err
	}
	l := w.links[pairOf(da.name, db.name)]
	if l == nil {
		return nil, fmt.Errorf("sim: link %s-%s: %w (set a delay with SetLinkDelay to create it)", da.name, db.name, ErrUnknownLink)
	}
	return l, nil
}

// SetLinkDelay sets the replication delay between a and b (both directions), creating the link if
// the DCs were not linked. Batches already queued keep their delivery time.
func (w *World) SetLinkDelay(a, b string, d time.Duration) error {
	return w.enter(func() error {
		if d < 0 {
			return fmt.Errorf("sim: link %s-%s delay %v: a delay cannot be negative", a, b, d)
		}
		da, err := w.lookup(a)
		if err != nil {
			return err
		}
		db, err := w.lookup(b)
		if err != nil {
			return err
		}
		if da == db {
			return fmt.Errorf("sim: link %s-%s: a link joins two different DCs", da.name, db.name)
		}
		l := w.links[pairOf(da.name, db.name)]
		if l == nil {
			l = w.addLink(da, db, d)
			// A new replication partner starts with a full sync, as a new connection does in AD:
			// everything the source holds, filtered at delivery by what the target has seen.
			// Without it the target's up-to-dateness vector would later claim writes it never got.
			for _, f := range l.flows {
				if all := f.from.repl.ChangesSince(0); len(all) > 0 {
					w.enqueue(f, all, f.from.utd)
				}
			}
		}
		l.delay = d
		w.trace.Logf(w.clock.Now(), "link %s-%s delay %v", l.a.name, l.b.name, d)
		return nil
	})
}

// LinkDelay returns the delay between a and b.
// LinkInfo is a replication link as World.Links reports it.
type LinkInfo struct {
	A, B  string
	Delay time.Duration
	Cut   bool
}

// Links are the world's replication links, in a stable order.
func (w *World) Links() []LinkInfo {
	var out []LinkInfo
	w.Locked(func() {
		for _, l := range w.sortedLinks() {
			out = append(out, LinkInfo{A: l.a.name, B: l.b.name, Delay: l.delay, Cut: l.cut})
		}
	})
	return out
}

func (w *World) LinkDelay(a, b string) (time.Duration, error) {
	var d time.Duration
	err := w.enter(func() error {
		l, err := w.linkOf(a, b)
		if err == nil {
			d = l.delay
		}
		return err
	})
	return d, err
}

// CutLink partitions a from b: deliveries between them wait until HealLink.
func (w *World) CutLink(a, b string) error {
	return w.enter(func() error {
		l, err := w.linkOf(a, b)
		if err != nil {
			return err
		}
		if !l.cut {
			l.cut = true
			w.trace.Logf(w.clock.Now(), "link %s-%s cut", l.a.name, l.b.name)
		}
		return nil
	})
}

// HealLink ends a cut: whatever waited is delivered after the link's delay from now.
func (w *World) HealLink(a, b string) error {
	return w.enter(func() error {
		l, err := w.linkOf(a, b)
		if err != nil {
			return err
		}
		if l.cut {
			l.cut = false
			w.trace.Logf(w.clock.Now(), "link %s-%s healed", l.a.name, l.b.name)
			for _, f := range l.flows {
				if f.healthy() {
					w.reschedule(f)
				}
			}
		}
		return nil
	})
}

// StopDC stops a DC: it refuses operations (Unavailable) and sends and receives nothing.
func (w *World) StopDC(name string) error { return w.setRunning(name, false) }

// StartDC starts a stopped DC; it catches up on what waited, after each link's delay.
func (w *World) StartDC(name string) error { return w.setRunning(name, true) }

func (w *World) setRunning(name string, run bool) error {
	return w.enter(func() error {
		d, err := w.lookup(name)
		if err != nil {
			return err
		}
		if d.stopped == !run {
			return nil
		}
		d.stopped = !run
		d.running.Store(run)
		if !run {
			w.trace.Logf(w.clock.Now(), "%s stopped", d.name)
			return nil
		}
		w.trace.Logf(w.clock.Now(), "%s started", d.name)
		for _, l := range w.sortedLinks() {
			if l.a != d && l.b != d {
				continue
			}
			for _, f := range l.flows {
				if f.healthy() {
					w.reschedule(f)
				}
			}
		}
		return nil
	})
}

// ReplicateNow delivers, at the current time, everything queued over healthy links, and what that
// makes the targets forward in turn, until nothing deliverable is left. What waits behind a cut
// link or a stopped DC stays queued.
func (w *World) ReplicateNow() error {
	return w.enter(func() error {
		for {
			progressed := false
			for _, l := range w.sortedLinks() {
				for _, f := range l.flows {
					for len(f.q) > 0 && f.healthy() {
						if err := w.fail(w.clock.charge(1, "replicate "+f.label())); err != nil {
							return err
						}
						if err := w.deliver(f, f.q[0], "forced"); err != nil {
							return w.fail(err)
						}
						progressed = true
					}
				}
				if err := w.capture(); err != nil {
					return err
				}
			}
			if !progressed {
				return nil
			}
		}
	})
}

// Settle advances time until no delivery is pending over a healthy link, running every event due
// on the way (timers included). Deliveries waiting on a cut link or stopped DC stay queued.
func (w *World) Settle() error {
	return w.enter(func() error {
		for {
			next, ok := w.nextDeliverable()
			if !ok {
				return nil
			}
			if next.Before(w.clock.Now()) {
				next = w.clock.Now()
			}
			if err := w.fail(w.clock.AdvanceTo(next)); err != nil {
				return err
			}
		}
	})
}

func (w *World) nextDeliverable() (time.Time, bool) {
	var next time.Time
	found := false
	for _, l := range w.sortedLinks() {
		for _, f := range l.flows {
			for _, b := range f.q {
				if b.blocked {
					continue
				}
				if !found || b.due.Before(next) {
					next, found = b.due, true
				}
			}
		}
	}
	return next, found
}

// PendingDeliveries is the number of batches queued on all links, waiting or not.
func (w *World) PendingDeliveries() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, l := range w.links {
		for _, f := range l.flows {
			n += len(f.q)
		}
	}
	return n
}

func copyChanges(in []fakead.ReplChange) []fakead.ReplChange {
	out := make([]fakead.ReplChange, len(in))
	for i, c := range in {
		out[i] = c // every field the model puts in a change, then the slices deep
		out[i].Attrs = make([]fakead.ReplAttr, len(c.Attrs))
		for j, a := range c.Attrs {
			out[i].Attrs[j] = a
			if a.Values != nil {
				vals := make([][]byte, len(a.Values))
				for k, v := range a.Values {
					vals[k] = append([]byte(nil), v...)
				}
				out[i].Attrs[j].Values = vals
			}
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
