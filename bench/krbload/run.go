package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/bench/procstat"
)

// Result is the outcome of one measured run.
type Result struct {
	Server   string
	Op       string
	Conc     int
	Ops      int64 // operations that succeeded
	Errors   int64 // operations that failed (any error or a wrong answer)
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

// Line is the parseable result line: space-separated key=value pairs, the first seven fixed (the
// same shape as bench/ldapload's, so bench/run.sh reads both alike).
func (r Result) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server=%s op=%s conc=%d ops=%d secs=%.3f ops_per_sec=%.1f errors=%d",
		r.Server, r.Op, r.Conc, r.Ops, r.Secs, r.OpsPerSec(), r.Errors)
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

// tally counts a phase's outcomes across workers.
type tally struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	first      error
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

// worker is one exchange in flight: its seeded stream and, for tgs, its logon.
type worker struct {
	rng   *rand.Rand
	cname types.PrincipalName
	tgt   messages.Ticket
	sk    types.EncryptionKey
}

// newRand seeds worker w's stream from seed: the same seed and worker give the same users.
func newRand(seed uint64, w int) *rand.Rand { return rand.New(rand.NewPCG(seed, uint64(w))) }

// opFunc runs one operation on a worker and checks its answer.
type opFunc func(w *worker) error

func newOp(c *Config, cl *client) opFunc {
	if c.Op == "tgs" {
		return func(w *worker) error { return cl.ServiceTicket(w.rng, w.cname, w.tgt, w.sk) }
	}
	return func(w *worker) error {
		_, _, err := cl.Login(w.rng, w.rng.IntN(c.Users))
		return err
	}
}

// phase runs op on every worker until the budget runs out and returns the tally and the wall
// time it took (from start to the last worker's return).
func phase(ws []*worker, op opFunc, b *budget) (*tally, time.Duration) {
	t := &tally{}
	var wg sync.WaitGroup
	start := time.Now() // wallclock: measuring throughput
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b.take() {
				if err := op(w); err != nil {
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

// Bench logs the tgs workers on, warms up, then measures c.Op with c.Conc workers.
func Bench(c *Config) (Result, error) {
	keys, err := loadKeys(c)
	if err != nil {
		return Result{}, err
	}
	cl, err := newClient(c, keys)
	if err != nil {
		return Result{}, err
	}
	ws := make([]*worker, c.Conc)
	for w := range ws {
		ws[w] = &worker{rng: newRand(c.Seed, w)}
		if c.Op != "tgs" {
			continue
		}
		u := w % c.Users
		ws[w].cname = types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: []string{UserName(u)}}
		if ws[w].tgt, ws[w].sk, err = cl.Login(ws[w].rng, u); err != nil {
			return Result{}, fmt.Errorf("logon of worker %d: %w", w, err)
		}
	}
	op := newOp(c, cl)
	if c.Warmup > 0 {
		now := time.Now() // wallclock: warm-up deadline
		wt, _ := phase(ws, op, &budget{deadline: now.Add(c.Warmup)})
		if wt.failed.Load() > 0 && wt.ok.Load() == 0 {
			return Result{}, fmt.Errorf("warm-up: every operation failed, first: %w", wt.first)
		}
	}
	cpu, err := startCPU(c.ServerPID)
	if err != nil {
		return Result{}, err
	}
	now := time.Now() // wallclock: measurement deadline
	t, d := phase(ws, op, &budget{max: c.MaxOps, deadline: now.Add(c.Duration)})
	res := Result{Server: c.Server, Op: c.Op, Conc: c.Conc, Ops: t.ok.Load(), Errors: t.failed.Load(),
		Secs: d.Seconds(), FirstErr: t.first}
	return res, cpu.stop(&res)
}

// cpuMeter reads the server's CPU time at the start and the end of a measured phase.
type cpuMeter struct {
	pid   int
	start float64
}

func startCPU(pid int) (cpuMeter, error) {
	if pid == 0 {
		return cpuMeter{}, nil
	}
	s, err := procstat.CPUSeconds(pid)
	return cpuMeter{pid: pid, start: s}, err
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
