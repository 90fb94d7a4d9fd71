package control

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Default limits of a Server (Config's zero values).
const (
	DefaultMaxBody           = 1 << 20  // bytes of a request body (POST /steps)
	DefaultMaxSnapshot       = 64 << 20 // bytes of POST /restore's body
	DefaultMaxFollowers      = 16       // concurrent GET /trace?follow=1
	DefaultReadHeaderTimeout = 10 * time.Second
)

// Config configures a Server.
type Config struct {
	Backend Backend   // required
	Token   string    // required: the bearer token every route but GET /openapi.yaml wants (NewToken)
	Trace   *TraceHub // the world's trace; nil: an empty hub of DefaultTraceLines

	MaxBody           int64         // 0: DefaultMaxBody
	MaxSnapshot       int64         // 0: DefaultMaxSnapshot
	MaxFollowers      int           // 0: DefaultMaxFollowers
	ReadHeaderTimeout time.Duration // 0: DefaultReadHeaderTimeout
}

// minTokenLen is the shortest token NewServer accepts: a guessable token on a port every local
// user can reach would hand them the world.
const minTokenLen = 16

// Server is the control API over HTTP. Create it with NewServer, then Listen (or mount Handler in
// a test), and Close it.
type Server struct {
	backend      Backend
	trace        *TraceHub
	tokenHash    [sha256.Size]byte
	maxBody      int64
	maxSnapshot  int64
	followers    chan struct{} // a slot per trace follower
	http         *http.Server
	done         chan struct{} // closed by Close: followers return
	closeOnce    sync.Once
	mu           sync.Mutex
	ln           net.Listener
	closedListen bool
}

// NewServer checks cfg and returns a server that does not listen yet.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("control: Config.Backend is nil")
	}
	if len(cfg.Token) < minTokenLen {
		return nil, fmt.Errorf("control: Config.Token has %d characters, want at least %d (use control.NewToken)", len(cfg.Token), minTokenLen)
	}
	s := &Server{
		backend:     cfg.Backend,
		trace:       cfg.Trace,
		tokenHash:   sha256.Sum256([]byte(cfg.Token)),
		maxBody:     orDefault(cfg.MaxBody, DefaultMaxBody),
		maxSnapshot: orDefault(cfg.MaxSnapshot, DefaultMaxSnapshot),
		followers:   make(chan struct{}, orDefault(cfg.MaxFollowers, DefaultMaxFollowers)),
		done:        make(chan struct{}),
	}
	if s.trace == nil {
		s.trace = NewTraceHub(0)
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: orDefault(cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		// A 64 MiB snapshot over loopback takes well under a second; these bound a stuck client.
		// GET /trace?follow=1 lifts both for its own connection.
		ReadTimeout:    2 * time.Minute,
		WriteTimeout:   10 * time.Minute, // a long step run (a year of rotations) answers only at its end
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
	}
	return s, nil
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// NewToken returns a fresh bearer token: 32 bytes from crypto/rand, hex-encoded. It is a secret,
// not part of the simulated world, so it does not come from the world's seed (which anyone who
// knows the seed could recompute).
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("control: draw a token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Listen listens on addr, which must be a loopback IP and port ("127.0.0.1:0", "[::1]:8080"), and
// serves in the background until Close.
func (s *Server) Listen(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("control: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("control: refusing to listen on %q: the control API changes the served world and "+
			"listens on a loopback IP only (127.0.0.1:PORT or [::1]:PORT; a name such as localhost is not accepted)", addr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closedListen {
		return errors.New("control: Listen after Close")
	}
	if s.ln != nil {
		return fmt.Errorf("control: already listening on %s", s.ln.Addr())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	s.ln = ln
	go s.http.Serve(&limitListener{Listener: ln, slots: make(chan struct{}, MaxConns)}) // returns http.ErrServerClosed on Close
	return nil
}

// MaxConns bounds the control API's open connections: the API is for one CI job and its tools;
// a local process that opens more waits in the kernel's backlog rather than costing the server
// memory.
const MaxConns = 64

// limitListener accepts a connection only while fewer than cap(slots) are open.
type limitListener struct {
	net.Listener
	slots chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &slotConn{Conn: c, release: func() { <-l.slots }}, nil
}

// slotConn gives its slot back once, when closed.
type slotConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// Addr is the address Listen listens on, nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close stops listening, closes every connection and ends every trace stream. It may be called
// more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	s.mu.Lock()
	s.closedListen = true
	s.mu.Unlock()
	err := s.http.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Handler is the API without a listener, for httptest and for mounting under another server.
// It does no loopback check: whoever mounts it decides who reaches it.
func (s *Server) Handler() http.Handler { return s }

// ServeHTTP authenticates the request and dispatches it to its route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var match *route
	var allow []string
	for i := range routes {
		rt := &routes[i]
		if rt.Path != r.URL.Path {
			continue
		}
		allow = append(allow, rt.Method)
		if rt.Method == r.Method {
			match = rt
		}
	}
	if match != nil && match.Public {
		match.handle(s, w, r)
		return
	}
	// Authenticate before saying whether the route exists.
	if msg := s.authenticate(r); msg != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gmsasim"`)
		writeError(w, http.StatusUnauthorized, msg)
		return
	}
	switch {
	case len(allow) == 0:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s; GET /openapi.yaml lists them", r.URL.Path))
	case match == nil:
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: method not allowed (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
	default:
		match.handle(s, w, r)
	}
}

// authenticate returns "" for a request with the right bearer token, else why it is refused.
// Both sides are hashed first so that the comparison takes the same time whatever the length of
// what was sent.
func (s *Server) authenticate(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "missing Authorization: Bearer TOKEN (the token is in STATE-DIR/control.token)"
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "the Authorization header is not Bearer TOKEN"
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	if subtle.ConstantTimeCompare(got[:], s.tokenHash[:]) != 1 {
		return "wrong bearer token"
	}
	return ""
}

// errorBody is every error answer: {"error": "..."}; a syntax error adds where.
type errorBody struct {
	Error string `json:"error"`
	Line  int    `json:"line,omitempty"` // *SyntaxError only
	Msg   string `json:"msg,omitempty"`  // *SyntaxError only
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, fmt.Appendf(nil, `{"error":%q}`, "encode the answer: "+err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeBackendError answers a Backend's error: a *SyntaxError is 400, an *Error has its status,
// anything else is 500.
func writeBackendError(w http.ResponseWriter, err error) {
	var se *SyntaxError
	var ce *Error
	switch {
	case errors.As(err, &se):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: se.Error(), Line: se.Line, Msg: se.Msg})
	case errors.As(err, &ce) && ce.Status >= 400 && ce.Status <= 599:
		writeError(w, ce.Status, ce.Message)
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// readBody reads at most limit bytes of the request body; past it the answer is 413 and ok false.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, ok bool) {
	tooBig := func() {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over the limit of %d bytes", limit))
	}
	if r.ContentLength > limit {
		tooBig()
		return nil, false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tooBig()
		} else {
			writeError(w, http.StatusBadRequest, "read the request body: "+err.Error())
		}
		return nil, false
	}
	return b, true
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "status"
}
