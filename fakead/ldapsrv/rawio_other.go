//go:build !linux

package ldapsrv

import (
	"net"
	"syscall"
)

// readTCP is c.Read where no raw read is implemented (rawio_linux.go says why it exists).
func readTCP(c *net.TCPConn, _ syscall.RawConn, p []byte) (int, error) { return c.Read(p) }

// writeTCP is c.Write where no raw write is implemented.
func writeTCP(c *net.TCPConn, _ syscall.RawConn, p []byte) (int, error) { return c.Write(p) }
