package scenarios

import (
	"errors"
	"fmt"
	"github.com/gmsasim/gmsasim/scenarios/ps"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// Options of a run.
type Options struct {
	Seed           uint64 // used when SeedSet; otherwise the world line's seed (default 1)
	SeedSet        bool
	Rewrite        bool // record actual outputs instead of comparing (Result.Rewritten)
	IncludePending bool // run files labelled pending instead of skipping them
	// TraceWriter receives every trace line of the run as it is written.
	TraceWriter io.Writer
	// Keys is shared by the scenario's worlds for key derivations (nil: each world its own); a
	// run of many scenarios passes one to all of them (cmd run, the harness).
	Keys *fakekds.KeyMemo
	// Configure, when set, changes the world's configuration before the world is built (serve
	// makes a scenario's world realtime, starting at the wall clock, with its trace writer).
	Configure func(*sim.Config)
	// linkScale multiplies every link delay (metamorphic variants); 0 means 1.
	linkScale float64
	// NoCompare runs the steps without comparing their outputs (metamorphic variants; serve
	// --world, whose seed is not the file's).
	NoCompare bool
	// World names the row of the file's worlds block to run (worlds.go); "" with Run: every row,
	// with Open: the first.
	World string
}

// Result is the outcome of one scenario.
type Result struct {
	Scenario   *Scenario
	World      string // the row of the file's worlds block this run is ("" for a file without one)
	Seed       uint64
	Skipped    bool
	SkipReason string
	Failure    *Failure // nil: passed (or skipped)
	Rewritten  string   // with Options.Rewrite: the file with recorded outputs
	SimElapsed time.Duration
	Events     int
	Steps      int // steps run
	DCs        []string
	Hosts      []string
	Timeline   []TimelineEvent
	Trace      []string // every trace line of the run
	Digest     string   // the first DC's directory digest at the end
	// Outputs are the outputs of the steps that ran, by directive line (for partial rewrites).
	Outputs map[int]string
	// Wall is the run's wall-clock time, when the caller measured it (JUnit's time attribute).
	Wall time.Duration
	// Malformed is the parse error of a file that could not be run (Scenario then holds only
	// its Path): a JUnit <error>, a failure in the report, never a pass.
	Malformed error
}

// MalformedResult is the result of a scenario file that does not parse.
func MalformedResult(path string, err error) *Result {
	return &Result{Scenario: &Scenario{Path: path}, Malformed: err}
}

// Failure is a failed scenario: where, when, what was expected and what happened.
type Failure struct {
	Seed      uint64
	Path      string
	Line      int
	Elapsed   time.Duration
	Step      string // the directive line and its input
	Expected  string
	Got       string
	Msg       string // what went wrong when it is not an output mismatch
	Hint      string
	TraceTail []string
	World     string // the row of the file's worlds block ("" for a file without one)
}

// Location is "seed=N scenario=path:line t=+HhMm", the start of every failure message.
func (f *Failure) Location() string {
	if f.World != "" {
		return fmt.Sprintf("seed=%d scenario=%s:%d t=%s world=[%s]", f.Seed, f.Path, f.Line, shortOffset(f.Elapsed), f.World)
	}
	return fmt.Sprintf("seed=%d scenario=%s:%d t=%s", f.Seed, f.Path, f.Line, shortOffset(f.Elapsed))
}

// Replay is the command that reproduces the failure.
func (f *Failure) Replay() string { return fmt.Sprintf("gmsasim run %s --seed %d", f.Path, f.Seed) }

func (f *Failure) Error() string {
	var b strings.Builder
	b.WriteString(f.Location())
	if f.Msg != "" {
		b.WriteString(": " + f.Msg)
	} else {
		b.WriteString(": output differs")
	}
	b.WriteString("\nstep:\n")
	for _, l := range strings.Split(f.Step, "\n") {
		b.WriteString("  " + l + "\n")
	}
	if f.Msg == "" {
		b.WriteString("diff (-expected +got):\n")
		b.WriteString(lineDiff(f.Expected, f.Got))
	}
	if f.Hint != "" {
		b.WriteString("hint: " + f.Hint + "\n")
	}
	if len(f.TraceTail) > 0 {
		b.WriteString("last trace lines:\n")
		for _, l := range f.TraceTail {
			b.WriteString("  " + l + "\n")
		}
	}
	b.WriteString("replay: " + f.Replay() + "\n")
	return b.String()
}

// shortOffset prints +10h05m (minutes precision) as failure locations do.
func shortOffset(d time.Duration) string {
	d = d.Truncate(time.Minute)
	return fmt.Sprintf("+%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// PendingFeatureError is a step that needs a part of the simulator that does not exist yet.
type PendingFeatureError struct {
	Feature string // "member hosts (issue 4)"
	What    string
}

func (e *PendingFeatureError) Error() string {
	return fmt.Sprintf("%s needs %s, which is not simulated yet", e.What, e.Feature)
}

// traceTailLines is how many trace lines a failure shows.
const traceTailLines = 12

type runner struct {
	sc      *Scenario
	opt     Options
	w       *sim.World
	hosts   *host.Fleet // the world's member hosts
	ws      *worldSpec
	sess    *session
	kdsRand io.Reader
	trace   *traceBuf
	tl      timeline
	tickets map[string]*host.Ticket // kerberos ... save=NAME
	cut     map[[2]string]bool
	stopped map[string]bool
	// The language's tables, built for this run.
	directives map[string]directive
	cmdlets    cmdletTable
	mim        *mimRun   // the MIM directives' state (migrate.go); nil until the first
	wire       *wireLDAP // the DCs' LDAP servers for wire probes (ldapwire.go); nil until the first
	lastErr    error     // the error the last directive returned (not a pending feature)
	row        *WorldRow // the row of the worlds block this run is; nil: the file has none
	stepErrs   []string  // the errors of the step running (expect.go), for error assertions
}

func newRunner(sc *Scenario, opt Options) *runner {
	row, _ := sc.row(opt.World) // checked by run
	return &runner{sc: sc, opt: opt, trace: &traceBuf{fwd: opt.TraceWriter}, cut: map[[2]string]bool{}, stopped: map[string]bool{},
		directives: directiveTable(), cmdlets: newCmdletTable(), row: row}
}

// traceBuf collects trace lines (and forwards them to the run's writer). Lines are numbered from
// 0; a kept session (Open) drops old ones, so since() counts from the numbers, not the slice.
// The world writes into it under its own lock from any goroutine (a served world's network
// requests), so it has its own.
type traceBuf struct {
	mu      sync.Mutex
	lines   []string
	first   int // the number of lines[0]
	max     int // 0: keep every line (a run); else keep at most this many (a session)
	partial string
	fwd     io.Writer
}

func (t *traceBuf) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.partial + string(p)
	parts := strings.Split(s, "\n")
	t.partial = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if t.max > 0 && len(t.lines) > t.max {
		drop := len(t.lines) - t.max/2
		t.first += drop
		t.lines = append(t.lines[:0], t.lines[drop:]...)
	}
	if t.fwd != nil {
		if _, err := t.fwd.Write(p); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// mark is the number the next line will have.
func (t *traceBuf) mark() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.first + len(t.lines)
}

// since returns the lines numbered mark and after that are still kept.
func (t *traceBuf) since(mark int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := max(mark-t.first, 0)
	if i > len(t.lines) {
		return nil
	}
	return append([]string(nil), t.lines[i:]...)
}

// all returns the lines kept.
func (t *traceBuf) all() []string { return t.since(0) }

// Run runs a parsed scenario. A file with a worlds block runs every world (RunWorlds) and the
// result is the first that failed, else the first; with Rewrite its Rewritten merges them all.
func Run(sc *Scenario, opt Options) *Result {
	all := RunWorlds(sc, opt)
	for _, r := range all {
		if r.Failure != nil {
			return r
		}
	}
	return all[0]
}

// runOne runs one world of a scenario (opt.World, the first when "").
func runOne(sc *Scenario, opt Options) *Result {
	res := &Result{Scenario: sc, Seed: opt.Seed, World: opt.World}
	if !opt.SeedSet {
		res.Seed = 1
		if v, ok := sc.Steps[0].Arg("seed"); ok {
			fmt.Sscan(v, &res.Seed)
		}
	}
	if sc.Pending() && !opt.IncludePending {
		res.Skipped, res.SkipReason = true, "labelled pending (needs a part of the simulator that is still being built); --include-pending runs it"
		return res
	}
	r := newRunner(sc, opt)
	got := map[int]string{}
	fail := r.run(res, got)
	if fail == nil {
		fail = r.invariants(res)
	}
	r.closeMIM()
	r.closeWire()
	res.Failure = fail
	res.Outputs = got
	res.Trace = r.trace.all()
	res.Timeline = r.tl.events
	if r.w != nil {
		res.SimElapsed = r.w.Elapsed()
		res.Events = r.w.EventsRun()
		for _, d := range r.w.DCs() {
			res.DCs = append(res.DCs, d.Name())
		}
		for _, h := range r.hosts.Hosts() {
			res.Hosts = append(res.Hosts, h.Name())
		}
	}
	if opt.Rewrite {
		res.Rewritten = sc.Rewrite(got)
	}
	if fail == nil && !opt.Rewrite && !opt.NoCompare && sc.HasLabel(LabelMetamorphic) {
		res.Failure = metamorphic(sc, opt, res)
	}
	if res.Failure != nil {
		r.tl.add(res.Failure.Elapsed, "", "failure", res.Failure.Location())
		res.Timeline = r.tl.events
	}
	return res
}

func (r *runner) failAt(st *Step, format string, args ...any) *Failure {
	f := &Failure{Seed: r.seed(), Path: r.sc.Path, Line: st.Line, Step: stepText(st), Msg: fmt.Sprintf(format, args...), World: r.opt.World}
	if r.w != nil {
		f.Elapsed = r.w.Elapsed()
	}
	f.TraceTail = tail(r.trace.all(), traceTailLines)
	return f
}

func (r *runner) seed() uint64 {
	if r.opt.SeedSet {
		return r.opt.Seed
	}
	if r.ws != nil && r.ws.seedSet {
		return r.ws.cfg.Seed
	}
	return 1
}

func tail(l []string, n int) []string {
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return append([]string(nil), l...)
}

func stepText(st *Step) string {
	return strings.Join(append([]string{st.String()}, st.Input...), "\n")
}

func (r *runner) run(res *Result, got map[int]string) *Failure {
	wst := r.sc.Steps[0]
	if _, err := r.sc.row(r.opt.World); err != nil {
		return r.failAt(wst, "%v", err)
	}
	wst, err := worldFor(wst, r.row)
	if err != nil {
		return r.failAt(r.sc.Steps[0], "%v", err)
	}
	ws, err := parseWorld(wst)
	if err != nil {
		return r.failAt(wst, "%v", err)
	}
	r.ws = ws
	cfg := ws.cfg
	cfg.Seed = r.seed()
	res.Seed = cfg.Seed
	if !ws.explicit {
		cfg.Links = nil
	}
	if r.opt.linkScale > 0 {
		if cfg.LinkDelay == 0 {
			cfg.LinkDelay = sim.DefaultLinkDelay
		}
		cfg.LinkDelay = scale(cfg.LinkDelay, r.opt.linkScale)
		for i := range cfg.Links {
			if cfg.Links[i].Delay != 0 {
				cfg.Links[i].Delay = scale(cfg.Links[i].Delay, r.opt.linkScale)
			}
		}
	}
	cfg.TraceWriter = r.trace
	cfg.Keys = r.opt.Keys
	if r.opt.Configure != nil {
		r.opt.Configure(&cfg)
	}
	w, err := sim.New(cfg)
	if err != nil {
		return r.failAt(wst, "world: %v", err)
	}
	r.w, r.hosts = w, host.NewFleet(w)
	r.kdsRand = w.Rand("scenario/kds")
	r.sess = &session{r: r, ps: ps.NewSession()}
	out, err := r.buildObjects(ws)
	if err != nil {
		return r.failAt(wst, "%v", err)
	}
	if f := r.compare(wst, out, got); f != nil {
		return f
	}
	for _, st := range r.sc.Steps[1:] {
		res.Steps++
		if f := r.step(st, got); f != nil {
			return f
		}
	}
	return nil
}

// step runs one directive after the world block and compares its output.
func (r *runner) step(st *Step, got map[int]string) *Failure {
	o, f := r.execExpect(st)
	if f != nil {
		return f
	}
	return r.compareOutcome(st, o, got)
}

// execExpect runs a step as exec does; when the step's expected block is an error assertion, an
// error the directive returns is the step's outcome (to be matched) instead of a failure.
func (r *runner) execExpect(st *Step) (outcome, *Failure) {
	r.stepErrs = nil
	out, f := r.exec(st)
	o := outcome{out: out, errs: r.stepErrs}
	r.stepErrs = nil
	if f != nil && r.lastErr != nil {
		if _, isAssert, _ := errorPattern(r.expected(st)); isAssert {
			o.errs = append(o.errs, r.lastErr.Error())
			return o, nil
		}
	}
	return o, f
}

// exec runs one directive after the world block and returns its output (not yet compared).
func (r *runner) exec(st *Step) (string, *Failure) {
	r.tl.add(r.w.Elapsed(), "", "step", fmt.Sprintf("line %d: %s", st.Line, st.String()))
	mark := r.trace.mark()
	r.lastErr = nil
	out, err := r.directives[st.Cmd].run(r, st)
	var pf *PendingFeatureError
	if errors.As(err, &pf) {
		f := r.failAt(st, "%v", err)
		if !r.sc.Pending() {
			f.Hint = "label the file pending until that part of the simulator lands"
		}
		return "", f
	}
	if err != nil {
		r.lastErr = err
		return "", r.failAt(st, "%v", err)
	}
	if out == traceOutput {
		out = strings.Join(r.trace.since(mark), "\n")
	}
	r.trackRootKeys()
	return out, nil
}

// traceOutput is what a simulator directive returns to print the trace lines it caused.
const traceOutput = "\x00trace"

func scale(d time.Duration, f float64) time.Duration {
	s := time.Duration(float64(d) * f)
	if s < time.Second {
		s = time.Second
	}
	return s
}

func (r *runner) compare(st *Step, out string, got map[int]string) *Failure {
	return r.compareOutcome(st, outcome{out: out}, got)
}

// expected is the step's expected block.
func (r *runner) expected(st *Step) string {
	if r.row != nil {
		return st.expectedFor(r.row.Name)
	}
	return st.Expected
}

// compareOutcome records a step's output (for a rewrite) and compares it with the expected block.
// A passing error assertion is recorded as written, so a rewrite keeps it.
func (r *runner) compareOutcome(st *Step, o outcome, got map[int]string) *Failure {
	out := normaliseOutput(o.out)
	want := r.expected(st)
	ok, why := o.matches(want)
	got[st.Line] = out
	if _, isAssert, _ := errorPattern(want); isAssert && ok {
		got[st.Line] = want
	}
	if r.opt.Rewrite || r.opt.NoCompare || ok {
		return nil
	}
	if why != "" {
		return r.failAt(st, "%s", why)
	}
	f := r.failAt(st, "")
	f.Msg = ""
	f.Expected, f.Got = want, out
	if st.Cmd == "ps" {
		f.Hint = r.psHint(st)
	}
	return f
}

// psHint names the valid parameters when a binding error shows up unexpectedly.
func (r *runner) psHint(st *Step) string {
	for _, l := range st.ps {
		for _, s := range l.Stmts {
			if s.Cmd == nil {
				continue
			}
			def := r.cmdlets.lookup(s.Cmd.Name)
			if def == nil {
				continue
			}
			for _, el := range s.Cmd.Elems {
				if el.IsParam {
					if _, err := def.Match(el.Param); err != nil {
						return fmt.Sprintf("%s:%d: %s has no parameter -%s; its parameters are: %s", r.sc.Path, st.Line+l.Off, def.Name, el.Param, def.ParamList())
					}
				}
			}
		}
	}
	return ""
}

// invariants run after every scenario: once every cut link is healed and every stopped DC
// started, replication settles and the replicas are identical.
func (r *runner) invariants(res *Result) *Failure {
	last := r.sc.Steps[len(r.sc.Steps)-1]
	if r.mim != nil && r.mim.crash != "" {
		return r.failAt(last, "crash-at %s was armed but no migrate apply or resume followed", r.mim.crash)
	}
	for _, k := range sortedPairs(r.cut) {
		if err := r.w.HealLink(k[0], k[1]); err != nil {
			return r.failAt(last, "invariant: healing %s-%s: %v", k[0], k[1], err)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(r.stopped)) {
		if r.stopped[n] {
			if err := r.w.StartDC(n); err != nil {
				return r.failAt(last, "invariant: starting %s: %v", n, err)
			}
		}
	}
	if err := r.w.Settle(); err != nil {
		return r.failAt(last, "invariant: settling replication: %v", err)
	}
	if r.opt.NoCompare {
		// A metamorphic variant: the base run checked convergence; here only the end state
		// (the first DC's digest) is compared, which is what the variant is for.
		_ = r.w.ExecOn(r.w.DCs()[0].Name(), func(now time.Time, d *fakead.Directory) error {
			res.Digest = d.Digest()
			return nil
		})
		return nil
	}
	if err := r.w.CheckConverged(); err != nil {
		return r.failAt(last, "invariant: replicas differ after quiescence: %v", err)
	}
	if len(r.hosts.Hosts()) > 0 {
		// Every host's cached gMSA password is the current or the previous one.
		if err := r.hosts.CheckCaches(); err != nil {
			return r.failAt(last, "invariant: host password caches: %v", err)
		}
	}
	if !r.sc.HasLabel(LabelMetamorphic) {
		return nil
	}
	dcs := r.w.DCs()
	_ = r.w.ExecOn(dcs[0].Name(), func(now time.Time, d *fakead.Directory) error {
		res.Digest = d.Digest()
		return nil
	})
	return nil
}

func sortedPairs(m map[[2]string]bool) [][2]string {
	var out [][2]string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j][0]+out[j][1] < out[i][0]+out[i][1] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// metamorphicScales are the link-delay factors a metamorphic scenario also runs with.
func metamorphicScales() []float64 { return []float64{0.01, 4} }

func metamorphic(sc *Scenario, opt Options, base *Result) *Failure {
	for _, f := range metamorphicScales() {
		o := opt
		o.TraceWriter = nil
		o.linkScale = f
		o.NoCompare = true
		v := Run(sc, o)
		last := sc.Steps[len(sc.Steps)-1]
		if v.Failure != nil {
			v.Failure.Msg = fmt.Sprintf("metamorphic run with link delays x%g: %s", f, v.Failure.Msg)
			return v.Failure
		}
		if v.Digest != base.Digest {
			return &Failure{Seed: base.Seed, Path: sc.Path, Line: last.Line, Elapsed: v.SimElapsed, Step: stepText(last),
				World:     opt.World,
				Msg:       fmt.Sprintf("metamorphic: with link delays x%g the directory ends with digest %.12s, not %.12s as with the configured delays", f, v.Digest, base.Digest),
				TraceTail: tail(v.Trace, traceTailLines)}
		}
	}
	return nil
}

// callerOn is the session principal on a DC's replica: Administrator unless as= names another.
func (r *runner) callerOn(d *fakead.Directory, as string, encrypted bool) (fakead.Caller, error) {
	if as == "" {
		as = "Administrator"
	}
	acct, ok := d.Account(as)
	if !ok {
		return fakead.Caller{}, fmt.Errorf("principal %q does not exist on %s (declare it in the world block: user NAME)", as, d.DC().Name)
	}
	return d.CallerFor(acct.DN, encrypted)
}

func (r *runner) now() time.Time { return r.w.Now() }

func (r *runner) isHost(name string) bool { return r.host(name) != nil }

func (r *runner) noteRootKey(dc string, rk *fakekds.RootKey) {
	r.tl.rootKey(r.w.Elapsed(), strings.ToUpper(dc), rk)
}

func lineDiff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	// Longest common subsequence, small inputs.
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out.WriteString("   " + a[i] + "\n")
			i++
			j++
		case j < m && (i >= n || lcs[i][j+1] > lcs[i+1][j]):
			out.WriteString(" + " + b[j] + "\n")
			j++
		default:
			out.WriteString(" - " + a[i] + "\n")
			i++
		}
	}
	return out.String()
}
