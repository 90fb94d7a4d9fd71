//go:build unix

package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/bench/chart"
)

// The curves each sweep draws, and each sweep's raw table (every measured field, one row per
// point) as NAME-raw.csv.

const mib = 1 << 20

func machine() string { return fmt.Sprintf("%d cores", runtime.NumCPU()) }

// LDAPCurves: throughput and server CPU per operation of eq searches and binds, and each server's
// RSS, over the users in the directory.
func LDAPCurves(rs []LDAPResult, o *options) []*Curve {
	if len(rs) == 0 {
		return nil
	}
	note := fmt.Sprintf("%s shared by client and servers; %d connections; median of %d rounds of %v; binds among the first %d users",
		machine(), o.conc, o.rounds, o.duration, o.pwUsers)
	var failed []string
	for _, r := range rs {
		if r.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s %s at %d users: %d", r.Server, r.Op, r.Users, r.Errors))
		}
	}
	if len(failed) > 0 {
		note += "\nfailed operations: " + strings.Join(failed, ", ") + " (see ldap-raw.csv)"
	}
	users := chart.Axis{Label: "users in the directory", Log: true}
	var servers []string
	for _, r := range rs {
		if !slices.Contains(servers, r.Server) {
			servers = append(servers, r.Server)
		}
	}
	series := func(op string, y func(LDAPResult) float64, work Work) []Line {
		var ls []Line
		for _, s := range servers {
			l := Line{Series: chart.Series{Name: s + " " + op, Dashed: op == "bind"}, Work: work}
			for _, r := range rs {
				if r.Server == s && r.Op == op {
					l.Points = append(l.Points, chart.Point{X: float64(r.Users), Y: y(r)})
				}
			}
			ls = append(ls, l)
		}
		return ls
	}
	ops := func(r LDAPResult) float64 { return r.OpsPerSec }
	cpu := func(r LDAPResult) float64 { return r.CPUPerOp }
	rss := func(r LDAPResult) float64 { return float64(r.RSS) / mib }
	var rssLines []Line
	for _, l := range series("bind", rss, Linear) { // RSS after the binds: the last reading of each point
		l.Name, l.Dashed = l.Name[:len(l.Name)-len(" bind")], false
		rssLines = append(rssLines, l)
	}
	return []*Curve{
		{Name: "ldap-throughput", Title: "LDAP eq search and bind throughput over directory size", X: users,
			Y: chart.Axis{Label: "operations per second", Zero: true}, Rate: true, Digits: 0, Note: note,
			Lines: append(series("eq", ops, Flat), series("bind", ops, Flat)...)},
		{Name: "ldap-cpu", Title: "LDAP server CPU per operation over directory size", X: users,
			Y: chart.Axis{Label: "server CPU µs per operation", Zero: true}, Digits: 1, Note: note,
			Lines: append(series("eq", cpu, Flat), series("bind", cpu, Flat)...)},
		{Name: "ldap-rss", Title: "LDAP server resident memory over directory size", X: users,
			Y: chart.Axis{Label: "RSS (MiB)", Log: true}, Digits: 1, Note: note + "; VmRSS after the point's runs", Lines: rssLines},
	}
}

// ReplCurves: a change's convergence time (simulated and wall), its deliveries and allocations, and
// the world's memory, over the number of DCs, for each topology.
func ReplCurves(rs []ReplResult) []*Curve {
	if len(rs) == 0 {
		return nil
	}
	dcs := chart.Axis{Label: "domain controllers", Log: true}
	note := fmt.Sprintf("%s; link delay 15 s (sim's default); one new group on DC1; median of %d changes", machine(), changes)
	// work is each topology's work for one quantity.
	lines := func(y func(ReplResult) float64, work map[string]Work) []Line {
		var ls []Line
		for _, top := range Topologies {
			l := Line{Series: chart.Series{Name: top, Dashed: top == "ring"}, Work: work[top]}
			for _, r := range rs {
				if r.Topology == top {
					l.Points = append(l.Points, chart.Point{X: float64(r.DCs), Y: y(r)})
				}
			}
			ls = append(ls, l)
		}
		return ls
	}
	return []*Curve{
		{Name: "repl-simtime", Title: "Replication: simulated time until every DC has a change", X: chart.Axis{Label: "domain controllers"},
			Y: chart.Axis{Label: "simulated seconds", Zero: true}, Digits: 0, Note: note,
			Lines: lines(func(r ReplResult) float64 { return r.SimTime.Seconds() }, map[string]Work{"mesh": Flat, "ring": ringHops})},
		{Name: "repl-deliveries", Title: "Replication: deliveries per change (echoes included)", X: dcs,
			Y: chart.Axis{Label: "deliveries", Log: true}, Digits: 0, Note: note,
			Lines: lines(func(r ReplResult) float64 { return float64(r.Events) }, map[string]Work{"mesh": meshLinks, "ring": ringLinks})},
		{Name: "repl-wall", Title: "Replication: wall time of one change until quiet", X: dcs,
			Y: chart.Axis{Label: "wall milliseconds", Log: true}, Digits: 3, Note: note,
			Lines: lines(func(r ReplResult) float64 { return r.Wall.Seconds() * 1000 }, map[string]Work{"mesh": meshLinks, "ring": ringLinks})},
		{Name: "repl-alloc", Title: "Replication: memory allocated by one change", X: dcs,
			Y: chart.Axis{Label: "KiB allocated", Log: true}, Digits: 1, Note: note,
			Lines: lines(func(r ReplResult) float64 { return float64(r.AllocBytes) / 1024 }, map[string]Work{"mesh": meshLinks, "ring": ringLinks})},
		{Name: "repl-memory", Title: "Replication: live heap of the world (every DC's replica)", X: dcs,
			Y: chart.Axis{Label: "heap MiB", Log: true}, Digits: 1, Note: note,
			Lines: lines(func(r ReplResult) float64 { return float64(r.Heap) / mib }, map[string]Work{"mesh": Linear, "ring": Linear})},
	}
}

// The replication sweep's works: a change crosses every link of a mesh once each way at most
// (n(n-1)/2 links), a ring's n links (one for 2 DCs), in n/2 hops around a ring.
var (
	meshLinks = Work{Name: "n(n-1)/2 links", Of: func(n float64) float64 { return n * (n - 1) / 2 }}
	ringLinks = Work{Name: "n links", Of: func(n float64) float64 { return map[bool]float64{true: 1, false: n}[n == 2] }}
	ringHops  = Work{Name: "n/2 hops", Of: func(n float64) float64 { return math.Floor(n / 2) }}
)

// FarmCurves: a simulated year of the farm, over the gMSAs.
func FarmCurves(rs []FarmResult) []*Curve {
	if len(rs) == 0 {
		return nil
	}
	gm := chart.Axis{Label: "gMSAs (each installed on its own host)", Log: true}
	note := machine() + "; one DC; 30-day rotations; each host refreshes its cache before each; setup not timed"
	line := func(name string, y func(FarmResult) float64, dashed bool) Line {
		l := Line{Series: chart.Series{Name: name, Dashed: dashed}, Work: Linear}
		for _, r := range rs {
			l.Points = append(l.Points, chart.Point{X: float64(r.GMSAs), Y: y(r)})
		}
		return l
	}
	return []*Curve{
		{Name: "farm-wall", Title: "A simulated year of a gMSA farm: time", X: gm, Y: chart.Axis{Label: "seconds", Log: true}, Digits: 2, Note: note,
			Lines: []Line{line("wall", func(r FarmResult) float64 { return r.Wall.Seconds() }, false),
				line("CPU (user+sys)", func(r FarmResult) float64 { return r.CPU.Seconds() }, true)}},
		{Name: "farm-rate", Title: "A simulated year of a gMSA farm: simulated seconds per wall second", X: gm,
			Y: chart.Axis{Label: "simulated s per wall s", Log: true}, Rate: true, Digits: 0, Note: note,
			Lines: []Line{line("simulated/wall", FarmResult.SimPerWall, false)}},
		{Name: "farm-alloc", Title: "A simulated year of a gMSA farm: allocations", X: gm, Y: chart.Axis{Label: "MiB, thousands", Log: true}, Digits: 1, Note: note,
			Lines: []Line{line("MiB allocated", func(r FarmResult) float64 { return float64(r.AllocBytes) / mib }, false),
				line("allocations (thousands)", func(r FarmResult) float64 { return float64(r.Allocs) / 1000 }, true)}},
	}
}

// LibraryCurves: the scenario library's wall and CPU time over the cores it may use.
func LibraryCurves(rs []LibraryResult) []*Curve {
	if len(rs) == 0 {
		return nil
	}
	var cores []int
	for _, r := range rs {
		if !slices.Contains(cores, r.Cores) {
			cores = append(cores, r.Cores)
		}
	}
	slices.Sort(cores)
	note := fmt.Sprintf("%s shared with other work; gmsasim run %s %s, GOMAXPROCS=--parallel=cores; median of %d runs",
		machine(), LibraryPaths[0], LibraryPaths[1], len(rs)/len(cores))
	// Each core count's median run.
	line := func(name string, y func(LibraryResult) float64, dashed bool) Line {
		l := Line{Series: chart.Series{Name: name, Dashed: dashed}, Work: Flat}
		for _, c := range cores {
			var vs []float64
			for _, r := range rs {
				if r.Cores == c {
					vs = append(vs, y(r))
				}
			}
			slices.Sort(vs)
			m := vs[len(vs)/2]
			if len(vs)%2 == 0 {
				m = (vs[len(vs)/2-1] + m) / 2
			}
			l.Points = append(l.Points, chart.Point{X: float64(c), Y: m})
		}
		return l
	}
	return []*Curve{{Name: "library", Title: "Scenario library: wall and CPU time over cores", X: chart.Axis{Label: "cores (GOMAXPROCS)"},
		Y: chart.Axis{Label: "seconds", Zero: true}, Digits: 2, Note: note,
		Lines: []Line{line("wall", func(r LibraryResult) float64 { return r.Wall.Seconds() }, false),
			line("CPU (user+sys)", func(r LibraryResult) float64 { return r.CPU.Seconds() }, true)}}}
}

// writeRaw writes a sweep's raw table as NAME-raw.csv.
func writeRaw(dir, name string, rows [][]string) error {
	f, err := os.Create(filepath.Join(dir, name+"-raw.csv"))
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func itoa[T ~int | ~int64 | ~uint64](v T) string { return strconv.FormatInt(int64(v), 10) }
func ftoa(v float64, d int) string               { return strconv.FormatFloat(v, 'f', d, 64) }
func secs(d time.Duration) string                { return ftoa(d.Seconds(), 6) }

func ldapRaw(rs []LDAPResult) [][]string {
	out := [][]string{{"server", "users", "op", "ops_per_sec", "cpu_us_per_op", "errors", "rss_bytes", "load_secs"}}
	for _, r := range rs {
		out = append(out, []string{r.Server, itoa(r.Users), r.Op, ftoa(r.OpsPerSec, 1), ftoa(r.CPUPerOp, 1), itoa(r.Errors), itoa(r.RSS), ftoa(r.LoadSecs, 1)})
	}
	return out
}

func replRaw(rs []ReplResult) [][]string {
	out := [][]string{{"topology", "dcs", "build_secs", "heap_bytes", "hops", "sim_secs", "wall_secs", "deliveries", "alloc_bytes", "allocs", "check_secs"}}
	for _, r := range rs {
		out = append(out, []string{r.Topology, itoa(r.DCs), secs(r.Build), itoa(r.Heap), itoa(r.Hops), secs(r.SimTime), secs(r.Wall),
			itoa(r.Events), itoa(r.AllocBytes), itoa(r.Allocs), secs(r.Check)})
	}
	return out
}

func farmRaw(rs []FarmResult) [][]string {
	out := [][]string{{"gmsas", "setup_secs", "wall_secs", "cpu_secs", "sim_per_wall", "events", "rotations", "allocs", "alloc_bytes", "heap_bytes"}}
	for _, r := range rs {
		out = append(out, []string{itoa(r.GMSAs), secs(r.Setup), secs(r.Wall), secs(r.CPU), ftoa(r.SimPerWall(), 0), itoa(r.Events),
			itoa(r.Rotations), itoa(r.Allocs), itoa(r.AllocBytes), itoa(r.Heap)})
	}
	return out
}

func libraryRaw(rs []LibraryResult) [][]string {
	out := [][]string{{"cores", "wall_secs", "cpu_secs", "max_rss_bytes", "scenarios"}}
	for _, r := range rs {
		out = append(out, []string{itoa(r.Cores), secs(r.Wall), secs(r.CPU), itoa(r.MaxRSS), itoa(r.Scenarios)})
	}
	return out
}
