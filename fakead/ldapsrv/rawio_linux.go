package ldapsrv

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// Reads and writes of plain TCP connections go through read(2) and write(2) as raw system calls
// on the non-blocking socket, waiting (deadlines honoured) through the runtime's poller when it
// would block (syscall.RawConn), instead of net.Conn's Read and Write.
//
// Why: a system call made the standard way tells the scheduler, and when every processor was idle
// (the server waiting for its clients, which on a loaded machine is often) the first such call
// wakes the runtime's monitor thread, which then polls every 20 µs for a millisecond before it
// backs off again; a loopback write, which delivers the segment to the client inside the call,
// can also be long enough for the monitor to hand the processor to another thread. Those wake-ups
// and handoffs were about a tenth of the server's CPU per request. A call on a non-blocking
// socket never blocks, so it needs neither.

// readTCP reads into p from rc (c's raw connection) as c.Read does.
func readTCP(c *net.TCPConn, rc syscall.RawConn, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n := 0
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		for {
			m, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case 0:
				if n = int(m); n == 0 {
					rerr = io.EOF
				}
				return true
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // nothing yet: wait until readable
			default:
				rerr = &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: e}
				return true
			}
		}
	})
	if err == nil {
		err = rerr
	}
	return n, err
}

// writeTCP writes p to rc (c's raw connection) as c.Write does.
func writeTCP(c *net.TCPConn, rc syscall.RawConn, p []byte) (int, error) {
	n := 0
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
			switch e {
			case 0:
				n += int(m)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // full: wait until writable
			default:
				werr = &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: e}
				return true
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}
