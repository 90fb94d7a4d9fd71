package loadkit

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Result is the outcome of one measured run (or of a load).
type Result struct {
	Server   string
	Op       string
	Conc     int
	Ops      int64 // operations that succeeded
	Errors   int64 // operations that failed (any error or a wrong answer)
	Exists   int64 // load only: adds answered entryAlreadyExists (the user was there already)
	Secs     float64
	FirstErr error
	// ServerCPU is the server's CPU seconds (user + system) over the measured phase; HasCPU says
	// whether it was measured (-server-pid).
	ServerCPU float64
	HasCPU    bool
}

// CPUPerOp is the server's CPU microseconds per successful operation.
func (r Result) CPUPerOp() float64 {
	if r.Ops == 0 {
		return 0
	}
	return r.ServerCPU * 1e6 / float64(r.Ops)
}

// OpsPerSec is successful operations per wall-clock second.
func (r Result) OpsPerSec() float64 {
	if r.Secs <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Secs
}

// Line is the parseable result line bench/run.sh reads: space-separated key=value pairs, the first
// seven fixed; exists= follows for a load, the CPU figures when measured.
func (r Result) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server=%s op=%s conc=%d ops=%d secs=%.3f ops_per_sec=%.1f errors=%d",
		r.Server, r.Op, r.Conc, r.Ops, r.Secs, r.OpsPerSec(), r.Errors)
	if r.Op == "load" {
		fmt.Fprintf(&b, " exists=%d", r.Exists)
	}
	if r.HasCPU {
		fmt.Fprintf(&b, " server_cpu_secs=%.2f cpu_us_per_op=%.1f", r.ServerCPU, r.CPUPerOp())
	}
	return b.String()
}

// ParseLine reads a Line back into key → value (for tests and tools that consume the output).
func ParseLine(line string) (map[string]string, error) {
	kv := map[string]string{}
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("result line field %q: want key=value", f)
		}
		kv[k] = v
	}
	for _, k := range []string{"server", "op", "conc", "ops", "secs", "ops_per_sec", "errors"} {
		if _, ok := kv[k]; !ok {
			return nil, fmt.Errorf("result line %q: missing %s=", line, k)
		}
	}
	if _, err := strconv.ParseFloat(kv["ops_per_sec"], 64); err != nil {
		return nil, fmt.Errorf("result line ops_per_sec=%q: %w", kv["ops_per_sec"], err)
	}
	return kv, nil
}

// Tally counts a phase's outcomes across workers.
type Tally struct {
	OK, Failed, Exists atomic.Int64
	mu                 sync.Mutex
	first              error
}

// Fail counts a failed operation and keeps the first error.
func (t *Tally) Fail(err error) {
	t.Failed.Add(1)
	t.mu.Lock()
	if t.first == nil {
		t.first = err
	}
	t.mu.Unlock()
}

// First is the first error Fail was given.
func (t *Tally) First() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.first
}

// Budget hands out at most Max operations (unlimited when Max is 0) until Deadline passes.
type Budget struct {
	Max      int64
	Deadline time.Time
	taken    atomic.Int64
}

// Take reports whether one more operation may run.
func (b *Budget) Take() bool {
	if b.Max > 0 && b.taken.Add(1) > b.Max {
		return false
	}
	return time.Now().Before(b.Deadline) // wallclock: a benchmark phase ends at a wall-clock deadline
}

// CPUMeter reads a server's CPU time at the start and the end of a measured phase.
type CPUMeter struct {
	pid   int
	start float64
}

// StartCPU starts measuring pid (0: measure nothing).
func StartCPU(pid int) (CPUMeter, error) {
	if pid == 0 {
		return CPUMeter{}, nil
	}
	s, err := CPUSeconds(pid)
	return CPUMeter{pid: pid, start: s}, err
}

// Stop records the server's CPU seconds since StartCPU in r.
func (m CPUMeter) Stop(r *Result) error {
	if m.pid == 0 {
		return nil
	}
	end, err := CPUSeconds(m.pid)
	if err != nil {
		return err
	}
	r.ServerCPU, r.HasCPU = end-m.start, true
	return nil
}
