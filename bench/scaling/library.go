//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"time"
)

// LibraryPaths are the scenario files `make run` runs.
var LibraryPaths = []string{"scenarios/library", "scenarios/mim"}

// LibraryResult is one run of the scenario library on a number of cores.
type LibraryResult struct {
	Cores     int
	Wall      time.Duration
	CPU       time.Duration // user + system of the process
	MaxRSS    uint64        // bytes
	Scenarios int           // scenarios that passed
}

// libraryLimit bounds one run of the library (it takes seconds to tens of seconds on 2 cores).
const libraryLimit = 10 * time.Minute

var passedRE = regexp.MustCompile(`(?m)^(\d+) scenarios: (\d+) passed, (\d+) failed`)

// RunLibrary runs `gmsasim run scenarios/library scenarios/mim` with GOMAXPROCS=cores and
// --parallel cores (its default is GOMAXPROCS), and fails unless every scenario passed.
func RunLibrary(bin string, cores int) (LibraryResult, error) {
	r := LibraryResult{Cores: cores}
	ctx, cancel := context.WithTimeout(context.Background(), libraryLimit)
	defer cancel()
	args := append([]string{"run", "--parallel", strconv.Itoa(cores)}, LibraryPaths...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(cores))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t := time.Now() // wallclock: a benchmark measures wall time
	err := cmd.Run()
	r.Wall = time.Since(t) // wallclock: a benchmark measures wall time
	if err != nil {
		return r, fmt.Errorf("%s %v with GOMAXPROCS=%d: %v\n%s", bin, args, cores, err, tail(out.Bytes(), 2000))
	}
	ps := cmd.ProcessState
	r.CPU = ps.UserTime() + ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSS = uint64(ru.Maxrss) << 10 // Linux reports kilobytes
	}
	m := passedRE.FindSubmatch(out.Bytes())
	if m == nil {
		return r, fmt.Errorf("%s %v: no summary line in its output:\n%s", bin, args, tail(out.Bytes(), 2000))
	}
	total, _ := strconv.Atoi(string(m[1]))
	passed, _ := strconv.Atoi(string(m[2]))
	if passed != total || total == 0 {
		return r, fmt.Errorf("%s %v: %s", bin, args, m[0])
	}
	r.Scenarios = passed
	return r, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
