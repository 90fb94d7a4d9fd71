package ldapsrv

import (
	"bufio"
	"io"

	"github.com/gmsasim/gmsasim/ntlm"
)

// CapturedGoLDAP exposes the captured go-ldap PDUs (hex) to the external test package.
var CapturedGoLDAP = capturedGoLDAP

// MaxOutstandingSeen is the highest number of requests one connection had read but not answered.
func MaxOutstandingSeen(s *Server) int { return int(s.outstandingHW.Load()) }

// Inlined is the number of requests s answered on the reading goroutine (inline.go).
func Inlined(s *Server) int { return int(s.inlined.Load()) }

// NoInline sends every request of s through the library (before it listens).
func NoInline(s *Server) { s.noInline = true }

// NTLMLayerReader is the reader an NTLM layer installs over src (the bytes after the bind), for
// FuzzNTLMBuffers.
func NTLMLayerReader(sess *ntlm.Session, src io.Reader, maxIn int) io.Reader {
	return &saslReader{fc: &framedConn{}, src: bufio.NewReader(src), l: &ntlmLayer{sess: sess, maxIn: maxIn}}
}

// ErrFraming is the framing layer's "close this connection" error.
var ErrFraming = errFraming
