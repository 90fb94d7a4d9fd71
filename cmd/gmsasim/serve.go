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
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/gmsasim/gmsasim/fakead/dnssrv"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/internal/safefile"
	"github.com/gmsasim/gmsasim/sim"
)

// serveOptions are the flags of `gmsasim serve`; selfcheck uses the same machinery on port 0.
type serveOptions struct {
	LDAP, LDAPS    string
	KDC            string
	DNS            string    // "": no DNS server
	Start          time.Time // the world's start; zero: sim's fixed default
	StateDir       string
	AdminPassword  string
	SchemaVersion  int
	Seed           uint64
	RequireSigning bool
	Realtime       bool
}

// domainServer is the default domain with its LDAP listeners.
type domainServer struct {
	World *sim.World
	Pop   *sim.Population
	CA    *ldapsrv.CA
	LDAP  *ldapsrv.Server
	KDC   *kdc.Server    // nil unless a KDC address was given
	DNS   *dnssrv.Server // nil unless a DNS address was given
	stop  chan struct{}
}

// startDomain builds the default domain and starts its listeners.
func startDomain(o serveOptions) (*domainServer, error) {
	w, pop, err := sim.NewDefaultDomain(sim.Config{
		Seed:           o.Seed,
		Start:          o.Start,
		SchemaVersion:  o.SchemaVersion,
		AdminPassword:  o.AdminPassword,
		RequireSigning: o.RequireSigning,
		Realtime:       o.Realtime,
	})
	if err != nil {
		return nil, err
	}
	dc := w.DCs()[0]
	ca, err := ldapsrv.NewCA(nil)
	if err != nil {
		return nil, fmt.Errorf("create the world's CA: %w", err)
	}
	srv, err := w.ServeLDAP(dc.Name(), sim.LDAPOptions{CA: ca, LDAP: o.LDAP, LDAPS: o.LDAPS, RequireSigning: o.RequireSigning})
	if err != nil {
		return nil, err
	}
	ds := &domainServer{World: w, Pop: pop, CA: ca, LDAP: srv, stop: make(chan struct{})}
	if o.KDC != "" {
		ks, err := w.KDCServer(dc.Name())
		if err == nil {
			ds.KDC = ks
			err = ks.Listen(o.KDC)
		}
		if err != nil {
			ds.Close()
			return nil, fmt.Errorf("listen for Kerberos on %s (TCP and UDP): %w", o.KDC, err)
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
		// rotations, replication) fall due between requests too.
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-ds.stop:
					return
				case <-t.C:
					w.RunDue()
				}
			}
		}()
	}
	return ds, nil
}

// writeState writes ca.pem, credentials.json, krb5.conf (with a KDC), seed and keytabs/NAME.keytab
// for every computer account (servekeytabs.go) into dir, which
// safefile.PrepareDir creates or checks (it refuses a symlink, another user's directory or one
// others can write to). Every file is replaced, never written through: a symlink or a loose mode
// someone left in dir does not survive.
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
	files := []stateFile{
		{"ca.pem", ds.CA.PEM(), 0o644}, // a certificate: public, but still not written through a link
		{"credentials.json", append(creds, '\n'), 0o600},
		{"seed", fmt.Appendf(nil, "%d\n", ds.World.Seed()), 0o600}, // the seed yields every password: owner only
	}
	if ds.KDC != nil {
		var conf bytes.Buffer
		if err := kdc.WriteKrb5Conf(&conf, ds.World.Config().Domain, []string{ds.KDC.Addr().String()}); err != nil {
			return err
		}
		files = append(files, stateFile{"krb5.conf", conf.Bytes(), 0o644})
	}
	for _, f := range files {
		if err := safefile.WriteFile(filepath.Join(dir, f.name), f.data, f.perm); err != nil {
			return err
		}
	}
	return ds.writeComputerKeytabs(dir)
}

// Close stops the listeners; it may be called more than once.
func (ds *domainServer) Close() error {
	select {
	case <-ds.stop:
	default:
		close(ds.stop)
	}
	err := ds.LDAP.Close()
	if ds.KDC != nil {
		err = errors.Join(err, ds.KDC.Close())
	}
	if ds.DNS != nil {
		err = errors.Join(err, ds.DNS.Close())
	}
	return err
}

// serveDNS starts the domain's DNS on addr: A records of the DCs and the DC locator's SRV records
// with the ports the DCs listen on (LDAP, and the KDC when it runs).
func (ds *domainServer) serveDNS(addr string) error {
	z := dnssrv.Zone{Domain: ds.World.Config().Domain}
	for i, dc := range ds.World.DCs() {
		rec := dnssrv.DC{Name: dc.Name(), IP: net.IPv4(127, 0, 0, 1), PDC: i == 0}
		if a, ok := ds.LDAP.LDAPAddr().(*net.TCPAddr); ok {
			rec.IP, rec.LDAP = a.IP, a.Port
		}
		if ds.KDC != nil {
			if a, ok := ds.KDC.Addr().(*net.TCPAddr); ok {
				rec.KDC = a.Port
			}
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
	fs.StringVar(&o.LDAP, "ldap", "127.0.0.1:3389", "LDAP listen address (\"\" to disable)")
	fs.StringVar(&o.LDAPS, "ldaps", "127.0.0.1:3636", "LDAPS listen address (\"\" to disable)")
	fs.StringVar(&o.KDC, "kdc", "127.0.0.1:3088", "Kerberos KDC listen address, TCP and UDP (\"\" to disable)")
	fs.StringVar(&o.DNS, "dns", "", "DNS listen address, TCP and UDP, e.g. 127.0.0.1:5353: the DCs' A records and the DC locator's SRV records (_ldap._tcp.dc._msdcs.DOMAIN, _kerberos._tcp.DOMAIN, ...) with their real ports (\"\": none)")
	fs.StringVar(&o.StateDir, "state-dir", "gmsasim-state", "directory for ca.pem, credentials.json, krb5.conf, seed and keytabs/: created 0700; "+
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
	kdcAddr := "-"
	if ds.KDC != nil {
		kdcAddr = ds.KDC.Addr().String()
	}
	// The ready line is a public contract (interop/run.sh, bench/run.sh and users parse it): keep
	// every field and its order; new fields go at the end.
	extra := ""
	if ds.DNS != nil {
		extra += " dns=" + ds.DNS.Addr().String()
	}
	fmt.Fprintf(stdout, "ready ldap=%s ldaps=%s kdc=%s state-dir=%s seed=%d domain=%s dc=%s%s\n",
		addrOf(ds.LDAP.LDAPAddr()), addrOf(ds.LDAP.LDAPSAddr()), kdcAddr, o.StateDir, o.Seed,
		ds.World.Config().Domain, ds.World.DCs()[0].Name(), extra)
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

func addrOf(a interface{ String() string }) string {
	if a == nil || fmt.Sprint(a) == "<nil>" {
		return "-"
	}
	return a.String()
}
