package kdc

import "net"

// ServeConn serves c as if the TCP listener had accepted it, cap included. Tests hand in an end
// of net.Pipe, whose writes block until the other end reads: a client that never reads, without
// filling a kernel's socket buffers.
func (s *Server) ServeConn(c net.Conn) { s.admit(c) }

// Datagram answers one UDP datagram as the UDP listener does; nil means it is dropped.
func (s *Server) Datagram(req []byte) []byte { return s.datagram(req) }
