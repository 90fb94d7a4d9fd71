package main

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/bench/loadkit"
)

// Result is one measured run (or a load): the line bench/run.sh reads.
type Result = loadkit.Result

// phase runs op on every connection until the budget runs out and returns the tally and the
// wall time it took (from start to the last worker's return).
func phase(c *Config, conns []*ldap.Conn, ops []opFunc, pickers []picker, b *loadkit.Budget) (*loadkit.Tally, time.Duration) {
	t := &loadkit.Tally{}
	var wg sync.WaitGroup
	start := time.Now() // wallclock: measuring throughput
	for w, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b.Take() {
				if err := ops[w](conn, pickers[w].next(c.Users)); err != nil {
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

// Bench warms up, then measures c.Op on c.Conc connections.
func Bench(c *Config) (Result, error) {
	conns, err := dialAll(c)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)
	ops := make([]opFunc, len(conns))
	pickers := make([]picker, len(conns))
	for w := range pickers {
		pickers[w] = newPicker(c.Seed, w)
		if ops[w], err = newOp(c, w); err != nil {
			return Result{}, err
		}
	}
	if c.Warmup > 0 {
		now := time.Now() // wallclock: warm-up deadline
		wt, _ := phase(c, conns, ops, pickers, &loadkit.Budget{Deadline: now.Add(c.Warmup)})
		if wt.Failed.Load() > 0 && wt.OK.Load() == 0 {
			return Result{}, fmt.Errorf("warm-up: every operation failed, first: %w", wt.First())
		}
	}
	cpu, err := loadkit.StartCPU(c.ServerPID)
	if err != nil {
		return Result{}, err
	}
	now := time.Now() // wallclock: measurement deadline
	t, d := phase(c, conns, ops, pickers, &loadkit.Budget{Max: c.MaxOps, Deadline: now.Add(c.Duration)})
	res := Result{Server: c.Server, Op: c.Op, Conc: c.Conc, Ops: t.OK.Load(), Errors: t.Failed.Load(),
		Secs: d.Seconds(), FirstErr: t.First()}
	return res, cpu.Stop(&res)
}

// Load adds users 0…c.Users-1 over c.Conc connections, each index exactly once. A user that is
// already there counts in Exists, not as an error, so a load can be repeated.
func Load(c *Config) (Result, error) {
	conns, err := dialAll(c)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)
	cpu, err := loadkit.StartCPU(c.ServerPID)
	if err != nil {
		return Result{}, err
	}
	t := &loadkit.Tally{}
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
					t.OK.Add(1)
				case ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists):
					t.Exists.Add(1)
				default:
					t.Fail(err)
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start) // wallclock: measuring load throughput
	res := Result{Server: c.Server, Op: "load", Conc: c.Conc, Ops: t.OK.Load(), Errors: t.Failed.Load(),
		Exists: t.Exists.Load(), Secs: d.Seconds(), FirstErr: t.First()}
	return res, cpu.Stop(&res)
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
