//go:build unix

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the driver's flags; each defaults to an environment variable so `make bench` takes
// the same knobs as bench/run.sh (BENCH_CONC, BENCH_DURATION, ...) and its own BENCH_SCALE_*.
type options struct {
	out     string
	sweeps  []string
	max     int
	users   []int
	dcs     []int
	gmsas   []int
	cores   []int
	pwUsers int
	conc    int
	rounds  int
	// libRounds is how many times the library runs on each core count (the median kept).
	libRounds int
	duration  time.Duration
	warmup    time.Duration
	seed      uint64
	gmsasim   string
}

// Sweeps in the order they run.
var allSweeps = []string{"ldap", "repl", "farm", "library"}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("scaling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	var sweeps, users, dcs, gmsas, cores, max, pwUsers, conc, rounds, libRounds, duration, warmup, seed string
	fs.StringVar(&o.out, "out", env("BENCH_SCALE_OUT", "out/bench"), "output directory: a table (.txt), CSV and SVG chart per curve ($BENCH_SCALE_OUT)")
	fs.StringVar(&sweeps, "sweeps", env("BENCH_SCALE_SWEEPS", strings.Join(allSweeps, ",")), "sweeps to run, comma-separated: ldap, repl, farm, library ($BENCH_SCALE_SWEEPS)")
	fs.StringVar(&max, "max", env("BENCH_SCALE_MAX", "0"), "leave out every size above this (users, gMSAs, DCs); 0: none ($BENCH_SCALE_MAX; 10000 skips the slow points)")
	fs.StringVar(&users, "users", env("BENCH_SCALE_USERS", "1000,10000,100000"), "LDAP sweep: users in the directory ($BENCH_SCALE_USERS)")
	fs.StringVar(&dcs, "dcs", env("BENCH_SCALE_DCS", "2,5,10,20"), "replication sweep: DCs ($BENCH_SCALE_DCS)")
	fs.StringVar(&gmsas, "gmsas", env("BENCH_SCALE_GMSAS", "10,100,1000"), "farm sweep: gMSAs, each on its own host ($BENCH_SCALE_GMSAS)")
	fs.StringVar(&cores, "cores", env("BENCH_SCALE_CORES", "1,2"), "library sweep: GOMAXPROCS and --parallel ($BENCH_SCALE_CORES)")
	fs.StringVar(&pwUsers, "pw-users", env("BENCH_SCALE_PW_USERS", "1000"), "LDAP sweep: the first N users get a password, binds pick among them ($BENCH_SCALE_PW_USERS)")
	fs.StringVar(&conc, "conc", env("BENCH_CONC", "8"), "LDAP sweep: connections ($BENCH_CONC)")
	fs.StringVar(&rounds, "rounds", env("BENCH_ROUNDS", "3"), "LDAP sweep: rounds per operation and server, the median kept ($BENCH_ROUNDS)")
	fs.StringVar(&libRounds, "library-rounds", env("BENCH_SCALE_LIBRARY_ROUNDS", "3"), "library sweep: runs per core count, alternating, the median kept ($BENCH_SCALE_LIBRARY_ROUNDS)")
	fs.StringVar(&duration, "duration", env("BENCH_DURATION", "3s"), "LDAP sweep: measured time of a run ($BENCH_DURATION)")
	fs.StringVar(&warmup, "warmup", env("BENCH_WARMUP", "1s"), "LDAP sweep: warm-up before each run ($BENCH_WARMUP)")
	fs.StringVar(&seed, "seed", env("BENCH_SEED", "1"), "seed of every world and client ($BENCH_SEED)")
	fs.StringVar(&o.gmsasim, "gmsasim", env("BENCH_SCALE_GMSASIM", "bin/gmsasim"), "the gmsasim binary (built into a temporary directory when missing) ($BENCH_SCALE_GMSASIM)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	ints := func(name, s string, lo int) []int {
		var out []int
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			v, e := strconv.Atoi(f)
			if e != nil || v < lo {
				err = errors.Join(err, fmt.Errorf("-%s %q: want integers >= %d, comma-separated", name, s, lo))
				return nil
			}
			out = append(out, v)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	one := func(name, s string, lo int) int {
		v := ints(name, s, lo)
		if len(v) != 1 {
			err = errors.Join(err, fmt.Errorf("-%s %q: want one integer >= %d", name, s, lo))
			return 0
		}
		return v[0]
	}
	o.users, o.dcs, o.gmsas, o.cores = ints("users", users, 1), ints("dcs", dcs, 2), ints("gmsas", gmsas, 1), ints("cores", cores, 1)
	o.max, o.pwUsers, o.conc, o.rounds = one("max", max, 0), one("pw-users", pwUsers, 1), one("conc", conc, 1), one("rounds", rounds, 1)
	o.libRounds = one("library-rounds", libRounds, 1)
	s := one("seed", seed, 0)
	o.seed = uint64(s)
	for _, d := range []struct {
		name, s string
		v       *time.Duration
	}{{"duration", duration, &o.duration}, {"warmup", warmup, &o.warmup}} {
		v, derr := time.ParseDuration(d.s)
		if derr != nil || v < 0 {
			err = errors.Join(err, fmt.Errorf("-%s %q: want a duration such as 3s", d.name, d.s))
		}
		*d.v = v
	}
	for _, s := range strings.Split(sweeps, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(allSweeps, s) {
			err = errors.Join(err, fmt.Errorf("-sweeps: unknown sweep %q (want %s)", s, strings.Join(allSweeps, ", ")))
		}
		o.sweeps = append(o.sweeps, s)
	}
	if err != nil {
		return nil, err
	}
	if o.max > 0 {
		keep := func(v []int) []int { return slices.DeleteFunc(v, func(n int) bool { return n > o.max }) }
		o.users, o.dcs, o.gmsas = keep(o.users), keep(o.dcs), keep(o.gmsas)
	}
	return o, nil
}

// run is main without the process: 0 when every sweep ran, 1 when one failed, 2 on bad flags.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "scaling: %v\n", err)
		return 2
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		fmt.Fprintf(stderr, "scaling: %v\n", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "gmsasim-scaling.")
	if err != nil {
		fmt.Fprintf(stderr, "scaling: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	var tables strings.Builder
	fmt.Fprintf(&tables, "gmsasim scaling sweeps: seed %d, %d cores (GOMAXPROCS %d), %s\n\n", o.seed, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	w := io.MultiWriter(stdout, &tables)
	fmt.Fprint(stdout, tables.String())
	var growth []string
	failed := false
	for _, s := range allSweeps {
		if !slices.Contains(o.sweeps, s) {
			continue
		}
		t := time.Now() // wallclock: the driver reports how long each sweep took
		fmt.Fprintf(stderr, "scaling: %s sweep\n", s)
		curves, err := sweep(s, o, tmp, stderr)
		for _, c := range curves {
			if werr := c.Write(o.out, w); werr != nil {
				err = errors.Join(err, werr)
			}
			for _, g := range c.Growth() {
				growth = append(growth, fmt.Sprintf("%-18s %s", c.Name, g))
			}
		}
		if err != nil {
			failed = true
			fmt.Fprintf(stderr, "scaling: %s sweep: %v\n", s, err)
			fmt.Fprintf(w, "%s sweep FAILED: %v\n\n", s, err)
		}
		fmt.Fprintf(stderr, "scaling: %s sweep took %v\n", s, time.Since(t).Round(time.Second)) // wallclock: a benchmark measures wall time
	}
	fmt.Fprintf(w, "growth of each curve's cost with its size (a rate's cost is 1/rate):\n%s\n", strings.Join(growth, "\n"))
	if err := os.WriteFile(filepath.Join(o.out, "scaling.txt"), []byte(tables.String()), 0o644); err != nil {
		fmt.Fprintf(stderr, "scaling: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "scaling: tables, CSV and SVG charts in %s/\n", o.out)
	if failed {
		return 1
	}
	return 0
}

// sweep runs one sweep and returns its curves (those it could measure, also on an error).
func sweep(name string, o *options, tmp string, log io.Writer) ([]*Curve, error) {
	switch name {
	case "repl":
		var rs []ReplResult
		for _, top := range Topologies {
			for _, n := range o.dcs {
				r, err := RunRepl(o.seed, top, n)
				if err != nil {
					return ReplCurves(rs), err
				}
				fmt.Fprintf(log, "  %s %d DCs: %d hops, %v simulated, %v wall, %d deliveries\n", top, n, r.Hops, r.SimTime, r.Wall, r.Events)
				rs = append(rs, r)
			}
		}
		return ReplCurves(rs), writeRaw(o.out, "repl", replRaw(rs))
	case "farm":
		var rs []FarmResult
		for _, n := range o.gmsas {
			r, err := RunFarm(o.seed, n)
			if err != nil {
				return FarmCurves(rs), err
			}
			fmt.Fprintf(log, "  %d gMSAs: setup %v, a year in %v wall (%v CPU), %d rotations\n", n, r.Setup.Round(time.Millisecond), r.Wall.Round(time.Millisecond), r.CPU.Round(time.Millisecond), r.Rotations)
			rs = append(rs, r)
		}
		return FarmCurves(rs), writeRaw(o.out, "farm", farmRaw(rs))
	case "library":
		bin, err := gmsasimBinary(o.gmsasim, tmp)
		if err != nil {
			return nil, err
		}
		var rs []LibraryResult
		for round := range o.libRounds {
			order := slices.Clone(o.cores)
			if round%2 == 1 {
				slices.Reverse(order) // who goes first alternates, as in the LDAP rounds
			}
			for _, c := range order {
				r, err := RunLibrary(bin, c)
				if err != nil {
					return LibraryCurves(rs), err
				}
				fmt.Fprintf(log, "  %d cores: %d scenarios in %v wall, %v CPU\n", c, r.Scenarios, r.Wall.Round(time.Millisecond), r.CPU.Round(time.Millisecond))
				rs = append(rs, r)
			}
		}
		return LibraryCurves(rs), writeRaw(o.out, "library", libraryRaw(rs))
	case "ldap":
		rs, err := runLDAPSweep(o, tmp, log)
		if len(rs) > 0 {
			err = errors.Join(err, writeRaw(o.out, "ldap", ldapRaw(rs)))
		}
		return LDAPCurves(rs, o), err
	}
	return nil, fmt.Errorf("unknown sweep %q", name)
}

// runLDAPSweep builds the client, starts both servers and grows them through the sizes.
func runLDAPSweep(o *options, tmp string, log io.Writer) ([]LDAPResult, error) {
	if len(o.users) == 0 {
		return nil, nil
	}
	bin, err := gmsasimBinary(o.gmsasim, tmp)
	if err != nil {
		return nil, err
	}
	ldapload := filepath.Join(tmp, "ldapload")
	if out, err := exec.Command(goTool(), "build", "-o", ldapload, "./bench/ldapload").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./bench/ldapload: %v: %s", err, out)
	}
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	sl, err := startSlapd(tmp, o.seed)
	switch {
	case errors.Is(err, errNoSlapd):
		fmt.Fprintf(log, "scaling: ldap: SKIPPING slapd: %v; gmsasim alone\n", err)
	case err != nil:
		fmt.Fprintf(log, "scaling: ldap: SKIPPING slapd: %v; gmsasim alone\n", err)
	default:
		servers = append(servers, sl)
	}
	gm, err := startServe(bin, tmp, o.seed)
	if err != nil {
		return nil, err
	}
	servers = append(servers, gm)
	cfg := LDAPConfig{Sizes: o.users, PWUsers: o.pwUsers, Conc: o.conc, Duration: o.duration, Warmup: o.warmup,
		Rounds: o.rounds, Seed: o.seed, Gmsasim: bin, LDAPLoad: ldapload, Dir: tmp, Log: log}
	return RunLDAP(cfg, servers)
}

func goTool() string { return env("GO", "go") }

// gmsasimBinary is path when it exists, else a fresh build of ./cmd/gmsasim in tmp.
func gmsasimBinary(path, tmp string) (string, error) {
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	bin := filepath.Join(tmp, "gmsasim")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if out, err := exec.Command(goTool(), "build", "-o", bin, "./cmd/gmsasim").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s is missing and go build ./cmd/gmsasim failed: %v: %s", path, err, out)
	}
	return bin, nil
}
