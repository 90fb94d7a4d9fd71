package ldapsrv

import (
	"sync"
	"sync/atomic"

	"github.com/gmsasim/gmsasim/fakead"
)

// connState is one client connection's state. It lives on the framedConn (the library has no
// disconnect hook, so a map keyed by connection would grow forever) and survives StartTLS.
//
// The library runs each request in its own goroutine. connState serialises them in arrival order:
// the framing layer enqueues each message ID as it hands the PDU on, and a handler runs only when
// its ID is at the head and no other handler runs. Once reading has stopped the order no longer
// matters and the remaining handlers run one at a time in any order, so a request whose handler
// never arrives cannot wedge the connection.
type connState struct {
	srv *Server

	mu          sync.Mutex
	cond        sync.Cond
	queue       []int                // message IDs read, not yet started
	running     bool                 // a handler is running
	readerDone  bool                 // no more requests will be read
	outstanding int                  // requests read whose handler has not returned (MaxOutstanding)
	inflight    map[int]*atomic.Bool // started or waiting handlers' cancel flags, for Abandon
	abandoned   map[int]bool         // abandoned before their handler arrived
	closeOnce   sync.Once

	// Guarded by the turn (only the running handler touches them).
	caller     fakead.Caller // bound identity; Encrypted always mirrors the connection
	encrypted  bool          // TLS (LDAPS or StartTLS)
	sasl       *saslBind     // a SASL bind in progress (saslBindInProgress answered)
	layer      securityLayer // the SASL security layer installed, if any
	ntlm       *ntlmBind     // an NTLM handshake in progress (challenge sent)
	nextCookie uint64

	// Paged-search state: touched by the running handler and, once, by the connection's close.
	pagesMu     sync.Mutex
	pages       map[string]*pagedSearch
	pageOrder   []string
	pageBytes   int  // result-set cost of every kept paged search (MaxResultSetSize)
	pagesClosed bool // the connection is closed: nothing more is kept
	fc          *framedConn
}

func newConnState(srv *Server, encrypted bool) *connState {
	st := &connState{
		srv:       srv,
		inflight:  map[int]*atomic.Bool{},
		abandoned: map[int]bool{},
		encrypted: encrypted,
		caller:    fakead.Caller{Encrypted: encrypted},
		pages:     map[string]*pagedSearch{},
	}
	st.cond.L = &st.mu
	return st
}

func (st *connState) enqueue(id int) {
	st.mu.Lock()
	st.queue = append(st.queue, id)
	st.mu.Unlock()
}

// requestRead counts a request handed to the library: its handler will call requestDone.
func (st *connState) requestRead() {
	st.mu.Lock()
	st.outstanding++
	n := int64(st.outstanding)
	st.mu.Unlock()
	hw := &st.srv.outstandingHW
	for old := hw.Load(); n > old && !hw.CompareAndSwap(old, n); old = hw.Load() {
	}
}

// requestDone is called when a handler returns: its responses are with the writer.
func (st *connState) requestDone() {
	st.mu.Lock()
	st.outstanding--
	if st.outstanding == 0 {
		st.fc.touch() // MaxConnIdleTime counts from the last answer
	}
	st.cond.Broadcast()
	st.mu.Unlock()
}

// waitRoom is the connection's backpressure: before reading another request it waits until
// fewer than MaxOutstanding are unanswered. Handlers answer in order through one writer, so when
// the client does not read, the writer blocks, then the handlers, then the reader here: memory
// stays bounded by MaxOutstanding requests, and WriteTimeout ends the wait. It fails once the
// connection is aborted or killed.
func (st *connState) waitRoom() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	for st.outstanding >= st.srv.lim.MaxOutstanding && !st.fc.aborted.Load() {
		st.cond.Wait()
	}
	if st.fc.aborted.Load() {
		return errFraming
	}
	return nil
}

// wake re-checks every waiter (abort, kill, write failure).
func (st *connState) wake() {
	st.mu.Lock()
	st.cond.Broadcast()
	st.mu.Unlock()
}

// idle reports whether no request is outstanding.
func (st *connState) idle() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.outstanding == 0
}

func (st *connState) stopReading() {
	st.mu.Lock()
	st.readerDone = true
	st.cond.Broadcast()
	st.mu.Unlock()
}

// closed is called once the library has closed the connection.
func (st *connState) closed() {
	st.closeOnce.Do(func() {
		st.dropAllPages(true) // its bytes go back to the server's MaxPagedMemory
		st.stopReading()
		st.srv.release(st.fc)
	})
}

// register makes a request abandonable and returns its cancel flag.
//
// The library also abandons (m.Done) every running request when the client stops sending, which
// would drop the answers to requests a client sent before half-closing; only a real Abandon
// request cancels here.
func (st *connState) register(id int) *atomic.Bool {
	cancel := new(atomic.Bool)
	st.mu.Lock()
	st.inflight[id] = cancel
	st.mu.Unlock()
	return cancel
}

func (st *connState) unregister(id int, cancel *atomic.Bool) {
	st.mu.Lock()
	if st.inflight[id] == cancel {
		delete(st.inflight, id)
	}
	st.mu.Unlock()
}

// acquire waits for id's turn. It reports false if the request was abandoned meanwhile.
func (st *connState) acquire(id int) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	for st.running || !(st.readerDone || (len(st.queue) > 0 && st.queue[0] == id)) {
		st.cond.Wait()
	}
	for i, q := range st.queue {
		if q == id {
			st.queue = append(st.queue[:i], st.queue[i+1:]...)
			break
		}
	}
	st.running = true
	if st.abandoned[id] {
		delete(st.abandoned, id)
		return false
	}
	return true
}

func (st *connState) release() {
	st.mu.Lock()
	st.running = false
	st.cond.Broadcast()
	st.mu.Unlock()
}

// abandon signals the request with message ID target (RFC 4511 4.11: no response either way).
func (st *connState) abandon(target int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if cancel, ok := st.inflight[target]; ok {
		cancel.Store(true)
		return
	}
	for _, q := range st.queue {
		if q == target {
			st.abandoned[target] = true
			return
		}
	}
}

// currentCaller is the bound caller with the connection's encryption state: TLS, or a sealed SASL
// layer (a signed-only one does not count: msDS-ManagedPassword still answers 0000202D).
func (st *connState) currentCaller() fakead.Caller {
	c := st.caller
	c.Encrypted = st.encrypted || st.layer != nil && st.layer.encrypts() // a sealed layer encrypts too
	return c
}
