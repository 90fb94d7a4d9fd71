package kdc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Exec runs fn inside the world loop with the DC's current time, serialised with every other
// access to the replica; sim's World.ExecOn(dc, ...) fits (an error such as a stopped DC means
// the KDC does not answer). kdc does not import sim: sim hands this in.
type Exec func(fn func(now time.Time) error) error

// ServerConfig is what a Server is built from.
type ServerConfig struct {
	KDC  *KDC
	Exec Exec
	// OnExchange, when set, is called inside Exec after each answered or refused request (for the
	// world's trace).
	OnExchange func(now time.Time, o Outcome)
	// MaxConns bounds concurrent TCP connections (0: 256); more are closed at once.
	MaxConns int
}

// MaxUDPReply is the largest reply sent over UDP; a larger one is replaced by
// KRB_ERR_RESPONSE_TOO_BIG so the client retries over TCP (RFC 4120 7.2.1).
const MaxUDPReply = 1400

// Server serves a KDC over UDP (one datagram per message) and TCP (each message preceded by its
// 4-byte big-endian length, RFC 4120 7.2.2), on real sockets.
type Server struct {
	cfg    ServerConfig
	mu     sync.Mutex
	udp    net.PacketConn
	tcp    net.Listener
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// NewServer builds a server; it listens once ListenUDP, ListenTCP or Listen is called.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.KDC == nil || cfg.Exec == nil {
		return nil, errors.New("kdc: ServerConfig needs KDC and Exec")
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 256
	}
	return &Server{cfg: cfg, conns: map[net.Conn]bool{}}, nil
}

// ErrServerClosed is returned by Listen* after Close.
var ErrServerClosed = errors.New("kdc: server closed")

// Listen listens on TCP at addr ("127.0.0.1:0" picks a port) and on UDP at the same port, as a KDC
// does on port 88.
func (s *Server) Listen(addr string) error {
	if err := s.ListenTCP(addr); err != nil {
		return err
	}
	return s.ListenUDP(s.TCPAddr().String())
}

// ListenUDP serves UDP at addr.
func (s *Server) ListenUDP(addr string) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("kdc: listen udp %s: %w", addr, err)
	}
	s.mu.Lock()
	if s.closed || s.udp != nil {
		s.mu.Unlock()
		pc.Close()
		if s.closed {
			return ErrServerClosed
		}
		return errors.New("kdc: already listening on UDP")
	}
	s.udp = pc
	s.wg.Add(1)
	s.mu.Unlock()
	go s.serveUDP(pc)
	return nil
}

// ListenTCP serves TCP at addr.
func (s *Server) ListenTCP(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("kdc: listen tcp %s: %w", addr, err)
	}
	s.mu.Lock()
	if s.closed || s.tcp != nil {
		s.mu.Unlock()
		ln.Close()
		if s.closed {
			return ErrServerClosed
		}
		return errors.New("kdc: already listening on TCP")
	}
	s.tcp = ln
	s.wg.Add(1)
	s.mu.Unlock()
	go s.serveTCP(ln)
	return nil
}

// Addr is the TCP address when listening on TCP, else the UDP address, else nil.
func (s *Server) Addr() net.Addr {
	if a := s.TCPAddr(); a != nil {
		return a
	}
	return s.UDPAddr()
}

// TCPAddr is the TCP listener's address, or nil.
func (s *Server) TCPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr()
}

// UDPAddr is the UDP socket's address, or nil.
func (s *Server) UDPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr()
}

// Close stops listening, closes every connection and waits for the serving goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var errs []error
	if s.udp != nil {
		errs = append(errs, s.udp.Close())
	}
	if s.tcp != nil {
		errs = append(errs, s.tcp.Close())
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return errors.Join(errs...)
}

// answer runs one request through the world's executor. It never panics; nil means no reply.
func (s *Server) answer(req []byte, udp bool) (reply []byte) {
	defer func() {
		if recover() != nil {
			reply = nil
		}
	}()
	err := s.cfg.Exec(func(now time.Time) error {
		o := s.cfg.KDC.Exchange(now, req)
		if udp && len(o.Reply) > MaxUDPReply {
			o = s.cfg.KDC.fail(now.UTC().Truncate(time.Second), o, errorcode.KRB_ERR_RESPONSE_TOO_BIG, nil, types.PrincipalName{}, "response too big for UDP", nil)
		}
		if s.cfg.OnExchange != nil && o.Exchange != "" {
			s.cfg.OnExchange(now, o)
		}
		reply = o.Reply
		return nil
	})
	if err != nil {
		return nil
	}
	return reply
}

func (s *Server) serveUDP(pc net.PacketConn) {
	defer s.wg.Done()
	buf := make([]byte, MaxMessageSize+1)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed
		}
		if n == 0 || n > MaxMessageSize {
			continue
		}
		req := append([]byte(nil), buf[:n]...)
		if reply := s.answer(req, true); reply != nil {
			pc.WriteTo(reply, from)
		}
	}
}

func (s *Server) serveTCP(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed
		}
		s.mu.Lock()
		if s.closed || len(s.conns) >= s.cfg.MaxConns {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// serveConn answers length-prefixed requests until the peer closes, sends a malformed frame or
// the server closes. A panic ends only this connection.
func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		recover()
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		// The high bit announces RFC 4120 7.2.2 extensions, none of which are supported; a length
		// past the bound or zero is not a request.
		if n == 0 || n > MaxMessageSize {
			return
		}
		req := make([]byte, n)
		if _, err := io.ReadFull(c, req); err != nil {
			return
		}
		reply := s.answer(req, false)
		if reply == nil {
			return
		}
		out := make([]byte, 4+len(reply))
		binary.BigEndian.PutUint32(out, uint32(len(reply)))
		copy(out[4:], reply)
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}
