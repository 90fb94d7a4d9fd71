package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: exit status 0 when every operation succeeded, 1 when some
// failed or the run could not start, 2 on bad flags.
func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "krbload: %v\n", err)
		return 2
	}
	if c.Op == "keys" {
		n, err := WriteKeys(c)
		if err != nil {
			fmt.Fprintf(stderr, "krbload: -op keys: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "krbload: wrote %d keys to %s\n", n, c.KeysFile)
		return 0
	}
	res, err := Bench(c)
	if err != nil {
		fmt.Fprintf(stderr, "krbload: server=%s op=%s: %v\n", c.Server, c.Op, err)
		return 1
	}
	fmt.Fprintln(stdout, res.Line())
	if res.Errors > 0 {
		fmt.Fprintf(stderr, "krbload: server=%s: %d operations failed; first: %v\n", c.Server, res.Errors, res.FirstErr)
		return 1
	}
	return 0
}
