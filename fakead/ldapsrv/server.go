package ldapsrv

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vjeantet/ldapserver"

	"github.com/gmsasim/gmsasim/fakead"
)

// ErrServerClosed is returned by ListenLDAP and ListenLDAPS after Close.
var ErrServerClosed = errors.New("ldapsrv: server closed")

// quietLibrary silences the library's global logger, which writes every PDU in hex, simple-bind
// passwords included: once, before the first server's goroutines can read it (New calls it).
var quietLibrary = sync.OnceFunc(func() { ldapserver.Logger = ldapserver.DiscardingLogger })

// Options configure a Server.
type Options struct {
	// TLS holds the server certificate for LDAPS and StartTLS. Nil disables both: ListenLDAPS fails
	// and StartTLS answers unavailable.
	TLS *tls.Config
	// RequireSigning refuses, over an unencrypted connection, simple binds with a password and
	// SASL or NTLM binds that negotiate no signing or sealing, with strongerAuthRequired and AD's
	// 00002028 text, as a DC enforcing LDAP signing does.
	RequireSigning bool
	// Limits are the administrative limits (AD's query policy and ours); each zero field takes
	// its DefaultLimits value.
	Limits Limits
}

// Server is one domain controller's LDAP endpoint: an LDAP and an LDAPS listener over one Backend.
type Server struct {
	b    Backend
	opts Options
	lim  Limits // opts.Limits with defaults

	pagedMem atomic.Int64 // bytes of paged-search state kept by every connection (MaxPagedMemory)

	outstandingHW atomic.Int64 // highest per-connection outstanding count seen (tests)
	inlined       atomic.Int64 // requests answered on the reading goroutine (inline.go; tests)
	noInline      bool         // tests: every request goes through the library

	// testHookWriter, when a test sets it before listening, sees every ResponseWriter
	// (goldapx_test.go pins the library's writer type with it).
	testHookWriter func(w ldapserver.ResponseWriter)

	mu        sync.Mutex
	closed    bool
	ldap      *listener
	ldaps     *listener
	conns     map[*framedConn]struct{}
	connWG    sync.WaitGroup
	closeOnce sync.Once
	closeDone chan struct{}
}

// New returns a server answering from b. It listens nowhere until ListenLDAP/ListenLDAPS.
func New(b Backend, opts Options) *Server {
	quietLibrary()
	return &Server{b: b, opts: opts, lim: opts.Limits.withDefaults(), conns: map[*framedConn]struct{}{}, closeDone: make(chan struct{})}
}

// ListenLDAP starts plain LDAP (StartTLS available when Options.TLS is set) on addr, e.g.
// "127.0.0.1:0"; LDAPAddr tells the port.
func (s *Server) ListenLDAP(addr string) error { return s.listen(addr, false) }

// ListenLDAPS starts LDAP over TLS on addr.
func (s *Server) ListenLDAPS(addr string) error {
	if s.opts.TLS == nil {
		return errors.New("ldapsrv: LDAPS needs Options.TLS")
	}
	return s.listen(addr, true)
}

// LDAPAddr is the LDAP listener's address, nil when not listening.
func (s *Server) LDAPAddr() net.Addr { return s.addrOf(false) }

// LDAPSAddr is the LDAPS listener's address, nil when not listening.
func (s *Server) LDAPSAddr() net.Addr { return s.addrOf(true) }

func (s *Server) addrOf(secure bool) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.ldap
	if secure {
		l = s.ldaps
	}
	if l == nil {
		return nil
	}
	return l.inner.Addr()
}

func (s *Server) listen(addr string, secure bool) error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrServerClosed
	case !secure && s.ldap != nil, secure && s.ldaps != nil:
		s.mu.Unlock()
		return fmt.Errorf("ldapsrv: already listening (secure=%v)", secure)
	}
	s.mu.Unlock()

	lib := ldapserver.NewServer()
	lib.Handle(&handler{s: s})
	l := &listener{srv: s, secure: secure, exited: make(chan struct{})}
	ready := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(l.exited)
		// ListenAndServe returns only if net.Listen fails: after Close, our Accept ends this
		// goroutine with runtime.Goexit (see listener.Accept).
		errc <- lib.ListenAndServe(addr, func(ls *ldapserver.Server) {
			l.inner = ls.Listener
			ls.Listener = l
			close(ready)
		})
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("ldapsrv: listen %s: %w", addr, err)
	case <-ready:
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		<-l.exited
		return ErrServerClosed
	}
	if secure {
		s.ldaps = l
	} else {
		s.ldap = l
	}
	s.mu.Unlock()
	return nil
}

// Close stops both listeners, closes every connection and returns once all connection goroutines
// and handlers are done. It never calls the library's Stop, which leaves the accept loop running,
// and never lets the library see a closed listener, which makes it dereference a nil connection.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		defer close(s.closeDone)
		s.mu.Lock()
		s.closed = true
		lns := []*listener{s.ldap, s.ldaps}
		s.mu.Unlock()
		for _, l := range lns {
			if l != nil {
				l.Close()
			}
		}
		for _, l := range lns {
			if l != nil {
				<-l.exited
			}
		}
		s.mu.Lock()
		conns := make([]*framedConn, 0, len(s.conns))
		for fc := range s.conns {
			conns = append(conns, fc)
		}
		s.mu.Unlock()
		for _, fc := range conns {
			fc.kill()
		}
		s.connWG.Wait()
	})
	<-s.closeDone
	return nil
}

// track registers a freshly accepted connection. It returns nil with closed set once the server
// is closed, and nil alone when the connection is over MaxConnections (the caller refuses it).
func (s *Server) track(raw net.Conn, secure bool) (fc *framedConn, closed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, true
	}
	if len(s.conns) >= s.lim.MaxConnections {
		// A DC at MaxConnections drops another connection to admit the new one (KB 315071): the
		// longest-idle one. Only when every connection is busy is the newcomer refused.
		victim := s.longestIdleLocked()
		if victim == nil {
			return nil, false
		}
		victim.evicted.Store(true)
		victim.abort(fakead.Unavailable, "the server reached MaxConnections; the longest-idle connection is closed for a new one")
	}
	var cur net.Conn = raw
	if secure {
		cur = tls.Server(raw, s.opts.TLS)
	}
	st := newConnState(s, secure)
	fc = newFramedConn(st, raw, cur, &s.lim)
	_, krb := s.b.(KerberosAcceptor)
	_, nt := s.b.(NTLMAcceptor)
	fc.gateBinds = krb || nt
	st.fc = fc
	s.conns[fc] = struct{}{}
	s.connWG.Add(1)
	return fc, false
}

// longestIdleLocked is the open connection with no request outstanding whose last traffic is the
// oldest (not one already being evicted), or nil. s.mu is held.
func (s *Server) longestIdleLocked() *framedConn {
	var victim *framedConn
	var oldest time.Time
	for fc := range s.conns {
		if fc.evicted.Load() || fc.aborted.Load() || !fc.st.idle() {
			continue
		}
		last := fc.start.Add(time.Duration(fc.lastActive.Load()))
		if victim == nil || last.Before(oldest) {
			victim, oldest = fc, last
		}
	}
	return victim
}

// refuse closes a connection over MaxConnections at once (every established one was busy), after
// a Notice of Disconnection with busy on plain LDAP (LDAPS gets no handshake: the point is to
// spend nothing on it). The write goes to a fresh socket's empty buffer; its deadline only bounds
// a pathological case.
func refuse(raw net.Conn, secure bool) {
	if !secure {
		_ = raw.SetWriteDeadline(time.Now().Add(100 * time.Millisecond)) // wallclock: socket deadline
		_, _ = raw.Write(noticeBytes(fakead.Busy, "server busy: MaxConnections reached"))
	}
	_ = raw.Close()
}

// ConnCount is the number of open connections, LDAP and LDAPS.
func (s *Server) ConnCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) release(fc *framedConn) {
	s.mu.Lock()
	_, ok := s.conns[fc]
	delete(s.conns, fc)
	s.mu.Unlock()
	if ok {
		s.connWG.Done()
	}
}

// listener is what the library's accept loop sees. It never returns an error the library would
// mishandle: transient errors are retried here, and after Close the loop's goroutine (ours, from
// listen) is ended with runtime.Goexit, which runs the library's deferred Close and our own
// bookkeeping.
type listener struct {
	srv    *Server
	secure bool
	inner  net.Listener
	closed atomic.Bool
	exited chan struct{}
}

func (l *listener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.inner.Accept()
		if l.closed.Load() {
			if c != nil {
				_ = c.Close()
			}
			runtime.Goexit()
		}
		if err != nil {
			// Transient (EMFILE, ECONNABORTED): back off like net/http does. Not observable time.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		fc, closed := l.srv.track(c, l.secure)
		if closed {
			_ = c.Close()
			runtime.Goexit()
		}
		if fc == nil {
			refuse(c, l.secure) // over MaxConnections; the established connections go on
			continue
		}
		return fc, nil
	}
}

func (l *listener) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	return l.inner.Close()
}

func (l *listener) Addr() net.Addr { return l.inner.Addr() }
