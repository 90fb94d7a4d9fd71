package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/internal/safefile"
	"github.com/gmsasim/gmsasim/scenarios"
)

const runUsage = `usage: gmsasim run [PATH...] [--seed N] [--label-filter EXPR] [--shard K/N] [--junit FILE]
                   [--report DIR] [--trace FILE] [--include-pending] [--rewrite] [--allow-empty]
  PATH is a scenario file (read as one whatever its extension) or a directory (every *.scn below
  it, testdata directories excluded); default: scenarios/library.
  --shard K/N runs the K-th of N parts (1 <= K <= N) of the selected scenarios for a CI matrix:
  scenario i of the sorted selection (after --label-filter, malformed files included) goes to part
  i mod N + 1, so the N parts are disjoint, cover the selection, and differ in size by one at most.
  A selection of no scenario (an empty directory, a label no file has, an empty shard) exits 2
  unless --allow-empty.
`

// runRun is `gmsasim run`: run scenario files, print a progress line per scenario and a
// summary, and exit 1 on any failure.
func runRun(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("run", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(stderr, runUsage) }
	seed := fset.Uint64("seed", 0, "override every scenario's seed")
	filter := fset.String("label-filter", "", "run scenarios whose labels match (a && !b, a || b)")
	junit := fset.String("junit", "", "write JUnit XML here")
	report := fset.String("report", "", "write an HTML report (index.html) into this directory")
	traceFile := fset.String("trace", "", "write every scenario's trace here")
	pending := fset.Bool("include-pending", false, "also run scenarios labelled pending")
	shardFlag := fset.String("shard", "", "run part K of N of the selection (K/N, e.g. 2/4)")
	allowEmpty := fset.Bool("allow-empty", false, "exit 0 when the paths, --label-filter and --shard select no scenario (default: exit 2)")
	rewrite := fset.Bool("rewrite", false, "rewrite expected outputs with what the run printed")
	parallel := fset.Int("parallel", runtime.GOMAXPROCS(0), "scenario files run at once (their output still prints in order)")
	fset.BoolVar(rewrite, "update", false, "same as --rewrite")
	var paths []string
	rest := args
	for {
		if err := fset.Parse(rest); err != nil {
			return 2
		}
		if fset.NArg() == 0 {
			break
		}
		paths = append(paths, fset.Arg(0))
		rest = fset.Args()[1:]
	}
	seedSet := false
	fset.Visit(func(f *flag.Flag) {
		if f.Name == "seed" {
			seedSet = true
		}
	})
	if len(paths) == 0 {
		paths = []string{filepath.Join("scenarios", "library")}
	}
	var lf *scenarios.LabelFilter
	if *filter != "" {
		var err error
		if lf, err = scenarios.ParseLabelFilter(*filter); err != nil {
			fmt.Fprintf(stderr, "gmsasim run: %v\n", err)
			return 2
		}
	}
	shardK, shardN, err := parseShard(*shardFlag)
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim run: --shard: %v\n", err)
		return 2
	}
	files, err := collectScenarios(paths)
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim run: %v\n", err)
		return 2
	}
	var trace bytes.Buffer
	var results []*scenarios.Result
	failed, skipped, parseErrs := 0, 0, 0
	var simTotal time.Duration
	start := time.Now()          // wallclock: the summary's simulated-seconds per wall-second
	keys := fakekds.NewKeyMemo() // one memo of key derivations for every world of the run
	// The selection: every file that parses and matches the filter, and every malformed one (it
	// must fail somewhere); then this shard's part of it.
	type selected struct {
		file string
		sc   *scenarios.Scenario
		err  error
	}
	var sel []selected
	filtered := 0
	for _, f := range files {
		parse := scenarios.ParseFile
		if *rewrite {
			parse = scenarios.ParseFileForRewrite
		}
		sc, err := parse(f)
		if err == nil && !lf.Match(sc) {
			filtered++
			continue
		}
		sel = append(sel, selected{f, sc, err})
	}
	if shardN > 0 {
		var part []selected
		for i, s := range sel {
			if i%shardN == shardK-1 {
				part = append(part, s)
			}
		}
		fmt.Fprintf(stdout, "shard %d/%d: %d of %d scenarios\n", shardK, shardN, len(part), len(sel))
		sel = part
	}
	if len(sel) == 0 && !*allowEmpty {
		// A mistyped label or path must not pass a CI gate as "0 scenarios, 0 failed".
		why := fmt.Sprintf("%d scenario files", len(files))
		if *filter != "" {
			why += fmt.Sprintf(", %d filtered out by --label-filter %q", filtered, *filter)
		}
		if shardN > 0 {
			why += fmt.Sprintf(", none in shard %d/%d", shardK, shardN)
		}
		fmt.Fprintf(stderr, "gmsasim run: no scenario selected (%s); --allow-empty accepts an empty selection\n", why)
		return 2
	}
	// The files run on --parallel workers (each its own worlds; the key memo is shared and safe for
	// concurrent use); their results print, and go into JUnit and the report, in selection order, so
	// the output is the same whatever the number of workers.
	type done struct {
		worlds []*scenarios.Result
		wall   time.Duration
	}
	out := make([]chan done, len(sel))
	for i := range out {
		out[i] = make(chan done, 1)
	}
	work := make(chan int)
	for range max(1, min(*parallel, len(sel))) {
		go func() {
			for i := range work {
				s := sel[i]
				if s.err != nil {
					out[i] <- done{}
					continue
				}
				began := time.Now() // wallclock: the JUnit testcase's time
				// A file with a worlds block is one result per world (file.scn[schema=47]).
				worlds := scenarios.RunWorlds(s.sc, scenarios.Options{Seed: *seed, SeedSet: seedSet, Rewrite: *rewrite, IncludePending: *pending, Keys: keys})
				out[i] <- done{worlds, time.Since(began)} // wallclock
			}
		}()
	}
	go func() {
		for i := range sel {
			work <- i
		}
		close(work)
	}()
	for i, s := range sel {
		f := s.file
		d := <-out[i]
		if s.err != nil {
			parseErrs++
			fmt.Fprintf(stdout, "FAIL %s\n  %v\n", f, s.err)
			results = append(results, scenarios.MalformedResult(f, s.err)) // JUnit <error>, report failure
			continue
		}
		worlds := d.worlds
		wallEach := d.wall / time.Duration(len(worlds)) // wallclock: the JUnit testcase's time
		for _, res := range worlds {
			if *traceFile != "" && !res.Skipped {
				fmt.Fprintf(&trace, "== %s seed=%d\n", res.Name(), res.Seed)
				for _, l := range res.Trace {
					trace.WriteString(l + "\n")
				}
			}
			res.Wall = wallEach
			results = append(results, res)
			simTotal += res.SimElapsed
			switch {
			case res.Skipped:
				skipped++
				fmt.Fprintf(stdout, "skip %s (%s)\n", res.Name(), "pending")
			case res.Failure != nil:
				failed++
				fmt.Fprintf(stdout, "FAIL %s\n%s", res.Name(), indent(res.Failure.Error()))
			default:
				fmt.Fprintf(stdout, "ok   %s (seed=%d, %d steps, simulated %s)\n", res.Name(), res.Seed, res.Steps, fmtDur(res.SimElapsed))
			}
		}
		if res := worlds[0]; *rewrite && res.Rewritten != "" {
			old, _ := os.ReadFile(f)
			if string(old) != res.Rewritten {
				// The user's own file: keep its mode; refuse a symlink rather than write through it.
				if err := safefile.Rewrite(f, []byte(res.Rewritten)); err != nil {
					fmt.Fprintf(stderr, "gmsasim run: %v\n", err)
					return 1
				}
				fmt.Fprintf(stdout, "     rewrote %s\n", f)
			}
		}
	}
	wall := time.Since(start) // wallclock: summary only
	ran := len(results) - skipped - parseErrs
	rate := "n/a"
	if wall > 0 {
		rate = fmt.Sprintf("%.3g", simTotal.Seconds()/wall.Seconds())
	}
	summary := fmt.Sprintf("%d scenarios: %d passed, %d failed, %d skipped (pending), %d malformed; simulated %s in %s wall (%s simulated-seconds per wall-second)",
		len(results), ran-failed, failed, skipped, parseErrs, fmtDur(simTotal), wall.Round(time.Millisecond), rate)
	fmt.Fprintln(stdout, summary)
	if *traceFile != "" {
		if err := writeFileMkdir(*traceFile, trace.Bytes()); err != nil {
			fmt.Fprintf(stderr, "gmsasim run: writing trace: %v\n", err)
			return 1
		}
	}
	if *junit != "" {
		var buf bytes.Buffer
		err := scenarios.WriteJUnit(&buf, results, wall)
		if err == nil {
			err = writeFileMkdir(*junit, buf.Bytes())
		}
		if err != nil {
			fmt.Fprintf(stderr, "gmsasim run: writing JUnit %s: %v\n", *junit, err)
			return 1
		}
	}
	if *report != "" {
		var buf bytes.Buffer
		if err := scenarios.WriteReport(&buf, results, summary); err != nil {
			fmt.Fprintf(stderr, "gmsasim run: report: %v\n", err)
			return 1
		}
		p := filepath.Join(*report, "index.html")
		if err := writeFileMkdir(p, buf.Bytes()); err != nil {
			fmt.Fprintf(stderr, "gmsasim run: report: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "report: %s\n", p)
	}
	if failed > 0 || parseErrs > 0 {
		return 1
	}
	return 0
}

// parseShard reads --shard K/N; "" is no sharding (0, 0).
func parseShard(v string) (k, n int, err error) {
	if v == "" {
		return 0, 0, nil
	}
	ks, ns, ok := strings.Cut(v, "/")
	k, errK := strconv.Atoi(ks)
	n, errN := strconv.Atoi(ns)
	if !ok || errK != nil || errN != nil || n < 1 || k < 1 || k > n {
		return 0, 0, fmt.Errorf("%q: want K/N with 1 <= K <= N, e.g. 2/4", v)
	}
	return k, n, nil
}

// collectScenarios expands directories to their *.scn files (sorted, testdata excluded); a file
// named explicitly is taken whatever its extension.
func collectScenarios(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" && path != p {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".scn") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func fmtDur(d time.Duration) string {
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	if days > 0 {
		return fmt.Sprintf("%dd%s", days, d.Truncate(time.Second))
	}
	return d.Truncate(time.Second).String()
}

// writeFileMkdir writes a report, trace or JUnit file (nothing secret: 0644) to path, creating the
// directories above it. The file is replaced, not written through a symlink someone left there.
func writeFileMkdir(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return safefile.WriteFile(path, data, 0o644)
}
