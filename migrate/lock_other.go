//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package migrate

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

var errWouldBlock = errors.New("would block")

const openNoFollow = 0 // no flock here either: the engine writes no journal

// Divergence: the journal lock is flock(2); where there is none (Windows, Plan 9, Solaris) the
// engine refuses to write a journal rather than write one unlocked.
func flockExclusive(*os.File) error {
	return fmt.Errorf("journal locking (flock) is not implemented on %s: run the engine on Linux, macOS or a BSD", runtime.GOOS)
}
