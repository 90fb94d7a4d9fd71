package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/bench/loadkit"
)

// Result is one measured run (or a load): the line bench/run.sh reads.
type Result = loadkit.Result

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
func phase(ws []*worker, op opFunc, b *loadkit.Budget) (*loadkit.Tally, time.Duration) {
	t := &loadkit.Tally{}
	var wg sync.WaitGroup
	start := time.Now() // wallclock: measuring throughput
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b.Take() {
				if err := op(w); err != nil {
					t.Fail(err)
					continue
				}
				t.OK.Add(1)
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
		wt, _ := phase(ws, op, &loadkit.Budget{Deadline: now.Add(c.Warmup)})
		if wt.Failed.Load() > 0 && wt.OK.Load() == 0 {
			return Result{}, fmt.Errorf("warm-up: every operation failed, first: %w", wt.First())
		}
	}
	cpu, err := loadkit.StartCPU(c.ServerPID)
	if err != nil {
		return Result{}, err
	}
	now := time.Now() // wallclock: measurement deadline
	t, d := phase(ws, op, &loadkit.Budget{Max: c.MaxOps, Deadline: now.Add(c.Duration)})
	res := Result{Server: c.Server, Op: c.Op, Conc: c.Conc, Ops: t.OK.Load(), Errors: t.Failed.Load(),
		Secs: d.Seconds(), FirstErr: t.First()}
	return res, cpu.Stop(&res)
}
