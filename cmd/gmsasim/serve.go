package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/sim"
)

// serveOptions are the flags of `gmsasim serve`; selfcheck uses the same machinery on port 0.
type serveOptions struct {
	LDAP, LDAPS    string
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
	Pop   *population
	CA    *ldapsrv.CA
	LDAP  *ldapsrv.Server
}

// startDomain builds the default domain and starts its listeners.
func startDomain(o serveOptions) (*domainServer, error) {
	w, err := sim.New(sim.Config{
		Seed:           o.Seed,
		SchemaVersion:  o.SchemaVersion,
		AdminPassword:  o.AdminPassword,
		RequireSigning: o.RequireSigning,
		Realtime:       o.Realtime,
	})
	if err != nil {
		return nil, err
	}
	pop, err := populate(w)
	if err != nil {
		return nil, fmt.Errorf("populate the default domain: %w", err)
	}
	dc := w.DCs()[0]
	ca, err := ldapsrv.NewCA(nil)
	if err != nil {
		return nil, fmt.Errorf("create the world's CA: %w", err)
	}
	dnsName := strings.ToLower(dc.Name()) + "." + strings.ToLower(w.Config().Domain)
	tlsConf, err := ca.ServerTLSConfig(dnsName)
	if err != nil {
		return nil, fmt.Errorf("issue the server certificate: %w", err)
	}
	srv := ldapsrv.New(w.Backend(dc.Name()), ldapsrv.Options{TLS: tlsConf, RequireSigning: o.RequireSigning})
	ds := &domainServer{World: w, Pop: pop, CA: ca, LDAP: srv}
	if o.LDAP != "" {
		if err := srv.ListenLDAP(o.LDAP); err != nil {
			srv.Close()
			return nil, fmt.Errorf("listen for LDAP on %s: %w", o.LDAP, err)
		}
	}
	if o.LDAPS != "" {
		if err := srv.ListenLDAPS(o.LDAPS); err != nil {
			srv.Close()
			return nil, fmt.Errorf("listen for LDAPS on %s: %w", o.LDAPS, err)
		}
	}
	return ds, nil
}

// writeState writes ca.pem and credentials.json into dir.
func (ds *domainServer) writeState(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ds.CA.PEM(), 0o644); err != nil {
		return err
	}
	creds, err := json.MarshalIndent(ds.Pop.Passwords, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "credentials.json"), append(creds, '\n'), 0o600)
}

func (ds *domainServer) Close() error { return ds.LDAP.Close() }

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o serveOptions
	fs.StringVar(&o.LDAP, "ldap", "127.0.0.1:3389", "LDAP listen address (\"\" to disable)")
	fs.StringVar(&o.LDAPS, "ldaps", "127.0.0.1:3636", "LDAPS listen address (\"\" to disable)")
	fs.StringVar(&o.StateDir, "state-dir", "gmsasim-state", "directory for ca.pem and credentials.json")
	fs.StringVar(&o.AdminPassword, "admin-password", "", "Administrator's password (default: drawn from the seed)")
	fs.IntVar(&o.SchemaVersion, "schema-version", 88, "schema objectVersion: 47, 52, 56, 69, 87, 88 or 91")
	fs.Uint64Var(&o.Seed, "seed", 1, "the world's seed: ids, keys and passwords derive from it")
	fs.BoolVar(&o.RequireSigning, "require-signing", false, "refuse simple binds over plain LDAP (strongerAuthRequired), as a DC enforcing LDAP signing")
	fs.BoolVar(&o.Realtime, "realtime", false, "let simulated time follow the wall clock")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gmsasim serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
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
	fmt.Fprintf(stdout, "ready ldap=%s ldaps=%s state-dir=%s seed=%d domain=%s dc=%s\n",
		addrOf(ds.LDAP.LDAPAddr()), addrOf(ds.LDAP.LDAPSAddr()), o.StateDir, o.Seed,
		ds.World.Config().Domain, ds.World.DCs()[0].Name())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	fmt.Fprintf(stdout, "stopping on %v\n", s)
	if err := ds.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		fmt.Fprintf(stderr, "gmsasim serve: close: %v\n", err)
		return 1
	}
	return 0
}

func addrOf(a interface{ String() string }) string {
	if a == nil || fmt.Sprint(a) == "<nil>" {
		return "-"
	}
	return a.String()
}
