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
		fmt.Fprintf(stderr, "ldapload: %v\n", err)
		return 2
	}
	var res Result
	label := c.Op
	if c.Mode == "load" {
		label = "load"
		res, err = Load(c)
	} else {
		res, err = Bench(c)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ldapload: server=%s op=%s: %v\n", c.Server, label, err)
		return 1
	}
	fmt.Fprintln(stdout, res.Line())
	if res.Errors > 0 {
		fmt.Fprintf(stderr, "ldapload: server=%s: %d operations failed (%v); first: %v\n", c.Server, res.Errors, errOps, res.FirstErr)
		return 1
	}
	return 0
}
