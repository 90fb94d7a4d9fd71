package kdc

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Exec runs fn inside the world loop with the DC's current time, serialised with every other
// access to the replica; sim's World.ExecOn(dc, ...) fits (an error such as a stopped DC means
// the KDC does not answer). kdc does not import sim: sim hands this in.
type Exec func(fn func(now time.Time) error) error

// Defaults of a ServerConfig. They bound what one TCP client can hold; none of them is reached
// by a Kerberos client that talks, since a client sends its request as soon as it connects and
// reads the reply at once (MIT krb5 and gokrb5 open a connection per request).
//
// Divergence: the values are this simulator's choice, not Windows' (whose KDC's TCP limits are
// not documented).
const (
	// DefaultMaxConns bounds concurrent TCP connections.
	DefaultMaxConns = 256
	// DefaultIdleTimeout: a TCP connection with no message in progress and nothing received for
	// this long is closed. 30 s is far more than a client needs between connecting (or reading a
	// reply) and sending its next request, and frees the slot of a client that went quiet within
	// half a minute.
	DefaultIdleTimeout = 30 * time.Second
	// DefaultReadTimeout bounds one TCP message from its first byte to its last: the largest
	// (MaxMessageSize) crosses any link a client uses in far less, so only a stalled or trickling
	// sender reaches it.
	DefaultReadTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds writing one reply, so a client that does not read cannot pin a
	// goroutine.
	DefaultWriteTimeout = 10 * time.Second
)

// ServerConfig is what a Server is built from.
type ServerConfig struct {
	KDC  *KDC
	Exec Exec
	// OnExchange, when set, is called inside Exec after each answered or refused request (for the
	// world's trace).
	OnExchange func(now time.Time, o Outcome)
	// Wire, when set, is called inside Exec for the time the wire carries (KDC.ExchangeAt): a
	// world ahead of the wall clock hands the wall clock in. nil: the world's time.
	Wire func() time.Time
	// MaxConns bounds concurrent TCP connections (0: DefaultMaxConns). A new connection past it
	// takes the place of the connection idle longest, else of the one whose partial message
	// started first; only when every connection is being answered is the newcomer closed.
	MaxConns int
	// IdleTimeout closes a TCP connection with no message in progress (0: DefaultIdleTimeout).
	IdleTimeout time.Duration
	// ReadTimeout bounds reading one TCP message once its first byte is in (0: DefaultReadTimeout).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one TCP reply (0: DefaultWriteTimeout).
	WriteTimeout time.Duration
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
	conns  map[*tcpConn]struct{} // open TCP connections
	tick   uint64                // orders state changes of connections (eviction picks the oldest)
	closed bool
	wg     sync.WaitGroup
	// handoff passes an accepted connection to a worker waiting for one; done is closed by Close.
	handoff     chan *tcpConn
	done        chan struct{}
	idleWorkers atomic.Int32

	udpDropped, tcpEvicted, tcpRefused, tcpTimedOut atomic.Uint64
}

// ServerStats counts what a server did not answer or cut short.
type ServerStats struct {
	// UDPDropped counts datagrams that got no reply: empty, longer than MaxMessageSize, not a
	// decodable AS-REQ or TGS-REQ, or refused by Exec (a stopped DC).
	UDPDropped uint64
	// TCPEvicted counts connections closed to make room for a new one past MaxConns.
	TCPEvicted uint64
	// TCPRefused counts new connections closed at once because every connection was being
	// answered.
	TCPRefused uint64
	// TCPTimedOut counts connections closed by IdleTimeout, ReadTimeout or WriteTimeout.
	TCPTimedOut uint64
}

// Stats reads the server's counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{UDPDropped: s.udpDropped.Load(), TCPEvicted: s.tcpEvicted.Load(),
		TCPRefused: s.tcpRefused.Load(), TCPTimedOut: s.tcpTimedOut.Load()}
}

// NewServer builds a server; it listens once ListenUDP, ListenTCP or Listen is called.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.KDC == nil || cfg.Exec == nil {
		return nil, errors.New("kdc: ServerConfig needs KDC and Exec")
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	return &Server{cfg: cfg, conns: map[*tcpConn]struct{}{}, handoff: make(chan *tcpConn), done: make(chan struct{})}, nil
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

// Close stops listening, closes every connection and waits for the serving goroutines. Closing a
// socket ends any read or write on it, so Close waits only for requests already inside Exec.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	var errs []error
	if s.udp != nil {
		errs = append(errs, s.udp.Close())
	}
	if s.tcp != nil {
		errs = append(errs, s.tcp.Close())
	}
	for c := range s.conns {
		c.gone = true
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return errors.Join(errs...)
}

// isClosed says whether Close was called.
func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// answer runs one request through the world's executor. It never panics; nil means no reply.
//
// Over UDP only a request that decoded as an AS-REQ or TGS-REQ is answered: anything else is
// dropped, so a forged source address cannot turn a tiny datagram into a KRB-ERROR sent to a
// victim (RFC 4120 lets a KDC ignore a message it cannot parse; a Windows KDC drops garbage).
// Over TCP, where the handshake proves the peer's address, a malformed AS-REQ or TGS-REQ still
// gets KRB_ERR_GENERIC.
func (s *Server) answer(req []byte, udp bool) (reply []byte) {
	if s.isClosed() {
		return nil // a request read before Close: the world is not entered again
	}
	defer func() {
		if recover() != nil {
			reply = nil
		}
	}()
	err := s.cfg.Exec(func(now time.Time) error {
		wire := now
		if s.cfg.Wire != nil {
			wire = s.cfg.Wire()
		}
		o := s.cfg.KDC.ExchangeAt(now, wire, req)
		if udp && o.Exchange == "" {
			return nil // not a request: no reply, no trace
		}
		if udp && len(o.Reply) > MaxUDPReply {
			o = s.cfg.KDC.fail(wire.UTC().Truncate(time.Second), o, errorcode.KRB_ERR_RESPONSE_TOO_BIG, nil, types.PrincipalName{}, "response too big for UDP", nil)
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

// datagram answers one UDP datagram; nil means it is dropped.
func (s *Server) datagram(req []byte) []byte {
	if len(req) == 0 || len(req) > MaxMessageSize {
		return nil
	}
	return s.answer(req, true)
}

func (s *Server) serveUDP(pc net.PacketConn) {
	defer s.wg.Done()
	buf := make([]byte, MaxMessageSize+1)
	var backoff retryDelay
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if s.isClosed() {
				return
			}
			backoff.wait() // a transient error (buffers exhausted): keep serving
			continue
		}
		backoff.reset()
		reply := s.datagram(append([]byte(nil), buf[:n]...))
		if reply == nil {
			s.udpDropped.Add(1)
			continue
		}
		pc.WriteTo(reply, from)
	}
}

// retryDelay paces a serving loop after an error that is not the socket's closing (such as
// EMFILE from Accept), so the loop neither spins nor gives up: 5 ms doubling to 1 s, as
// net/http's Server does.
type retryDelay time.Duration

func (d *retryDelay) wait() {
	if *d == 0 {
		*d = retryDelay(5 * time.Millisecond)
	} else if *d < retryDelay(time.Second) {
		*d *= 2
	}
	time.Sleep(time.Duration(*d))
}

func (d *retryDelay) reset() { *d = 0 }
