package main

import (
	"context"
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

	"github.com/gmsasim/gmsasim/control"
	"github.com/gmsasim/gmsasim/internal/safefile"
)

// gmsasim ctl drives a running `gmsasim serve` through its control API (package control): it runs
// scenario steps against the served world, reads its state and trace, and saves and restores it.
// The work is the control client's; this is its command line.

const ctlUsage = `usage: gmsasim ctl [--state-dir DIR] [--url URL] [--token-file FILE] COMMAND

commands:
  steps FILE|-                 run scenario steps (a .scn file's steps; - reads stdin) and print the
                               transcript in .scn form; exit 1 on a failing step
  step 'LINE' ['INPUT'...]     run one directive with its input lines and print its output, e.g.
                               step 'ps on=DC1' 'Get-ADServiceAccount ITFarm1'
  advance DURATION             step 'advance DURATION', e.g. advance 29d23h56m
  state                        the world's state as JSON
  trace [--from N] [--follow]  the trace lines from sequence number N; --follow waits for new ones
  snapshot FILE                save the world to FILE (0600; - writes stdout)
  restore FILE                 replace the world with a snapshot (- reads stdin)
  ldif [--dc NAME]             a DC's replica as LDIF (default: the first DC)

The API's address is the "control" field of DIR/endpoints.json and its token DIR/control.token;
--url and --token-file override them.

flags:
`

// ctlStdin is what "-" reads; a test replaces it.
var ctlStdin io.Reader = os.Stdin

// ctlCommand is a parsed subcommand, run once the client exists.
type ctlCommand func(ctx context.Context, c *control.Client, stdout, stderr io.Writer) error

// errStepFailed is a step run that stopped on a failure already printed: exit 1, nothing more.
var errStepFailed = errors.New("a step failed")

func runCtl(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stateDir := fs.String("state-dir", "gmsasim-state", "the state directory of the gmsasim serve to drive")
	url := fs.String("url", "", "the control API's URL, e.g. http://127.0.0.1:3080 (default: the \"control\" field of STATE-DIR/endpoints.json)")
	tokenFile := fs.String("token-file", "", "the file holding the bearer token (default: STATE-DIR/control.token)")
	fs.Usage = func() {
		fmt.Fprint(stderr, ctlUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, "gmsasim ctl: missing COMMAND\n\n")
		fs.Usage()
		return 2
	}
	name := fs.Arg(0)
	cmd, err := parseCtlCommand(name, fs.Args()[1:], stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "gmsasim ctl %s: %v\n", name, err)
		}
		return 2
	}
	c, err := ctlClient(*stateDir, *url, *tokenFile)
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim ctl: %v\n", err)
		return 1
	}
	// SIGINT ends a trace --follow (and any call) cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd(ctx, c, stdout, stderr); err != nil {
		if !errors.Is(err, errStepFailed) {
			fmt.Fprintf(stderr, "gmsasim ctl %s: %v\n", name, err)
		}
		return 1
	}
	return 0
}

// ctlClient is the client of --url/--token-file, each defaulting to the state directory's file.
func ctlClient(stateDir, url, tokenFile string) (*control.Client, error) {
	if url == "" {
		u, err := control.EndpointFromStateDir(stateDir)
		if err != nil {
			return nil, err
		}
		url = u
	}
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("--url %q: want http://HOST:PORT", url)
	}
	if tokenFile == "" {
		tokenFile = filepath.Join(stateDir, "control.token")
	}
	tok, err := control.ReadToken(tokenFile)
	if err != nil {
		return nil, err
	}
	return control.NewClient(url, tok), nil
}

// parseCtlCommand checks a subcommand's arguments (a usage error is exit 2 before any connection).
func parseCtlCommand(name string, args []string, stderr io.Writer) (ctlCommand, error) {
	nargs := func(n int, what string) error {
		if len(args) != n {
			return fmt.Errorf("want %s, got %d arguments\n\n%s", what, len(args), ctlUsage)
		}
		return nil
	}
	switch name {
	case "steps":
		if err := nargs(1, "one FILE or -"); err != nil {
			return nil, err
		}
		return ctlSteps(args[0]), nil
	case "step":
		if len(args) == 0 || strings.TrimSpace(args[0]) == "" {
			return nil, fmt.Errorf("want a directive line, e.g. step 'advance 30d'")
		}
		return ctlStep(args[0], args[1:]), nil
	case "advance":
		if err := nargs(1, "one DURATION, e.g. advance 29d23h56m"); err != nil {
			return nil, err
		}
		return ctlStep("advance "+args[0], nil), nil
	case "state":
		if err := nargs(0, "no argument"); err != nil {
			return nil, err
		}
		return ctlState, nil
	case "trace":
		fs := flag.NewFlagSet("ctl trace", flag.ContinueOnError)
		fs.SetOutput(stderr)
		from := fs.Int("from", 0, "the first sequence number (lines count from 0)")
		follow := fs.Bool("follow", false, "keep waiting for new lines (until interrupted)")
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() > 0 || *from < 0 {
			return nil, fmt.Errorf("want [--from N] [--follow] with N >= 0")
		}
		return ctlTrace(*from, *follow), nil
	case "snapshot", "restore":
		if err := nargs(1, "one FILE"); err != nil {
			return nil, err
		}
		if name == "snapshot" {
			return ctlSnapshot(args[0]), nil
		}
		return ctlRestore(args[0]), nil
	case "ldif":
		fs := flag.NewFlagSet("ctl ldif", flag.ContinueOnError)
		fs.SetOutput(stderr)
		dc := fs.String("dc", "", "the DC (default: the first)")
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() > 0 {
			return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		return func(ctx context.Context, c *control.Client, stdout, _ io.Writer) error {
			return c.LDIF(ctx, *dc, stdout)
		}, nil
	}
	return nil, fmt.Errorf("unknown command\n\n%s", ctlUsage)
}

// readInput reads FILE, or stdin for "-".
func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(ctlStdin)
	}
	return os.ReadFile(path)
}

func ctlSteps(path string) ctlCommand {
	return func(ctx context.Context, c *control.Client, stdout, stderr io.Writer) error {
		b, err := readInput(path)
		if err != nil {
			return err
		}
		text := string(b)
		res, err := c.Steps(ctx, text)
		var fe *control.StepsFailedError
		var se *control.SyntaxError
		switch {
		case errors.As(err, &fe):
			// The transcript up to the failing step, then why it failed.
			fmt.Fprint(stdout, control.FormatSCN(text, res))
			fmt.Fprintf(stderr, "gmsasim ctl steps: %s:%d: %s: %s\n", path, fe.Failure.Line, fe.Failure.Step, fe.Failure.Message)
			return errStepFailed
		case errors.As(err, &se):
			return fmt.Errorf("%s:%d: %s", path, se.Line, se.Msg)
		case err != nil:
			return err
		}
		fmt.Fprint(stdout, control.FormatSCN(text, res))
		return nil
	}
}

func ctlStep(line string, input []string) ctlCommand {
	return func(ctx context.Context, c *control.Client, stdout, stderr io.Writer) error {
		text := line + "\n"
		for _, l := range input {
			text += l + "\n"
		}
		res, err := c.Steps(ctx, text)
		for _, st := range res.Steps {
			if st.Output != "" {
				fmt.Fprint(stdout, strings.TrimRight(st.Output, "\n")+"\n")
			}
		}
		var fe *control.StepsFailedError
		var se *control.SyntaxError
		switch {
		case errors.As(err, &fe):
			fmt.Fprintf(stderr, "gmsasim ctl: %s: %s\n", fe.Failure.Step, fe.Failure.Message)
			return errStepFailed
		case errors.As(err, &se):
			return se
		}
		return err
	}
}

func ctlState(ctx context.Context, c *control.Client, stdout, _ io.Writer) error {
	st, err := c.State(ctx)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(b, '\n'))
	return err
}

func ctlTrace(from int, follow bool) ctlCommand {
	return func(ctx context.Context, c *control.Client, stdout, stderr io.Writer) error {
		err := c.Trace(ctx, from, follow, func(l control.TraceLine) error {
			if l.Dropped > 0 {
				fmt.Fprintf(stderr, "gmsasim ctl trace: %d lines before %d are no longer kept\n", l.Dropped, l.Seq)
				return nil
			}
			_, err := fmt.Fprintln(stdout, l.Line)
			return err
		})
		if follow && errors.Is(err, context.Canceled) {
			return nil // interrupted: the way a follow ends
		}
		return err
	}
}

func ctlSnapshot(path string) ctlCommand {
	return func(ctx context.Context, c *control.Client, stdout, stderr io.Writer) error {
		b, err := c.Snapshot(ctx)
		if err != nil {
			return err
		}
		if path == "-" {
			_, err = stdout.Write(b)
			return err
		}
		// 0600 and replaced, not written through: the snapshot holds the world's secrets.
		if err := safefile.WriteFile(path, b, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", path, len(b))
		return nil
	}
}

func ctlRestore(path string) ctlCommand {
	return func(ctx context.Context, c *control.Client, stdout, _ io.Writer) error {
		b, err := readInput(path)
		if err != nil {
			return err
		}
		if err := c.Restore(ctx, b); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "restored %s\n", path)
		return nil
	}
}
