package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/conform"
	"github.com/gmsasim/gmsasim/control"
	"github.com/gmsasim/gmsasim/fakekds"
)

// gmsasim conform drives a vendor's gMSA-consuming product through the life of a gMSA, each check
// in a world it starts itself (serve's machinery on ephemeral loopback ports, a control API, a
// state dir), and reports which behaviours passed. The checks are package conform's; they talk to
// the world only through the control API and the state dir.

const conformUsage = `usage: gmsasim conform --adapter FILE [--junit FILE] [--report DIR] [--parallel N] [--seed N]
                       [--check NAME,...] [--keep-state DIR]
`

func runConform(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("conform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	adapterPath := fs.String("adapter", "", "the product's adapter file (JSON; see conform/adapters/ and the README's \"Validate your product\")")
	junit := fs.String("junit", "", "write JUnit XML here")
	report := fs.String("report", "", "write the HTML report (index.html) into this directory")
	parallel := fs.Int("parallel", 2, "worlds run at once")
	seed := fs.Uint64("seed", 1, "every world's seed")
	only := fs.String("check", "", "run only these checks (comma-separated): "+strings.Join(conform.CheckNames(), ", "))
	keep := fs.String("keep-state", "", "keep each check's state dir and product output under this directory (default: a temporary one, removed)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *adapterPath == "" || fs.NArg() > 0 || *parallel < 1 {
		fmt.Fprintf(stderr, "gmsasim conform: --adapter is required (and --parallel at least 1)\n%s", conformUsage)
		return 2
	}
	a, err := conform.LoadAdapter(*adapterPath)
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim conform: %v\n", err)
		return 2
	}
	var names []string
	if *only != "" {
		names = strings.Split(*only, ",")
	}
	dir := *keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "gmsasim-conform-"); err != nil {
			fmt.Fprintf(stderr, "gmsasim conform: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintf(stderr, "gmsasim conform: --keep-state: %v\n", err)
		return 1
	}
	// The product inherits this process's environment, plus GMSASIM: this executable, which the
	// shipped adapters call (a test binary acting as gmsasim sets GMSASIM_TEST_AS_GMSASIM with
	// t.Setenv, and the product inherits it).
	env := map[string]string{}
	if exe, err := os.Executable(); err == nil {
		env["GMSASIM"] = exe
	}
	began := time.Now() // wallclock: the JUnit suite's time
	results, err := conform.Run(context.Background(), conform.Options{Adapter: a, Start: startConformWorld, Dir: dir,
		Checks: names, Parallel: *parallel, Seed: *seed, Env: env})
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim conform: %v\n", err)
		return 2
	}
	wall := time.Since(began) // wallclock
	failed := 0
	for _, r := range results {
		switch {
		case r.Error != "":
			failed++
			fmt.Fprintf(stdout, "ERROR %s: %s\n", r.Check, r.Error)
		case len(r.Failures) > 0:
			failed++
			fmt.Fprintf(stdout, "FAIL  %s\n", r.Check)
			for _, f := range r.Failures {
				fmt.Fprintf(stdout, "      %s\n", f)
			}
		default:
			fmt.Fprintf(stdout, "pass  %s\n", r.Check)
		}
	}
	fmt.Fprintf(stdout, "conform %s: %d passed, %d failed (%s)\n", a.Name, len(results)-failed, failed, wall.Round(time.Millisecond))
	if *junit != "" {
		var buf bytes.Buffer
		err := conform.WriteJUnit(&buf, a.Name, results, wall)
		if err == nil {
			err = writeFileMkdir(*junit, buf.Bytes())
		}
		if err != nil {
			fmt.Fprintf(stderr, "gmsasim conform: --junit: %v\n", err)
			return 1
		}
	}
	if *report != "" {
		var buf bytes.Buffer
		err := conform.WriteHTML(&buf, a.Name, results)
		if err == nil {
			err = writeFileMkdir(filepath.Join(*report, "index.html"), buf.Bytes())
		}
		if err != nil {
			fmt.Fprintf(stderr, "gmsasim conform: --report: %v\n", err)
			return 1
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// startConformWorld is one check's world: serve's default domain with spec.DCs DCs, realtime, on
// ephemeral loopback ports (LDAP, LDAPS, KDC, DNS), its state written to dir, a control API.
func startConformWorld(ctx context.Context, spec conform.WorldSpec, dir string) (*conform.Started, error) {
	o := serveOptions{LDAP: "127.0.0.1:0", LDAPS: "127.0.0.1:0", KDC: "127.0.0.1:0", DNS: "127.0.0.1:0", DCs: spec.DCs,
		Seed: spec.Seed, SchemaVersion: 88, Realtime: true, StateDir: dir, Keys: fakekds.NewKeyMemo(),
		Start: time.Now().UTC().Truncate(time.Second)} // wallclock: real Kerberos clients are within the skew
	hub := control.NewTraceHub(0)
	o.Trace = hub
	ds, err := startDomain(o)
	if err != nil {
		return nil, err
	}
	if err := ds.writeState(dir); err != nil {
		ds.Close()
		return nil, err
	}
	cs, err := ds.serveControl(o, "127.0.0.1:0", dir, hub)
	if err != nil {
		ds.Close()
		return nil, err
	}
	cl, err := control.ClientFromStateDir(dir)
	if err != nil {
		cs.Close()
		ds.Close()
		return nil, err
	}
	return &conform.Started{World: cl, StateDir: dir, Close: func() error {
		return errors.Join(cs.Close(), ds.Close())
	}}, nil
}
