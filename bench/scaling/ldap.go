//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/bench/loadkit"
)

// LDAPResult is one point of the LDAP sweep for one server and operation: the median round.
type LDAPResult struct {
	Server    string
	Users     int
	Op        string  // "eq", "bind"
	OpsPerSec float64 // median over the rounds
	CPUPerOp  float64 // server CPU microseconds per operation, median over the rounds
	Errors    int64   // failed operations over all rounds
	RSS       uint64  // the server's VmRSS after this point's runs, bytes
	LoadSecs  float64 // wall seconds to grow the directory to Users (from the previous point)
}

// LDAPConfig is the LDAP sweep's settings (bench/run.sh's knobs, and the sizes).
type LDAPConfig struct {
	Sizes    []int // users, ascending
	PWUsers  int   // the first PWUsers users get a password (binds pick among them); the rest none
	Conc     int
	Duration time.Duration
	Warmup   time.Duration
	Rounds   int
	Seed     uint64
	Gmsasim  string // the gmsasim binary
	LDAPLoad string // the ldapload binary
	Dir      string // scratch directory (state, slapd database)
	Log      io.Writer
}

// loadLimit bounds one ldapload run; the largest load (100k users into one server) is the long one.
const loadLimit = 15 * time.Minute

// ldapload runs the client once and returns its result line's fields.
func (c *LDAPConfig) ldapload(s *server, args ...string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), loadLimit)
	defer cancel()
	full := append([]string{"-server", s.name, "-conc", strconv.Itoa(c.Conc), "-seed", strconv.FormatUint(c.Seed, 10),
		"-server-pid", strconv.Itoa(s.pid)}, s.args...)
	full = append(full, args...)
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, c.LDAPLoad, full...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	runErr := cmd.Run()
	line := strings.TrimSpace(out.String())
	if line == "" {
		return nil, fmt.Errorf("ldapload %s: %v: %s", strings.Join(args, " "), runErr, strings.TrimSpace(errb.String()))
	}
	fmt.Fprintf(c.Log, "  users<=%s %s\n", argOf(args, "-users"), line)
	if e := strings.TrimSpace(errb.String()); e != "" {
		fmt.Fprintf(c.Log, "    %s\n", e) // which operations failed, and the first error
	}
	kv, err := loadkit.ParseLine(line)
	if err != nil {
		return nil, err
	}
	if runErr != nil && kv["errors"] == "0" {
		return kv, fmt.Errorf("ldapload %s: %v: %s", strings.Join(args, " "), runErr, strings.TrimSpace(errb.String()))
	}
	return kv, nil
}

func argOf(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return "?"
}

// grow adds users up to n: the first PWUsers with a password (gmsasim: over LDAPS, one PBKDF2 key
// derivation each on the server), the others without one. ldapload's load counts the users already
// there as "exists", so each point adds only its new users.
func (c *LDAPConfig) grow(s *server, n int) (float64, error) {
	t := time.Now() // wallclock: a benchmark measures wall time
	pw := min(n, c.PWUsers)
	if _, err := c.ldapload(s, append([]string{"-mode", "load", "-users", strconv.Itoa(pw)}, s.pwArgs...)...); err != nil {
		return 0, fmt.Errorf("%s: loading %d users with a password: %w", s.name, pw, err)
	}
	if n > pw {
		if _, err := c.ldapload(s, "-mode", "load", "-users", strconv.Itoa(n), "-user-pw", ""); err != nil {
			return 0, fmt.Errorf("%s: loading %d users: %w", s.name, n, err)
		}
	}
	return time.Since(t).Seconds(), nil // wallclock: a benchmark measures wall time
}

// RunLDAP grows each server through the sizes and, at each, runs eq searches and binds in rounds
// (the servers taking turns, who goes first alternating), then reads each server's RSS.
func RunLDAP(c LDAPConfig, servers []*server) ([]LDAPResult, error) {
	var out []LDAPResult
	for _, n := range c.Sizes {
		load := map[string]float64{}
		for _, s := range servers {
			fmt.Fprintf(c.Log, "scaling: ldap: growing %s to %d users\n", s.name, n)
			secs, err := c.grow(s, n)
			if err != nil {
				return out, err
			}
			load[s.name] = secs
			if err := settle(s); err != nil {
				return out, err
			}
		}
		for _, op := range []string{"eq", "bind"} {
			users := n
			if op == "bind" {
				users = min(n, c.PWUsers)
			}
			runs := map[string][]map[string]string{}
			for round := range c.Rounds {
				order := slices.Clone(servers)
				if round%2 == 1 {
					slices.Reverse(order)
				}
				for _, s := range order {
					kv, err := c.ldapload(s, "-op", op, "-users", strconv.Itoa(users), "-duration", c.Duration.String(), "-warmup", c.Warmup.String())
					if err != nil {
						return out, fmt.Errorf("%s %s at %d users: %w", s.name, op, n, err)
					}
					runs[s.name] = append(runs[s.name], kv)
				}
			}
			for _, s := range servers {
				r := LDAPResult{Server: s.name, Users: n, Op: op, LoadSecs: load[s.name]}
				r.OpsPerSec, r.CPUPerOp = median(runs[s.name], "ops_per_sec"), median(runs[s.name], "cpu_us_per_op")
				for _, kv := range runs[s.name] {
					e, _ := strconv.ParseInt(kv["errors"], 10, 64)
					r.Errors += e
				}
				rss, err := rssBytes(s.pid)
				if err != nil {
					return out, fmt.Errorf("%s: %w", s.name, err)
				}
				r.RSS = rss
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// Settling after a load: the server is idle when it used less than settleIdle of CPU over
// settleStep, and the wait is bounded by settleLimit.
const (
	settleStep  = 500 * time.Millisecond
	settleIdle  = 0.05 // CPU seconds per settleStep: 10% of a core
	settleLimit = 60 * time.Second
)

// settle waits until the server's CPU use falls to idle after a load: gmsasim serve is still
// collecting the load's garbage then (its heap at 100k users is about 2 GB), which would otherwise
// count, as server CPU per operation, against the first rounds after the load.
func settle(s *server) error {
	prev, err := loadkit.CPUSeconds(s.pid)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	for t := time.Now(); time.Since(t) < settleLimit; { // wallclock: waiting for a process
		time.Sleep(settleStep)
		cur, err := loadkit.CPUSeconds(s.pid)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if cur-prev < settleIdle {
			return nil
		}
		prev = cur
	}
	return nil // still busy after settleLimit: measure anyway
}

// median of one numeric field over result lines (0 when none has it).
func median(runs []map[string]string, field string) float64 {
	var vs []float64
	for _, kv := range runs {
		if v, err := strconv.ParseFloat(kv[field], 64); err == nil {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}
