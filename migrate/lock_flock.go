//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package migrate

import (
	"os"
	"syscall"
)

var errWouldBlock = syscall.EWOULDBLOCK

// openNoFollow makes opening the lock file fail on a symlink instead of writing through it.
const openNoFollow = syscall.O_NOFOLLOW

// flockExclusive takes an exclusive flock(2) on f without waiting.
func flockExclusive(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}
