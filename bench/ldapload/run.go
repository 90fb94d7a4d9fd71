package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/bench/procstat"
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

// Line is the parseable result line: space-separated key=value pairs, the first six fixed.
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
	for _, k := range []string{"server", "op", "conc", "ops", "secs", "ops_per_sec"} {
		if _, ok := kv[k]; !ok {
			return nil, fmt.Errorf("result line %q: missing %s=", line, k)
		}
	}
	if _, err := strconv.ParseFloat(kv["ops_per_sec"], 64); err != nil {
		return nil, fmt.Errorf("result line ops_per_sec=%q: %w", kv["ops_per_sec"], err)
	}
	return kv, nil
}

// tally counts a phase's outcomes across workers.
type tally struct {
	ok, failed, exists atomic.Int64
	mu                 sync.Mutex
	first              error
}

func (t *tally) fail(err error) {
	t.failed.Add(1)
	t.mu.Lock()
	if t.first == nil {
		t.first = err
	}
	t.mu.Unlock()
}

// budget hands out at most max operations (unlimited when max is 0) until the deadline passes.
type budget struct {
	max      int64
	taken    atomic.Int64
	deadline time.Time
}

func (b *budget) take() bool {
	if b.max > 0 && b.taken.Add(1) > b.max {
		return false
	}
	return time.Now().Before(b.deadline) // wallclock: a benchmark phase ends at a wall-clock deadline
}

// phase runs op on every connection until the budget runs out and returns the tally and the
// wall time it took (from start to the last worker's return).
func phase(c *Config, conns []*ldap.Conn, op opFunc, pickers []picker, b *budget) (*tally, time.Duration) {
	t := &tally{}
	var wg sync.WaitGroup
	start := time.Now() // wallclock: measuring throughput
	for w, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b.take() {
				if err := op(conn, pickers[w].next(c.Users)); err != nil {
					t.fail(err)
					continue
				}
				t.ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return t, time.Since(start) // wallclock: measuring throughput
}

// Bench warms up, then measures c.Op on c.Conc connections.
func Bench(c *Config) (Result, error) {
	conns, err := dialAll(c)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)
	op := newOp(c)
	pickers := make([]picker, len(conns))
	for w := range pickers {
		pickers[w] = newPicker(c.Seed, w)
	}
	if c.Warmup > 0 {
		now := time.Now() // wallclock: warm-up deadline
		wt, _ := phase(c, conns, op, pickers, &budget{deadline: now.Add(c.Warmup)})
		if wt.failed.Load() > 0 && wt.ok.Load() == 0 {
			return Result{}, fmt.Errorf("warm-up: every operation failed, first: %w", wt.first)
		}
	}
	cpu, err := startCPU(c)
	if err != nil {
		return Result{}, err
	}
	now := time.Now() // wallclock: measurement deadline
	t, d := phase(c, conns, op, pickers, &budget{max: c.MaxOps, deadline: now.Add(c.Duration)})
	res := Result{Server: c.Server, Op: c.Op, Conc: c.Conc, Ops: t.ok.Load(), Errors: t.failed.Load(),
		Secs: d.Seconds(), FirstErr: t.first}
	return res, cpu.stop(&res)
}

// Load adds users 0…c.Users-1 over c.Conc connections, each index exactly once. A user that is
// already there counts in Exists, not as an error, so a load can be repeated.
func Load(c *Config) (Result, error) {
	conns, err := dialAll(c)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)
	cpu, err := startCPU(c)
	if err != nil {
		return Result{}, err
	}
	t := &tally{}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now() // wallclock: measuring load throughput
	for _, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= c.Users {
					return
				}
				err := addUser(c, conn, i)
				switch {
				case err == nil:
					t.ok.Add(1)
				case ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists):
					t.exists.Add(1)
				default:
					t.fail(err)
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start) // wallclock: measuring load throughput
	res := Result{Server: c.Server, Op: "load", Conc: c.Conc, Ops: t.ok.Load(), Errors: t.failed.Load(),
		Exists: t.exists.Load(), Secs: d.Seconds(), FirstErr: t.first}
	return res, cpu.stop(&res)
}

// cpuMeter reads the server's CPU time at the start and the end of a measured phase.
type cpuMeter struct {
	pid   int
	start float64
}

func startCPU(c *Config) (cpuMeter, error) {
	if c.ServerPID == 0 {
		return cpuMeter{}, nil
	}
	s, err := procstat.CPUSeconds(c.ServerPID)
	return cpuMeter{pid: c.ServerPID, start: s}, err
}

func (m cpuMeter) stop(r *Result) error {
	if m.pid == 0 {
		return nil
	}
	end, err := procstat.CPUSeconds(m.pid)
	if err != nil {
		return err
	}
	r.ServerCPU, r.HasCPU = end-m.start, true
	return nil
}

func addUser(c *Config, conn *ldap.Conn, i int) error {
	req := ldap.NewAddRequest(c.UserDN(i), nil)
	for _, a := range c.UserEntry(i) {
		req.Attribute(a.Type, a.Values)
	}
	if err := conn.Add(req); err != nil {
		return fmt.Errorf("add %s: %w", c.UserDN(i), err)
	}
	return nil
}

// errOps is returned by run when some operations failed; the result line is printed anyway.
var errOps = errors.New("operations failed")
