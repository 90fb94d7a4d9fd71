package kdc

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// connState is where a TCP connection is in its request cycle.
type connState uint8

const (
	connIdle      connState = iota // waiting for the first byte of a message
	connReading                    // part of a message is in
	connAnswering                  // the request is in the KDC or its reply is being written
)

// tcpConn is one TCP connection. state, since and gone are guarded by Server.mu.
type tcpConn struct {
	net.Conn
	state connState
	since uint64 // Server.tick when state was entered
	gone  bool   // closed by the server (eviction or Close): stop at the next step
}

func (s *Server) serveTCP(ln net.Listener) {
	defer s.wg.Done()
	var backoff retryDelay
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return
			}
			// Out of file descriptors, or a connection reset before it was accepted: keep
			// listening.
			backoff.wait()
			continue
		}
		backoff.reset()
		s.admit(c)
	}
}

// admit starts serving c, making room past MaxConns: the connection idle longest goes first,
// then the one whose partial message started first (a stalled sender), as MIT krb5kdc drops its
// least recently used connection. A connection being answered is never closed for a newcomer; if
// every one is, the newcomer is.
func (s *Server) admit(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return
	}
	if len(s.conns) >= s.cfg.MaxConns {
		victim := s.evictableLocked()
		if victim == nil {
			s.tcpRefused.Add(1)
			c.Close()
			return
		}
		victim.gone = true
		victim.Close()
		delete(s.conns, victim)
		s.tcpEvicted.Add(1)
	}
	s.tick++
	tc := &tcpConn{Conn: c, state: connIdle, since: s.tick}
	s.conns[tc] = struct{}{}
	select {
	case s.handoff <- tc: // a worker was waiting
	default:
		s.wg.Add(1)
		go s.worker(tc)
	}
}

// maxIdleWorkers bounds the goroutines kept waiting for a connection once theirs ended.
const maxIdleWorkers = 16

// worker serves c, then waits for the next connection admit hands over, while fewer than
// maxIdleWorkers wait, until Close. A Kerberos client opens a connection per request: a worker
// that is already running (its stack grown to what answering takes) costs less than a new
// goroutine per connection, which was a tenth of the server's CPU.
func (s *Server) worker(c *tcpConn) {
	defer s.wg.Done()
	for {
		s.serveConn(c)
		if s.idleWorkers.Add(1) > maxIdleWorkers {
			s.idleWorkers.Add(-1)
			return
		}
		select {
		case c = <-s.handoff:
			s.idleWorkers.Add(-1)
		case <-s.done:
			s.idleWorkers.Add(-1)
			return
		}
	}
}

// evictableLocked picks the connection to close for a newcomer, or nil. O(MaxConns), once per
// accept past the cap.
func (s *Server) evictableLocked() *tcpConn {
	var idle, reading *tcpConn
	for c := range s.conns {
		switch {
		case c.state == connIdle && (idle == nil || c.since < idle.since):
			idle = c
		case c.state == connReading && (reading == nil || c.since < reading.since):
			reading = c
		}
	}
	if idle != nil {
		return idle
	}
	return reading
}

// enter moves c to state st, stamping the change (a new connection keeps its accept order until
// its first byte); false means the server closed c meanwhile.
func (s *Server) enter(c *tcpConn, st connState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.gone {
		return false
	}
	if c.state != st {
		s.tick++
		c.state, c.since = st, s.tick
	}
	return true
}

// serveConn answers length-prefixed requests until the peer closes, sends a malformed frame,
// stays idle past IdleTimeout, stalls a message past ReadTimeout or a reply past WriteTimeout, or
// the server closes it. A panic ends only this connection.
func (s *Server) serveConn(c *tcpConn) {
	in := tcpInPool.Get().(*tcpIn)
	defer func() {
		recover()
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		in.reset()
		tcpInPool.Put(in)
	}()
	for {
		req, err := s.readMessage(c, in)
		if err != nil {
			s.countTimeout(err)
			return
		}
		if !s.enter(c, connAnswering) {
			return
		}
		reply := s.answer(req, false)
		if reply == nil {
			return
		}
		out := make([]byte, 4+len(reply))
		binary.BigEndian.PutUint32(out, uint32(len(reply)))
		copy(out[4:], reply)
		c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout)) // wallclock: socket deadline
		if _, err := c.Write(out); err != nil {
			s.countTimeout(err)
			return
		}
	}
}

// errFrame ends a connection whose frame is not a request.
var errFrame = errors.New("kdc: bad TCP frame")

// tcpIn is a connection's read buffer: one read usually brings a whole request (a TGS-REQ with
// its TGT is under 2 KiB), where reading the length prefix and the body apart took three system
// calls. Bytes past the message (a pipelined request) stay for the next one.
type tcpIn struct {
	buf  [tcpInSize]byte
	r, w int // buf[r:w] is read and not yet consumed
}

const tcpInSize = 4 << 10

func (in *tcpIn) reset() { in.r, in.w = 0, 0 }

var tcpInPool = sync.Pool{New: func() any { return new(tcpIn) }}

// fill reads once into the buffer's free space, moving the unconsumed bytes to its front first.
func (in *tcpIn) fill(c net.Conn) error {
	if in.r > 0 {
		in.w = copy(in.buf[:], in.buf[in.r:in.w])
		in.r = 0
	}
	n, err := c.Read(in.buf[in.w:])
	in.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// readMessage reads one framed message: up to IdleTimeout for its first byte, then ReadTimeout
// for the rest. The length is checked before a body larger than the buffer is allocated, so a
// connection holds at most MaxMessageSize bytes besides its buffer.
func (s *Server) readMessage(c *tcpConn, in *tcpIn) ([]byte, error) {
	if in.w == in.r {
		if !s.enter(c, connIdle) {
			return nil, net.ErrClosed
		}
		c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout)) // wallclock: socket deadline
		if err := in.fill(c); err != nil {
			return nil, err
		}
	}
	if !s.enter(c, connReading) {
		return nil, net.ErrClosed
	}
	deadline := false
	more := func() error { // the message is not all in: ReadTimeout bounds the rest
		if !deadline {
			deadline = true
			c.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout)) // wallclock: socket deadline
		}
		return in.fill(c)
	}
	for in.w-in.r < 4 {
		if err := more(); err != nil {
			return nil, err
		}
	}
	n := binary.BigEndian.Uint32(in.buf[in.r:])
	// The high bit announces RFC 4120 7.2.2 extensions, none of which are supported; a length
	// past the bound or zero is not a request.
	if n == 0 || n > MaxMessageSize {
		return nil, errFrame
	}
	in.r += 4
	if int(n) <= tcpInSize {
		for in.w-in.r < int(n) {
			if err := more(); err != nil {
				return nil, err
			}
		}
		req := in.buf[in.r : in.r+int(n) : in.r+int(n)]
		in.r += int(n)
		if in.r == in.w {
			in.r, in.w = 0, 0
		}
		return req, nil
	}
	req := make([]byte, n)
	k := copy(req, in.buf[in.r:in.w])
	in.r, in.w = 0, 0
	if !deadline {
		c.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout)) // wallclock: socket deadline
	}
	if _, err := io.ReadFull(c, req[k:]); err != nil {
		return nil, err
	}
	return req, nil
}

// countTimeout counts a connection ended by one of its deadlines.
func (s *Server) countTimeout(err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		s.tcpTimedOut.Add(1)
	}
}
