package sim

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// DefaultTraceLines is how many trace lines a world keeps in memory (the writer, if any, gets them
// all). Past it the oldest half is dropped, so a long `serve` does not grow without bound.
const DefaultTraceLines = 1 << 20

// Trace is the ordered log of what happened in a world, each line stamped with the simulated
// offset from the world's start: "+1h00m00s DC2 replicated 3 changes from DC1". The text is
// deterministic: same seed and same operations give the same bytes.
type Trace struct {
	start   time.Time
	lines   []string
	dropped int
	max     int
	w       io.Writer
	werr    error
	tees    map[int]io.Writer // Tee's writers, by the number Tee handed out
	nextTee int
}

// NewTrace starts a trace whose offsets count from start. w, if not nil, receives every line as
// it is written (the `--trace FILE` writer); max bounds the lines kept in memory (0: the default).
func NewTrace(start time.Time, w io.Writer, max int) *Trace {
	if max <= 0 {
		max = DefaultTraceLines
	}
	return &Trace{start: start, w: w, max: max}
}

// Logf appends one line at simulated time now. Newlines in the message are replaced so that one
// event is one line.
func (t *Trace) Logf(now time.Time, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	msg = strings.ReplaceAll(msg, "\n", `\n`)
	line := FormatOffset(now.Sub(t.start)) + " " + msg
	if len(t.lines) >= t.max {
		half := len(t.lines) / 2
		t.dropped += half
		t.lines = append(t.lines[:0], t.lines[half:]...)
	}
	t.lines = append(t.lines, line)
	if t.w != nil && t.werr == nil {
		_, t.werr = io.WriteString(t.w, line+"\n")
	}
	for _, k := range slices.Sorted(maps.Keys(t.tees)) {
		io.WriteString(t.tees[k], line+"\n")
	}
}

// Tee sends every line written from now on to w as well, until the returned function is called.
// w's errors are ignored (it is an observer: a scenario session over a world built in Go).
func (t *Trace) Tee(w io.Writer) (remove func()) {
	if t.tees == nil {
		t.tees = map[int]io.Writer{}
	}
	t.nextTee++
	k := t.nextTee
	t.tees[k] = w
	return func() { delete(t.tees, k) }
}

// Lines returns a copy of the lines kept in memory, oldest first.
func (t *Trace) Lines() []string { return append([]string(nil), t.lines...) }

// Dropped is how many of the oldest lines were dropped from memory.
func (t *Trace) Dropped() int { return t.dropped }

// Tail returns the last n lines.
func (t *Trace) Tail(n int) []string {
	if n > len(t.lines) {
		n = len(t.lines)
	}
	return append([]string(nil), t.lines[len(t.lines)-n:]...)
}

// WriteTo writes the lines kept in memory, one per line.
func (t *Trace) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, l := range t.lines {
		k, err := io.WriteString(w, l+"\n")
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// WriterErr is the first error the trace writer returned, if any; the trace stops writing to it
// after that (the in-memory lines continue).
func (t *Trace) WriterErr() error { return t.werr }
