package sim

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakekds"
)

// TraceTailLines is how many trace lines a Failure carries.
const TraceTailLines = 20

// Sentinels for errors.Is on world failures.
var (
	ErrUnknownDC     = errors.New("no such DC")
	ErrUnknownLink   = errors.New("no such link")
	ErrNotQuiescent  = errors.New("replication is not quiescent")
	ErrNotConverged  = errors.New("replicas differ")
	ErrWorldPanicked = errors.New("world stopped after a broken invariant")
)

// Failure is a world-level failure: it names the seed to replay and the simulated time, and carries
// the end of the trace. Broken internal invariants (a panic inside the world loop) come back as a
// Failure wrapping ErrWorldPanicked; the world refuses further work after one.
type Failure struct {
	Seed      uint64
	Elapsed   time.Duration
	Err       error
	TraceTail []string
	Stack     string // for panics
}

func (f *Failure) Error() string {
	var b strings.Builder
	if msg := f.Err.Error(); strings.HasPrefix(msg, "seed=") {
		b.WriteString(msg) // a BoundsError already says where
	} else {
		fmt.Fprintf(&b, "seed=%d t=%s: %s", f.Seed, FormatOffset(f.Elapsed), msg)
	}
	if len(f.TraceTail) > 0 {
		b.WriteString("\ntrace tail:")
		for _, l := range f.TraceTail {
			b.WriteString("\n  " + l)
		}
	}
	return b.String()
}

func (f *Failure) Unwrap() error { return f.Err }

// DC is one domain controller of a world: its name, OS and replica. Its Directory may be used only
// inside the world loop (an Exec closure or a scheduled event), which serialises access.
type DC struct {
	name    string
	os      string
	index   int
	pw      string // the computer account's password (stream "dc/<NAME>")
	dir     *fakead.Directory
	repl    replica // dir, or a stand-in in tests of the replication machinery
	stopped bool
	running atomic.Bool // !stopped, readable outside the loop
	shipped uint64      // the highest USN already captured for replication
	// utd is the up-to-dateness vector: for each originating DC (by invocationId), the highest
	// originating USN this replica has seen everything up to ([MS-DRSR] UPTODATE_VECTOR).
	utd    map[ad.GUID]uint64
	inv    ad.GUID
	hasInv bool
	out    []*flow // outgoing replication, by peer order
}

// Name is the DC's NetBIOS name ("DC1").
func (d *DC) Name() string { return d.name }

// OS is the DC's operating system ("2022").
func (d *DC) OS() string { return d.os }

// SAMAccountName is the DC's computer account name, "DC1$".
func (d *DC) SAMAccountName() string { return strings.ToUpper(d.name) + "$" }

// MachinePassword is the DC's computer-account password, drawn from the seed (stream "dc/<NAME>");
// the account's keys (AES256, AES128 with the computer salt, RC4) derive from it.
// Divergence: a Windows DC changes its machine password every 30 days; a simulated DC keeps the one
// it was promoted with.
func (d *DC) MachinePassword() string { return d.pw }

// Directory is the DC's replica. Use it only inside the world loop.
func (d *DC) Directory() *fakead.Directory { return d.dir }

// InvocationID is the DC's invocationId (the originating-DC id in replication stamps), or the zero
// GUID if its replica does not say.
func (d *DC) InvocationID() ad.GUID { return d.inv }

// Running reports whether the DC is started.
func (d *DC) Running() bool { return d.running.Load() }

// World is the simulated domain: a clock, seeded streams, a trace, and N DCs each with its own
// replica, joined by replication links. Every operation on it is serialised by one mutex, so LDAP
// connection goroutines may call Exec concurrently; what runs inside the loop (closures, events)
// must not call back into the World's methods: they would wait for the loop they run in, so they
// panic with a *ReentryError instead (see loopMutex). Inside the loop, use the time passed in,
// the Directory passed in and Loop().
type World struct {
	mu        loopMutex
	cfg       Config
	clock     *Clock
	streams   *Streams
	trace     *Trace
	dcs       []*DC
	byName    map[string]*DC
	links     map[[2]string]*link
	domainSID string
	failed    error
	snap      func(*DC) (*snapshot, error) // reads a replica for CheckConverged
	kdcs      map[string]*kdc.KDC          // the DCs' in-process KDCs, made on first use (kdcserve.go)
}

// New builds a world: the domain of cfg with every DC holding an identical fresh replica, at
// cfg.Start (DefaultStart unless set).
func New(cfg Config) (*World, error) {
	w, err := newWorld(cfg)
	if err != nil {
		return nil, err
	}
	cfg = w.cfg
	dcCfgs := make([]fakead.DCConfig, len(cfg.DCs))
	for i, d := range cfg.DCs {
		dcCfgs[i] = fakead.DCConfig{Name: d.Name, OS: d.OS, Password: dcPassword(cfg.Seed, d.Name)}
	}
	var dirs []*fakead.Directory
	err = w.guard(func() error {
		var err error
		dirs, err = fakead.NewDomain(fakead.DomainConfig{
			DNSName:       cfg.Domain,
			NetBIOSName:   cfg.NetBIOS,
			DomainSID:     w.domainSID,
			SchemaVersion: cfg.SchemaVersion,
			DCs:           dcCfgs,
			AdminPassword: cfg.AdminPassword,
			Keys:          cfg.Keys,
		}, GUIDSource{w.streams.Get(StreamGUIDs)}, cfg.Start)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sim: building domain %s: %w", cfg.Domain, err)
	}
	if len(dirs) != len(cfg.DCs) {
		return nil, fmt.Errorf("sim: building domain %s: got %d replicas for %d DCs", cfg.Domain, len(dirs), len(cfg.DCs))
	}
	reps := make([]replica, len(dirs))
	for i, d := range dirs {
		reps[i] = d
	}
	w.attach(dirs, reps)
	return w, nil
}

// dcPassword is the computer-account password of the DC called name in the world of seed: the
// first draw of its own stream ("dc/<NAME>"), so a world restored from saved replicas knows the
// password its DCs' keys were derived from.
func dcPassword(seed uint64, name string) string {
	return GeneratePassword(newStream(seed, StreamDCPrefix+strings.ToUpper(name)))
}

// newWorld validates cfg and builds everything but the replicas.
func newWorld(cfg Config) (*World, error) {
	cfg, err := cfg.normalise()
	if err != nil {
		return nil, err
	}
	w := &World{cfg: cfg, streams: NewStreams(cfg.Seed), byName: map[string]*DC{}, links: map[[2]string]*link{},
		kdcs: map[string]*kdc.KDC{}}
	if cfg.Realtime {
		w.clock = NewWallClock(cfg.Start, cfg.Seed, cfg.bounds())
	} else {
		w.clock = NewClock(cfg.Start, cfg.Seed, cfg.bounds())
	}
	w.trace = NewTrace(cfg.Start, cfg.TraceWriter, cfg.TraceLines)
	w.domainSID = DomainSID(cfg.Seed)
	if w.cfg.Keys == nil {
		w.cfg.Keys = fakekds.NewKeyMemo()
	}
	if w.cfg.AdminPassword == "" {
		w.cfg.AdminPassword = GeneratePassword(w.streams.Get(StreamPasswords))
	}
	w.snap = w.searchSnapshot
	return w, nil
}

// attach gives each configured DC its replica (dirs may be nil in tests that drive the
// replication machinery with a stand-in replica) and links them.
func (w *World) attach(dirs []*fakead.Directory, reps []replica) {
	names := make([]string, len(w.cfg.DCs))
	for i, d := range w.cfg.DCs {
		dc := &DC{name: d.Name, os: d.OS, index: i, pw: dcPassword(w.cfg.Seed, d.Name), repl: reps[i],
			shipped: reps[i].HighestUSN(), utd: map[ad.GUID]uint64{}}
		if r, ok := reps[i].(interface{ InvocationID() ad.GUID }); ok {
			dc.inv, dc.hasInv = r.InvocationID(), true
			dc.utd[dc.inv] = dc.shipped
		}
		if dirs != nil {
			dc.dir = dirs[i]
		}
		dc.running.Store(true)
		w.dcs = append(w.dcs, dc)
		w.byName[d.Name] = dc
		names[i] = d.Name
	}
	for _, l := range w.cfg.Links {
		w.addLink(w.byName[l.A], w.byName[l.B], l.Delay)
	}
	w.trace.Logf(w.clock.Now(), "world seed=%d domain=%s netbios=%s schema=%d sid=%s dcs=%s",
		w.cfg.Seed, w.cfg.Domain, w.cfg.NetBIOS, w.cfg.SchemaVersion, w.domainSID, strings.Join(names, ","))
}

// replica is what replication needs of a DC's directory; *fakead.Directory implements it.
type replica interface {
	HighestUSN() uint64
	ChangesSince(usn uint64) []fakead.ReplChange
	ApplyReplicated(now time.Time, changes []fakead.ReplChange) error
}

var _ replica = (*fakead.Directory)(nil)

// Config returns the configuration in use, defaults filled in (AdminPassword included).
func (w *World) Config() Config { return w.cfg }

// Keys is the world's memo of derived keys (Config.Keys, or its own).
func (w *World) Keys() *fakekds.KeyMemo { return w.cfg.Keys }

// Seed is the world's seed.
func (w *World) Seed() uint64 { return w.cfg.Seed }

// DomainSID is the domain's SID, derived from the seed.
func (w *World) DomainSID() string { return w.domainSID }

// DomainDN is the domain naming context, "DC=contoso,DC=com".
func (w *World) DomainDN() string { return domainDN(w.cfg.Domain) }

// Start is the simulated time the world started at.
func (w *World) Start() time.Time { return w.cfg.Start }

// Now is the current simulated time. With a wall clock (Config.Realtime) it is the time as of the
// last operation; RunDue brings it up to the wall clock.
func (w *World) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock.Now()
}

// TeeTrace sends every trace line written from now on to out as well (a scenario session over a
// world built in Go: scenarios.Attach), until remove is called. out is written inside the world
// loop: it must not enter the world.
func (w *World) TeeTrace(out io.Writer) (remove func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.trace.Tee(out)
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		r()
	}
}

// Wire is the time on the wire to real clients (Clock.Wire): the wall clock in a realtime world,
// Now otherwise. The KDC and the LDAP server's Kerberos and NTLM binds stamp and check messages
// with it, and read the directory at Now (see KDC.ExchangeAt and the README's "Time travel").
func (w *World) Wire() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock.Wire()
}

// Elapsed is the simulated time since Start.
func (w *World) Elapsed() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock.Elapsed()
}

// Rand returns the named random stream of the world's seed. Draw from it inside the world loop,
// or from one goroutine: a stream is not safe for concurrent use.
func (w *World) Rand(name string) *Stream {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.streams.Get(name)
}

// IDs is the world's GUID source (stream "guids"), the one the directory mints ids from.
func (w *World) IDs() fakead.IDSource { return GUIDSource{w.Rand(StreamGUIDs)} }

// DC returns the DC called name (case-insensitive), or nil.
func (w *World) DC(name string) *DC { return w.byName[strings.ToUpper(name)] }

// DCs returns the DCs in configuration order.
func (w *World) DCs() []*DC { return append([]*DC(nil), w.dcs...) }

// Trace returns the trace lines kept in memory.
func (w *World) Trace() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.trace.Lines()
}

// WriteTrace writes the trace lines kept in memory to out.
func (w *World) WriteTrace(out io.Writer) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.trace.WriteTo(out)
	return err
}

// Logf adds a line to the trace at the current simulated time (for layers above: scenarios,
// hosts). Inside the world loop the lock is already held (Logf would panic): use Loop().Logf there.
func (w *World) Logf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trace.Logf(w.clock.Now(), format, args...)
}

// Locked runs fn holding the world's lock, outside the loop: no event runs, the clock does not
// move and nothing is captured for replication. It is for layers above that keep their own state
// in the loop (member hosts, MIM) and read or set it from outside: a Host's getters. Called from
// inside the loop it panics with a *ReentryError naming its caller, as the World's methods do.
func (w *World) Locked(fn func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn()
}

// LockedValue is World.Locked returning fn's result: a layer's getter in one line. Re-entry names
// its caller, as with Locked.
func LockedValue[T any](w *World, fn func() T) T {
	var v T
	w.Locked(func() { v = fn() })
	return v
}

// Fail wraps err as a Failure of this world at the current simulated time, with the trace tail,
// for layers above that check an invariant of their own (host caches); nil and Failures pass
// through.
func (w *World) Fail(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fail(err)
}

// Loop is the world as seen from inside its loop (an Exec closure or an event), where the lock is
// already held and the World's own methods panic with a *ReentryError. Use it only there.
type Loop struct{ w *World }

// Loop returns the in-loop view of the world.
func (w *World) Loop() Loop { return Loop{w} }

// Now is the current simulated time.
func (l Loop) Now() time.Time { return l.w.clock.Now() }

// At schedules fn at t; what it changes replicates as after Exec.
func (l Loop) At(t time.Time, name string, fn EventFunc) EventID {
	return l.w.clock.At(t, name, l.w.wrapEvent(fn))
}

// After schedules fn d after now.
func (l Loop) After(d time.Duration, name string, fn EventFunc) EventID {
	return l.w.clock.After(d, name, l.w.wrapEvent(fn))
}

// Cancel removes a pending event.
func (l Loop) Cancel(id EventID) bool { return l.w.clock.Cancel(id) }

// Logf adds a trace line at the current simulated time.
func (l Loop) Logf(format string, args ...any) { l.w.trace.Logf(l.w.clock.Now(), format, args...) }

// Rand returns a named stream of the world's seed.
func (l Loop) Rand(name string) *Stream { return l.w.streams.Get(name) }

// KDC is dc's in-process KDC over its replica (draws from stream "kdc/<DC>"), made on first use:
// the one the member hosts log on at and KDCServer serves. It answers whether dc runs or not:
// callers check DC.Running first.
func (l Loop) KDC(dc *DC) (*kdc.KDC, error) { return l.w.kdcLocked(dc) }

// Exec runs fn inside the world loop: serialised with every other operation, with the current
// simulated time. Whatever fn changed on any replica is then shipped to that DC's replication
// partners, carrying the values as of now. fn's error is returned as is.
func (w *World) Exec(fn func(now time.Time) error) error {
	return w.enter(func() error { return fn(w.clock.Now()) })
}

// ExecOn runs fn inside the world loop against one DC's replica. A stopped DC refuses with
// fakead.Error{Code: Unavailable}; an unknown one with ErrUnknownDC.
func (w *World) ExecOn(dc string, fn func(now time.Time, d *fakead.Directory) error) error {
	return w.enter(func() error {
		d, err := w.lookup(dc)
		if err != nil {
			return err
		}
		if d.stopped {
			// Op and DN are left for the backend to fill in (it knows the request).
			return &fakead.Error{Code: fakead.Unavailable,
				Diag: fmt.Sprintf("the domain controller %s is stopped (simulated); start it to use it", d.name)}
		}
		return fn(w.clock.Now(), d.dir)
	})
}

// enter is every top-level entry point: it takes the lock, refuses work after a broken invariant,
// brings a wall clock up to date, runs f, ships new changes, and turns a panic into a Failure.
func (w *World) enter(f func() error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.mu.inLoop.Store(true)
	defer w.mu.inLoop.Store(false)
	if w.failed != nil {
		return w.failed
	}
	var ferr error
	err := w.guard(func() error {
		if err := w.clock.Sync(); err != nil {
			return err
		}
		ferr = f()
		return w.capture()
	})
	var fl *Failure
	if errors.As(err, &fl) && errors.Is(err, ErrWorldPanicked) {
		w.failed = err
	}
	if ferr != nil {
		return ferr
	}
	return w.fail(err)
}

// guard runs f, turning a panic into a Failure with the seed, time, trace tail and stack.
func (w *World) guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if re, ok := r.(*ReentryError); ok {
				// A misuse of the API, not a broken invariant: the caller's goroutine panics, with
				// the message saying what to do. The closure was cut short, so the world stops.
				w.failed = &Failure{Seed: w.cfg.Seed, Elapsed: w.clock.Elapsed(), Err: fmt.Errorf("%w: %v", ErrWorldPanicked, re),
					TraceTail: w.trace.Tail(TraceTailLines), Stack: string(debug.Stack())}
				panic(re)
			}
			err = &Failure{Seed: w.cfg.Seed, Elapsed: w.clock.Elapsed(),
				Err:       fmt.Errorf("%w: panic: %v", ErrWorldPanicked, r),
				TraceTail: w.trace.Tail(TraceTailLines), Stack: string(debug.Stack())}
		}
	}()
	return f()
}

// fail wraps err as a Failure of this world at the current time.
func (w *World) fail(err error) error {
	var fl *Failure
	if err == nil || errors.As(err, &fl) {
		return err
	}
	return &Failure{Seed: w.cfg.Seed, Elapsed: w.clock.Elapsed(), Err: err, TraceTail: w.trace.Tail(TraceTailLines)}
}

func (w *World) lookup(name string) (*DC, error) {
	d := w.byName[strings.ToUpper(name)]
	if d == nil {
		names := make([]string, len(w.dcs))
		for i, d := range w.dcs {
			names[i] = d.name
		}
		return nil, fmt.Errorf("sim: DC %q: %w (the world has %s)", name, ErrUnknownDC, strings.Join(names, ", "))
	}
	return d, nil
}

// At schedules fn at simulated time t inside the world loop; what it changes replicates as after
// Exec. fn must not call the World's methods: it uses Loop() (to schedule more, trace, draw) and
// the DCs' directories directly.
func (w *World) At(t time.Time, name string, fn EventFunc) EventID {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock.At(t, name, w.wrapEvent(fn))
}

// After schedules fn at d after the current simulated time; see At.
func (w *World) After(d time.Duration, name string, fn EventFunc) EventID {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock.After(d, name, w.wrapEvent(fn))
}

// Cancel removes a pending event scheduled with At or After.
func (w *World) Cancel(id EventID) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock.Cancel(id)
}

func (w *World) wrapEvent(fn EventFunc) EventFunc {
	return func(now time.Time) error {
		if err := fn(now); err != nil {
			return err
		}
		return w.capture()
	}
}

// Advance moves simulated time forward by d, running every due event (replication deliveries,
// timers) in order. Exceeding the world's bounds fails with a Failure naming the seed.
func (w *World) Advance(d time.Duration) error {
	return w.enter(func() error { return w.fail(w.clock.Advance(d)) })
}

// AdvanceTo moves simulated time forward to t; see Advance.
func (w *World) AdvanceTo(t time.Time) error {
	return w.enter(func() error { return w.fail(w.clock.AdvanceTo(t)) })
}

// RunUntilQuiet runs every pending event, and those they schedule, until none is left. Time ends at
// the last event. Replication over a cut link or to a stopped DC is not an event: it waits.
func (w *World) RunUntilQuiet() error {
	return w.enter(func() error { return w.fail(w.clock.RunUntilQuiet()) })
}

// RunDue runs the events due now; with a wall clock it first moves time up to the wall clock.
// `serve --realtime` calls it from a ticker.
func (w *World) RunDue() error {
	return w.enter(func() error { return w.fail(w.clock.RunDue()) })
}

// Pending is the number of scheduled events not yet run.
func (w *World) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock.Pending()
}

// EventsRun is how many events the world has run.
func (w *World) EventsRun() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock.EventsRun()
}
