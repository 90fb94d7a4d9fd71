package main

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gmsasim/gmsasim/control"
	"github.com/gmsasim/gmsasim/fakead/dnssrv"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/internal/safefile"
	"github.com/gmsasim/gmsasim/scenarios"
	"github.com/gmsasim/gmsasim/sim"
)

// serveOptions are the flags of `gmsasim serve`; selfcheck uses the same machinery on port 0.
type serveOptions struct {
	// LDAP, LDAPS and KDC are DC1's listen addresses; the other DCs follow the address rule
	// (serveendpoints.go): same host, port+i, or an ephemeral port for port 0; "": disabled.
	LDAP, LDAPS    string
	KDC            string
	DNS            string    // "": no DNS server
	DCs            int       // DC1..DCN; 0 means 1
	Start          time.Time // the world's start; zero: sim's fixed default
	StateDir       string
	AdminPassword  string
	SchemaVersion  int
	Seed           uint64
	RequireSigning bool
	Realtime       bool
	Log            io.Writer // errors of the realtime loop's Reconcile; nil: none
	// World, when set, is a scenario file whose world block (and, with WorldSteps, steps) build
	// the world served instead of the default domain; its DCs, links, schema, users and hosts.
	World      string
	WorldSteps bool
	// Control is the control API's listen address (loopback only); "": none.
	Control string
	// Trace receives every trace line of the world (the control API's trace stream); nil: none.
	Trace io.Writer
	// Keys is shared by the worlds serve builds (a restored snapshot's too); nil: a new memo.
	Keys *fakekds.KeyMemo
}

// domainServer is the default domain with every DC's listeners. The world it serves can be
// replaced (swapWorld: restoring a snapshot) while the addresses stay.
type domainServer struct {
	Pop *sim.Population
	CA  *ldapsrv.CA
	DNS *dnssrv.Server // nil unless a DNS address was given

	requireSigning bool
	stop           chan struct{}

	// mu serialises Reconcile, swapWorld, writeState and Close, and guards what follows. It is
	// taken outside the world's lock, never inside it: closing a server waits for requests that
	// may be waiting for the world.
	mu       sync.Mutex
	w        *sim.World
	sess     *scenarios.Session // scenario steps run on w (the control API's POST /steps)
	eps      []*dcEndpoint      // one per DC, in the world's DC order
	stateDir string             // where endpoints.json is rewritten; "" before writeState
	control  string             // the control API's address for endpoints.json; "" for now
	closed   bool
}

// startDomain builds the world — the default domain with o.DCs DCs, or o.World's — and starts
// every DC's listeners.
func startDomain(o serveOptions) (*domainServer, error) {
	w, sess, pop, err := buildServedWorld(o)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, dc := range w.DCs() {
		names = append(names, dc.Name())
	}
	addrs, err := dcAddrs(names, o.LDAP, o.LDAPS, o.KDC)
	if err != nil {
		return nil, err
	}
	ca, err := ldapsrv.NewCA(nil)
	if err != nil {
		return nil, fmt.Errorf("create the world's CA: %w", err)
	}
	ds := &domainServer{w: w, sess: sess, Pop: pop, CA: ca, requireSigning: o.RequireSigning, stop: make(chan struct{})}
	for _, a := range addrs {
		e := &dcEndpoint{endpointAddrs: a}
		ds.eps = append(ds.eps, e)
		if !w.DC(a.DC).Running() {
			continue // a world whose steps left a DC stopped: its sockets open when it starts
		}
		if err := e.Open(w, ca, o.RequireSigning); err != nil {
			ds.Close()
			return nil, err
		}
	}
	if o.DNS != "" {
		if err := ds.serveDNS(o.DNS); err != nil {
			ds.Close()
			return nil, fmt.Errorf("listen for DNS on %s (TCP and UDP): %w", o.DNS, err)
		}
	}
	if o.Realtime {
		// A wall-clock world moves only when something enters it; tick so that events (password
		// rotations, replication) fall due between requests too, and so that a DC a scenario
		// step stopped or started closes or opens its sockets.
		go ds.tick(o.Log)
	}
	return ds, nil
}

// buildServedWorld builds what serve serves and the scenario session its steps run on: the
// default domain (sim.NewDefaultDomain, with o.DCs DCs) attached to a session, or the world of the
// scenario file o.World — its world block, then its steps unless !o.WorldSteps, their outputs not
// compared (serve's seed is not the file's) but any failing step refused.
func buildServedWorld(o serveOptions) (*sim.World, *scenarios.Session, *sim.Population, error) {
	if o.World == "" {
		cfg := sim.Config{
			Seed:           o.Seed,
			Start:          o.Start,
			SchemaVersion:  o.SchemaVersion,
			AdminPassword:  o.AdminPassword,
			RequireSigning: o.RequireSigning,
			Realtime:       o.Realtime,
			TraceWriter:    o.Trace,
			Keys:           o.Keys,
		}
		if o.DCs > 1 {
			for _, name := range serveDCNames(o.DCs) {
				cfg.DCs = append(cfg.DCs, sim.DCSpec{Name: name}) // OS "": sim.DefaultDCOS
			}
		}
		w, pop, err := sim.NewDefaultDomain(cfg)
		if err != nil {
			return nil, nil, nil, err
		}
		sess, err := scenarios.Attach(w, nil, scenarios.Options{Keys: o.Keys})
		if err != nil {
			return nil, nil, nil, err
		}
		return w, sess, pop, nil
	}
	sc, err := scenarios.ParseFile(o.World)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--world: %w", err)
	}
	if !o.WorldSteps {
		sc.Steps = sc.Steps[:1]
	}
	sess, err := scenarios.Open(sc, scenarios.Options{Seed: o.Seed, SeedSet: true, NoCompare: true, TraceWriter: o.Trace, Keys: o.Keys,
		Configure: func(c *sim.Config) {
			// The file's domain, DCs, links and start time; serve's seed, clock and signing policy.
			c.Realtime, c.RequireSigning = o.Realtime, o.RequireSigning
			if o.AdminPassword != "" {
				c.AdminPassword = o.AdminPassword
			}
		}})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--world %s: %w", o.World, err)
	}
	w := sess.World()
	pop := &sim.Population{Passwords: sess.Credentials()}
	for _, d := range w.DCs() {
		pop.Computers = append(pop.Computers, d.SAMAccountName())
	}
	for _, h := range sess.Hosts().Hosts() {
		pop.Computers = append(pop.Computers, h.SAMAccountName())
	}
	return w, sess, pop, nil
}

// serveDCNames are the names of serve --dcs n's DCs: DC1..DCn, DC1 (sim.DefaultDCName, the
// one-DC world's) first.
func serveDCNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("DC%d", i+1)
	}
	return out
}

// tick is the realtime loop: once a second, run what is due and reconcile the sockets with the
// DCs' running state. It reports a Reconcile error once, not every second.
func (ds *domainServer) tick(log io.Writer) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ds.stop:
			return
		case <-t.C:
			ds.World().RunDue()
			msg := ""
			if err := ds.Reconcile(); err != nil {
				msg = err.Error()
			}
			if msg != last && msg != "" && log != nil {
				fmt.Fprintf(log, "gmsasim serve: reconcile the DCs' listeners: %s\n", msg)
			}
			last = msg
		}
	}
}

// World is the world served now (swapWorld replaces it).
func (ds *domainServer) World() *sim.World {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return ds.w
}

// Addrs are every DC's listen addresses, in DC order ("" for a disabled protocol).
func (ds *domainServer) Addrs() []endpointAddrs {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	out := make([]endpointAddrs, len(ds.eps))
	for i, e := range ds.eps {
		out[i] = e.endpointAddrs
	}
	return out
}

// Reconcile makes every DC's sockets follow its running state: a stopped DC's listeners are
// closed (a dial is refused), a running DC's closed ones open again on the same addresses, and
// endpoints.json is rewritten when anything changed. Safe for concurrent callers; call it outside
// the world's lock, never from a world event or an ExecOn callback (closing a server waits for
// in-flight requests, which may be waiting for that lock).
func (ds *domainServer) Reconcile() error {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.closed {
		return nil
	}
	changed := false
	var errs []error
	for _, e := range ds.eps {
		dc := ds.w.DC(e.DC)
		run := dc != nil && dc.Running()
		switch {
		case !run && e.open:
			errs = append(errs, e.Close())
			changed = true
		case run && !e.open:
			if err := e.Open(ds.w, ds.CA, ds.requireSigning); err != nil {
				if dc.Running() { // else it stopped meanwhile: closed is right
					errs = append(errs, err)
				}
				continue
			}
			changed = true
		}
	}
	if changed {
		errs = append(errs, ds.writeEndpointsLocked())
	}
	return errors.Join(errs...)
}

// swapWorld serves w instead of the current world (a restored snapshot): it closes every
// listener, swaps the world and opens the running DCs' listeners again on the same addresses, then
// rewrites endpoints.json. w must have the same DCs in the same order. The CA, the DNS and the
// population (passwords) stay: w is the same domain. Like Reconcile, call it outside the world's
// lock.
func (ds *domainServer) swapWorld(w *sim.World) error {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.closed {
		return errors.New("swap the world: the server is closed")
	}
	dcs := w.DCs()
	if len(dcs) != len(ds.eps) {
		return fmt.Errorf("swap the world: it has %d DCs, the server %d", len(dcs), len(ds.eps))
	}
	for i, dc := range dcs {
		if dc.Name() != ds.eps[i].DC {
			return fmt.Errorf("swap the world: its DC number %d is %s, the server's %s", i+1, dc.Name(), ds.eps[i].DC)
		}
	}
	var errs []error
	for _, e := range ds.eps {
		errs = append(errs, e.Close())
	}
	ds.w = w
	for i, e := range ds.eps {
		if dcs[i].Running() {
			errs = append(errs, e.Open(w, ds.CA, ds.requireSigning))
		}
	}
	errs = append(errs, ds.writeEndpointsLocked())
	return errors.Join(errs...)
}

// writeState writes ca.pem, credentials.json, krb5.conf (listing every DC's KDC, when the KDC
// runs), seed, endpoints.json and keytabs/NAME.keytab for every computer account, every DC's
// included (servekeytabs.go), into dir, which safefile.PrepareDir creates or checks (it refuses a
// symlink, another user's directory or one others can write to). Every file is replaced, never
// written through: a symlink or a loose mode someone left in dir does not survive. Later changes
// of a DC's running state rewrite dir/endpoints.json.
func (ds *domainServer) writeState(dir string) error {
	if err := safefile.PrepareDir(dir); err != nil {
		return err
	}
	creds, err := json.MarshalIndent(ds.Pop.Passwords, "", "  ")
	if err != nil {
		return err
	}
	type stateFile struct {
		name string
		data []byte
		perm os.FileMode
	}
	w := ds.World()
	files := []stateFile{
		{"ca.pem", ds.CA.PEM(), 0o644}, // a certificate: public, but still not written through a link
		{"credentials.json", append(creds, '\n'), 0o600},
		{"seed", fmt.Appendf(nil, "%d\n", w.Seed()), 0o600}, // the seed yields every password: owner only
	}
	var kdcs []string
	for _, a := range ds.Addrs() {
		if a.KDC != "" {
			kdcs = append(kdcs, a.KDC)
		}
	}
	if len(kdcs) > 0 {
		var conf bytes.Buffer
		if err := kdc.WriteKrb5Conf(&conf, w.Config().Domain, kdcs); err != nil {
			return err
		}
		files = append(files, stateFile{"krb5.conf", conf.Bytes(), 0o644})
	}
	for _, f := range files {
		if err := safefile.WriteFile(filepath.Join(dir, f.name), f.data, f.perm); err != nil {
			return err
		}
	}
	if err := ds.writeComputerKeytabs(dir); err != nil {
		return err
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	ds.stateDir = dir
	return ds.writeEndpointsLocked()
}

// Close stops every listener; it may be called more than once.
func (ds *domainServer) Close() error {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.closed {
		return nil
	}
	ds.closed = true
	close(ds.stop)
	var err error
	for _, e := range ds.eps {
		err = errors.Join(err, e.Close())
	}
	if ds.DNS != nil {
		err = errors.Join(err, ds.DNS.Close())
	}
	return err
}

// serveDNS starts the domain's DNS on addr: every DC's A record and the DC locator's SRV records
// with the ports that DC listens on (LDAP, and the KDC when it runs). A stopped DC keeps its
// records, as in AD.
func (ds *domainServer) serveDNS(addr string) error {
	z := dnssrv.Zone{Domain: ds.World().Config().Domain}
	for i, a := range ds.Addrs() {
		rec := dnssrv.DC{Name: a.DC, IP: net.IPv4(127, 0, 0, 1), PDC: i == 0}
		if ap, err := netip.ParseAddrPort(a.LDAP); err == nil {
			rec.IP, rec.LDAP = net.IP(ap.Addr().AsSlice()), int(ap.Port())
		}
		if ap, err := netip.ParseAddrPort(a.KDC); err == nil {
			rec.KDC = int(ap.Port())
		}
		z.DCs = append(z.DCs, rec)
	}
	s, err := dnssrv.New(z)
	if err != nil {
		return err
	}
	if err := s.Listen(addr); err != nil {
		return err
	}
	ds.DNS = s
	return nil
}

// readyLine is serve's ready line. It is a public contract (interop/run.sh, bench/run.sh and
// users parse it): every field keeps its place and new fields go at the end. DC1's addresses
// first (ldap= ldaps= kdc=), then the world, then dns= with --dns, then every DC's own addresses
// (ldap.NAME= ldaps.NAME= kdc.NAME=, DC1 included), "-" for a disabled one, then control=URL with
// --control.
func (ds *domainServer) readyLine(stateDir string) string {
	w := ds.World()
	addrs := ds.Addrs()
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ready ldap=%s ldaps=%s kdc=%s state-dir=%s seed=%d domain=%s dc=%s",
		dash(addrs[0].LDAP), dash(addrs[0].LDAPS), dash(addrs[0].KDC), stateDir, w.Seed(), w.Config().Domain, addrs[0].DC)
	if ds.DNS != nil {
		b.WriteString(" dns=" + ds.DNS.Addr().String())
	}
	for _, a := range addrs {
		fmt.Fprintf(&b, " ldap.%[1]s=%[2]s ldaps.%[1]s=%[3]s kdc.%[1]s=%[4]s", a.DC, dash(a.LDAP), dash(a.LDAPS), dash(a.KDC))
	}
	ds.mu.Lock()
	ctl := ds.control
	ds.mu.Unlock()
	if ctl != "" {
		b.WriteString(" control=" + ctl)
	}
	return b.String()
}

func runServe(args []string, stdout, stderr io.Writer) int {
	// Registered before the ready line is printed, so that a supervisor's SIGTERM right after it
	// stops the server cleanly rather than killing it.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	return serveUntil(args, stdout, stderr, sig)
}

// serveUntil is `gmsasim serve` stopping on a value from stop (SIGINT or SIGTERM from runServe; a
// test sends its own).
func serveUntil(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o serveOptions
	const rule = "DC1's; DC number i (0-based) listens on the same host at port+i, or on a port the kernel picks when the port is 0; \"\" disables it for every DC"
	fs.StringVar(&o.LDAP, "ldap", "127.0.0.1:3389", "LDAP listen address: "+rule)
	fs.StringVar(&o.LDAPS, "ldaps", "127.0.0.1:3636", "LDAPS listen address: "+rule)
	fs.StringVar(&o.KDC, "kdc", "127.0.0.1:3088", "Kerberos KDC listen address, TCP and UDP: "+rule)
	fs.IntVar(&o.DCs, "dcs", 1, fmt.Sprintf("number of domain controllers, DC1..DCN (1-%d; DC1 is the PDC), each on its own LDAP, LDAPS and KDC ports", MaxServeDCs))
	fs.StringVar(&o.World, "world", "", "serve the world of this scenario file (its world block: domain, schema, DCs with their OS, links and delays, users, groups, hosts) instead of the default domain; its steps run too (--world-steps), outputs not compared")
	fs.BoolVar(&o.WorldSteps, "world-steps", true, "with --world, run the file's steps after its world block (gMSAs, root keys, group members they set up); false: the world block only")
	fs.StringVar(&o.Control, "control", "", "control API listen address on loopback, e.g. 127.0.0.1:3900: HTTP+JSON, bearer token in STATE-DIR/control.token; scenario steps (advance, stop DC2, PowerShell lines), state, trace, snapshot/restore, LDIF (\"\": none; see gmsasim ctl)")
	fs.StringVar(&o.DNS, "dns", "", "DNS listen address, TCP and UDP, e.g. 127.0.0.1:5353: the DCs' A records and the DC locator's SRV records (_ldap._tcp.dc._msdcs.DOMAIN, _kerberos._tcp.DOMAIN, ...) with their real ports (\"\": none)")
	fs.StringVar(&o.StateDir, "state-dir", "gmsasim-state", "directory for ca.pem, credentials.json, krb5.conf, seed, endpoints.json and keytabs/: created 0700; "+
		"an existing one must be a directory (not a symlink) owned by this user that group and others cannot write to")
	fs.StringVar(&o.AdminPassword, "admin-password", "", "Administrator's password (default: drawn from the seed)")
	fs.IntVar(&o.SchemaVersion, "schema-version", 88, "schema objectVersion: 47, 52, 56, 69, 87, 88 or 91")
	fs.Uint64Var(&o.Seed, "seed", 0, "the world's seed: ids, keys and passwords derive from it (default: a random one, printed on the ready line and written to STATE-DIR/seed)")
	fs.BoolVar(&o.RequireSigning, "require-signing", false, "refuse simple binds over plain LDAP and SASL/NTLM binds without signing or sealing (strongerAuthRequired), as a DC enforcing LDAP signing")
	fs.BoolVar(&o.Realtime, "realtime", true, "simulated time follows the wall clock (Kerberos clients stamp requests with real time); --realtime=false freezes it at the start")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gmsasim serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	dcsSet := false
	fs.Visit(func(f *flag.Flag) { dcsSet = dcsSet || f.Name == "dcs" })
	if o.World != "" && dcsSet {
		fmt.Fprintln(stderr, "gmsasim serve: --dcs and --world: the scenario file's world block names its DCs; give one or the other")
		return 2
	}
	if o.DCs < 1 || o.DCs > MaxServeDCs {
		fmt.Fprintf(stderr, "gmsasim serve: --dcs %d: want 1 to %d\n", o.DCs, MaxServeDCs)
		return 2
	}
	if _, err := dcAddrs(serveDCNames(o.DCs), o.LDAP, o.LDAPS, o.KDC); err != nil {
		fmt.Fprintf(stderr, "gmsasim serve: %v\n", err)
		return 2
	}
	o.Log = stderr
	seedSet := false
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	if !seedSet {
		o.Seed = randomSeed()
	}
	// Check the state dir before listening: a refusal should cost nothing and open no port.
	if err := safefile.PrepareDir(o.StateDir); err != nil {
		fmt.Fprintf(stderr, "gmsasim serve: --state-dir: %v\n", err)
		return 1
	}
	// A long-running server with a small heap: collect less often (GOGC=400) unless the user chose a
	// GOGC. Every request allocates its reply and decoded messages; at the default 100 the collector
	// took a fifth of a KDC request's CPU.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// The world starts at the real time, so that real Kerberos clients are within the 5-minute skew.
	o.Start = time.Now().UTC().Truncate(time.Second) // wallclock: serve faces real clients
	var hub *control.TraceHub
	if o.Control != "" {
		hub = control.NewTraceHub(0)
		o.Trace = hub
	}
	o.Keys = fakekds.NewKeyMemo()
	ds, err := startDomain(o)
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim serve: seed=%d: %v\n", o.Seed, err)
		return 1
	}
	defer ds.Close()
	if err := ds.writeState(o.StateDir); err != nil {
		fmt.Fprintf(stderr, "gmsasim serve: write the state dir %s: %v\n", o.StateDir, err)
		return 1
	}
	if o.Control != "" {
		cs, err := ds.serveControl(o, o.Control, o.StateDir, hub)
		if err != nil {
			fmt.Fprintf(stderr, "gmsasim serve: --control: %v\n", err)
			return 1
		}
		defer cs.Close()
	}
	fmt.Fprintln(stdout, ds.readyLine(o.StateDir))
	s := <-stop
	fmt.Fprintf(stdout, "stopping on %v\n", s)
	if err := ds.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		fmt.Fprintf(stderr, "gmsasim serve: close: %v\n", err)
		return 1
	}
	return 0
}

// randomSeed is serve's default seed. Every id, key and password of the world derives from the
// seed, so a fixed default would hand the passwords of any running server to whoever runs
// `gmsasim ldif export --seed 1`. This is the one place gmsasim reads global randomness outside
// TLS: the draw picks which world to build, and the world itself stays deterministic; the seed is
// printed on the ready line and written to STATE-DIR/seed, so the run replays with --seed N.
// 63 bits, so that the number also fits tools that parse seed=N as a signed 64-bit integer.
func randomSeed() uint64 {
	var b [8]byte
	rand.Read(b[:]) // never fails (Go 1.24+: it crashes the program rather than return an error)
	return binary.BigEndian.Uint64(b[:]) >> 1
}
