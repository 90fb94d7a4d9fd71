package ldapsrv

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits are the server's administrative limits: AD's LDAP policies (the lDAPAdminLimits of
// CN=Default Query Policy,CN=Query-Policies,CN=Directory Service,CN=Windows NT,CN=Services,
// CN=Configuration,..., [MS-ADTS] 3.1.1.3.4.6) and a few of our own. A zero field takes its
// default from DefaultLimits, so Options{} and Limits{MaxPageSize: 5} both mean "AD's defaults
// otherwise".
type Limits struct {
	// MaxConnIdleTime closes a connection with no request outstanding and no traffic for that long
	// (AD: 900 s). Nothing is sent first, as on a DC.
	MaxConnIdleTime time.Duration
	// InitRecvTimeout closes a new connection that has not sent one complete request within it
	// (AD: 120 s).
	InitRecvTimeout time.Duration
	// MaxConnections bounds open connections, LDAP and LDAPS together (AD: 5000). One more is
	// accepted and closed at once.
	MaxConnections int
	// MaxReceiveBuffer bounds one request PDU in bytes (AD: 10485760); a larger one closes the
	// connection with a Notice of Disconnection. Values above MaxReceiveBufferLimit are capped.
	MaxReceiveBuffer int
	// MaxPageSize bounds the entries of one page of a paged search (AD: 1000).
	MaxPageSize int
	// MaxQueryDuration bounds one search (per page when paged) (AD: 120 s): past it the search
	// ends with timeLimitExceeded and the entries sent so far.
	MaxQueryDuration time.Duration
	// MaxResultSetSize bounds, in bytes, the paged-search result sets a connection keeps between
	// pages (AD: 262144), counted as a DC counts them: 4 bytes (a DNT) per remaining entry. The
	// oldest states go first; a search whose remainder alone is larger fails with
	// adminLimitExceeded.
	MaxResultSetSize int
	// MaxPagedMemory bounds the bytes of paged-search state (the projected entries this server
	// keeps between pages) across all connections (ours: 256 MiB); past it a connection's oldest
	// states go, and a remainder that still does not fit fails with adminLimitExceeded.
	MaxPagedMemory int
	// MaxResultSetsPerConn bounds the paged searches a connection keeps (AD: 10); the oldest goes.
	MaxResultSetsPerConn int

	// Parsed from a query policy and kept for callers; not enforced here.
	MaxValRange, MaxDatagramRecv, MaxPoolThreads, MaxTempTableSize, MaxNotificationPerConn, MaxActiveQueries int

	// Ours, not AD's.

	// MaxOutstanding bounds the requests of one connection read but not yet answered: the server
	// stops reading from the connection until answers are written (default 64).
	MaxOutstanding int
	// TLSHandshakeTimeout bounds an LDAPS or StartTLS handshake (default 30 s).
	TLSHandshakeTimeout time.Duration
	// WriteTimeout closes a connection whose client has not taken a response for that long: a
	// client that sends and never reads cannot make answers queue forever (default 120 s).
	WriteTimeout time.Duration
}

// MaxReceiveBufferLimit is the largest request PDU the server can take: the library parses at
// most three length octets safely.
//
// Divergence: AD accepts MaxReceiveBuffer up to 20971520; larger settings are capped here.
const MaxReceiveBufferLimit = 1<<24 - 64

// DefaultLimits are a Windows DC's defaults (the lDAPAdminLimits of a fresh forest's Default
// Query Policy, read from a real DC) plus ours.
func DefaultLimits() Limits {
	return Limits{
		MaxConnIdleTime:        900 * time.Second,
		InitRecvTimeout:        120 * time.Second,
		MaxConnections:         5000,
		MaxReceiveBuffer:       10485760,
		MaxPageSize:            1000,
		MaxQueryDuration:       120 * time.Second,
		MaxResultSetSize:       262144,
		MaxResultSetsPerConn:   10, // not in the policy object; the DC's built-in default
		MaxValRange:            1500,
		MaxDatagramRecv:        4096,
		MaxPoolThreads:         4,
		MaxTempTableSize:       10000,
		MaxNotificationPerConn: 5,
		MaxActiveQueries:       20,

		MaxOutstanding:      64,
		MaxPagedMemory:      256 << 20,
		TLSHandshakeTimeout: 30 * time.Second,
		WriteTimeout:        120 * time.Second,
	}
}

// withDefaults fills every zero (or negative) field from DefaultLimits and caps MaxReceiveBuffer.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	ints := []struct{ v, def *int }{
		{&l.MaxConnections, &d.MaxConnections}, {&l.MaxReceiveBuffer, &d.MaxReceiveBuffer},
		{&l.MaxPageSize, &d.MaxPageSize}, {&l.MaxResultSetSize, &d.MaxResultSetSize},
		{&l.MaxResultSetsPerConn, &d.MaxResultSetsPerConn}, {&l.MaxValRange, &d.MaxValRange},
		{&l.MaxDatagramRecv, &d.MaxDatagramRecv}, {&l.MaxPoolThreads, &d.MaxPoolThreads},
		{&l.MaxTempTableSize, &d.MaxTempTableSize}, {&l.MaxNotificationPerConn, &d.MaxNotificationPerConn},
		{&l.MaxActiveQueries, &d.MaxActiveQueries}, {&l.MaxOutstanding, &d.MaxOutstanding},
		{&l.MaxPagedMemory, &d.MaxPagedMemory},
	}
	for _, f := range ints {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	durs := []struct{ v, def *time.Duration }{
		{&l.MaxConnIdleTime, &d.MaxConnIdleTime}, {&l.InitRecvTimeout, &d.InitRecvTimeout},
		{&l.MaxQueryDuration, &d.MaxQueryDuration}, {&l.TLSHandshakeTimeout, &d.TLSHandshakeTimeout},
		{&l.WriteTimeout, &d.WriteTimeout},
	}
	for _, f := range durs {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	l.MaxReceiveBuffer = min(l.MaxReceiveBuffer, MaxReceiveBufferLimit)
	return l
}

// QueryPolicyError is a lDAPAdminLimits value ParseQueryPolicy could not read.
type QueryPolicyError struct {
	Value string // the value as given, e.g. "MaxPageSize=lots"
	Err   error
}

func (e *QueryPolicyError) Error() string {
	return fmt.Sprintf("ldapsrv: lDAPAdminLimits value %q: %v", e.Value, e.Err)
}

func (e *QueryPolicyError) Unwrap() error { return e.Err }

// ParseQueryPolicy reads a queryPolicy object's lDAPAdminLimits values ("MaxPageSize=1000", one
// policy each) over DefaultLimits. Names are matched case-insensitively; names it does not know
// (MaxBatchReturnMessages, ThreadMemoryLimit, ...) are ignored. A value without "=" or whose
// number is not a non-negative decimal integer is an error naming it. Times are in seconds, as
// in AD. A policy set to 0 means its default, as a zero Limits field does.
func ParseQueryPolicy(values []string) (Limits, error) {
	l := DefaultLimits()
	secs := map[string]*time.Duration{
		"maxconnidletime": &l.MaxConnIdleTime, "initrecvtimeout": &l.InitRecvTimeout,
		"maxqueryduration": &l.MaxQueryDuration,
	}
	ints := map[string]*int{
		"maxconnections": &l.MaxConnections, "maxreceivebuffer": &l.MaxReceiveBuffer,
		"maxpagesize": &l.MaxPageSize, "maxresultsetsize": &l.MaxResultSetSize,
		"maxresultsetsperconn": &l.MaxResultSetsPerConn, "maxvalrange": &l.MaxValRange,
		"maxdatagramrecv": &l.MaxDatagramRecv, "maxpoolthreads": &l.MaxPoolThreads,
		"maxtemptablesize": &l.MaxTempTableSize, "maxnotificationperconn": &l.MaxNotificationPerConn,
		"maxactivequeries": &l.MaxActiveQueries,
	}
	for _, v := range values {
		name, num, ok := strings.Cut(v, "=")
		if !ok {
			return Limits{}, &QueryPolicyError{Value: v, Err: fmt.Errorf("not Name=Value")}
		}
		key := strings.ToLower(strings.TrimSpace(name))
		d, isDur := secs[key]
		p, isInt := ints[key]
		if !isDur && !isInt {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 32)
		if err != nil || n < 0 {
			return Limits{}, &QueryPolicyError{Value: v, Err: fmt.Errorf("%q is not a non-negative 32-bit integer", num)}
		}
		if isDur {
			*d = time.Duration(n) * time.Second
		} else {
			*p = int(n)
		}
	}
	return l.withDefaults(), nil
}
