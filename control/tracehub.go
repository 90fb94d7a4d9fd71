package control

import (
	"sync"
)

// DefaultTraceLines is how many trace lines a TraceHub keeps unless told otherwise.
const DefaultTraceLines = 100000

// maxPartialLine bounds a line written without its newline: past it, the bytes so far become a
// line of their own, so that a writer that never ends its line cannot grow the hub without bound.
const maxPartialLine = 64 << 10

// TraceHub is the world's trace as GET /trace serves it. It is an io.Writer (serve makes it the
// world's trace writer) that numbers complete lines from 0, keeps the last Max of them in a ring,
// and lets readers ask for the lines since a sequence number and wait for new ones on a channel,
// without polling. The zero value is not usable: call NewTraceHub.
type TraceHub struct {
	mu      sync.Mutex
	ring    []string // at most max lines; line seq s (next-kept <= s < next) is at ring[s%max]
	max     int
	next    int    // seq of the next complete line
	kept    int    // lines in the ring (<= max)
	partial []byte // bytes after the last newline
	wake    chan struct{}
	closed  bool
}

// NewTraceHub returns a hub that keeps the last max lines (DefaultTraceLines when max <= 0).
func NewTraceHub(max int) *TraceHub {
	if max <= 0 {
		max = DefaultTraceLines
	}
	return &TraceHub{max: max, wake: make(chan struct{})}
}

// Write adds the complete lines of p (each ending in "\n", which is not kept); a trailing partial
// line waits for the rest. It never fails: the trace must not stop the world.
func (h *TraceHub) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	added := false
	for _, c := range p {
		if c == '\n' {
			h.add(string(h.partial))
			h.partial = h.partial[:0]
			added = true
			continue
		}
		h.partial = append(h.partial, c)
		if len(h.partial) >= maxPartialLine {
			h.add(string(h.partial))
			h.partial = h.partial[:0]
			added = true
		}
	}
	if added && !h.closed {
		close(h.wake)
		h.wake = make(chan struct{})
	}
	return len(p), nil
}

// add stores one line; the caller holds mu.
func (h *TraceHub) add(line string) {
	if h.ring == nil {
		// Grow lazily: a hub of 100000 lines that sees ten should not hold a 100000-slot ring.
		h.ring = make([]string, 0, min(h.max, 1024))
	}
	if len(h.ring) < h.max {
		h.ring = append(h.ring, line)
	} else {
		h.ring[h.next%h.max] = line
	}
	h.next++
	h.kept = min(h.kept+1, h.max)
}

// Since returns up to limit lines (all when limit <= 0) from sequence number from on. When from is
// older than the oldest line kept, the lines start at the oldest and dropped says how many were
// skipped. next is the sequence number to ask for next time; wait is closed when a line after
// next-1 arrives or the hub is closed (closed reports the latter), so that a follower can block on
// it without missing a line written between the two calls.
func (h *TraceHub) Since(from, limit int) (lines []TraceLine, dropped, next int, wait <-chan struct{}, closed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	oldest := h.next - h.kept
	if from < oldest {
		dropped = oldest - from
		from = oldest
	}
	end := h.next
	if limit > 0 && end-from > limit {
		end = from + limit
	}
	for s := from; s < end; s++ {
		lines = append(lines, TraceLine{Seq: s, Line: h.ring[s%h.max]})
	}
	if from > h.next {
		// A reader ahead of the writer (from a previous run of serve, say) waits for from to exist.
		return nil, dropped, from, h.wake, h.closed
	}
	return lines, dropped, end, h.wake, h.closed
}

// Next is the sequence number the next complete line will get (the number of lines written).
func (h *TraceHub) Next() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.next
}

// Close wakes every waiting reader and makes Since report closed; writes after Close are still
// kept (a world may trace while it stops).
func (h *TraceHub) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.wake) // and it stays closed: every later wait returns at once
	}
	return nil
}
