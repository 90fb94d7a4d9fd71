package ldapsrv_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"reflect"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// adDefaultQueryPolicy is lDAPAdminLimits of CN=Default Query Policy as dumped from a real DC.
var adDefaultQueryPolicy = []string{
	"MaxValRange=1500", "MaxReceiveBuffer=10485760", "MaxDatagramRecv=4096", "MaxPoolThreads=4",
	"MaxResultSetSize=262144", "MaxTempTableSize=10000", "MaxQueryDuration=120", "MaxPageSize=1000",
	"MaxNotificationPerConn=5", "MaxActiveQueries=20", "MaxConnIdleTime=900", "InitRecvTimeout=120",
	"MaxConnections=5000",
}

func TestParseQueryPolicy(t *testing.T) {
	got, err := ldapsrv.ParseQueryPolicy(adDefaultQueryPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if want := ldapsrv.DefaultLimits(); !reflect.DeepEqual(got, want) {
		t.Fatalf("a DC's own policy:\n got %+v\nwant %+v", got, want)
	}
	if d := ldapsrv.DefaultLimits(); d.MaxConnIdleTime != 900*time.Second || d.MaxPageSize != 1000 ||
		d.MaxReceiveBuffer != 10485760 || d.MaxResultSetSize != 262144 || d.MaxConnections != 5000 {
		t.Fatalf("DefaultLimits are not AD's: %+v", d)
	}
	got, err = ldapsrv.ParseQueryPolicy([]string{"maxpagesize=5", "MaxQueryDuration = 7", "ThreadMemoryLimit=1", "MaxBatchReturnMessages=x"})
	if err != nil {
		t.Fatal(err)
	}
	if got.MaxPageSize != 5 || got.MaxQueryDuration != 7*time.Second || got.MaxConnIdleTime != 900*time.Second {
		t.Fatalf("overrides not applied over the defaults: %+v", got)
	}
	for _, bad := range []string{"MaxPageSize=lots", "MaxPageSize=-1", "MaxConnIdleTime=99999999999", "MaxPageSize"} {
		_, err := ldapsrv.ParseQueryPolicy([]string{"MaxValRange=1500", bad})
		var qe *ldapsrv.QueryPolicyError
		if !errors.As(err, &qe) || qe.Value != bad {
			t.Fatalf("%q: err = %v, want a QueryPolicyError naming it", bad, err)
		}
	}
}

// failBound only turns a hang into a failure; no assertion depends on how fast the server is.
const failBound = 10 * time.Second

// wantClosedBy reads c until the server closes it; anything read first is returned. A timeout
// (the failure bound) fails the test.
func wantClosedBy(t *testing.T, c net.Conn, what string) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(failBound))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: the server did not close the connection within %v", what, failBound)
	}
	return b
}

func dialRaw(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends one PDU and reads until its done message (tag 5, or any LDAPResult message).
func roundTrip(t *testing.T, c net.Conn, pdu []byte) *ber.Packet {
	t.Helper()
	c.SetDeadline(time.Now().Add(failBound))
	if _, err := c.Write(pdu); err != nil {
		t.Fatal(err)
	}
	return readResponse(t, c)
}

// readResponse reads c until a message other than a search entry (a done message or any result).
func readResponse(t *testing.T, c net.Conn) *ber.Packet {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(failBound))
	for {
		p, err := ber.ReadPacket(c)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		if len(p.Children) > 1 && p.Children[1].Tag != 4 { // not a search entry
			return p
		}
	}
}

func TestIdleAndFirstRequestTimeouts(t *testing.T) {
	const short = 200 * time.Millisecond
	// Each case sets only the limit under test short, so only that one can close the connection.
	only := func(lim ldapsrv.Limits) *fixture { return start(t, newMemBackend(), ldapsrv.Options{Limits: lim}) }

	t.Run("idle after a request", func(t *testing.T) {
		f := only(ldapsrv.Limits{MaxConnIdleTime: short})
		c := dialRaw(t, f.srv.LDAPAddr())
		roundTrip(t, c, searchPDU(1, ""))
		p, err := ber.ReadPacket(bytes.NewReader(wantClosedBy(t, c, "idle")))
		if err != nil {
			t.Fatalf("an idle close sent no Notice of Disconnection: %v", err)
		}
		wantNotice(t, []*ber.Packet{p}, fakead.Unavailable)
		f.served(t)
	})
	t.Run("never sends", func(t *testing.T) {
		f := only(ldapsrv.Limits{InitRecvTimeout: short})
		wantClosedBy(t, dialRaw(t, f.srv.LDAPAddr()), "silent client")
		f.served(t)
	})
	t.Run("half a first request", func(t *testing.T) {
		f := only(ldapsrv.Limits{InitRecvTimeout: short})
		c := dialRaw(t, f.srv.LDAPAddr())
		c.Write(searchPDU(1, "")[:5])
		wantClosedBy(t, c, "half a request")
	})
	t.Run("LDAPS handshake never started", func(t *testing.T) {
		f := only(ldapsrv.Limits{TLSHandshakeTimeout: short})
		wantClosedBy(t, dialRaw(t, f.srv.LDAPSAddr()), "LDAPS without ClientHello")
		if err := f.dialTLS(t, "localhost").Bind(adminDN, adminPW); err != nil {
			t.Fatalf("LDAPS client after a mute one: %v", err)
		}
	})
	t.Run("StartTLS handshake never started", func(t *testing.T) {
		f := only(ldapsrv.Limits{TLSHandshakeTimeout: short})
		c := dialRaw(t, f.srv.LDAPAddr())
		startTLS := hexPDU("30 1d 02 01 01 77 18 80 16 31 2e 33 2e 36 2e 31 2e 34 2e 31 2e 31 34 36 36 2e 32 30 30 33 37")
		if _, _, code, diag := resultOf(t, roundTrip(t, c, startTLS)); code != 0 {
			t.Fatalf("StartTLS answered %d %s", code, diag)
		}
		wantClosedBy(t, c, "StartTLS without ClientHello")
	})
	t.Run("busy longer than idle is not idle", func(t *testing.T) {
		lim := ldapsrv.Limits{MaxConnIdleTime: short, InitRecvTimeout: short}
		g := start(t, &slowBackend{Backend: newMemBackend(), delay: 3 * short}, ldapsrv.Options{Limits: lim})
		c := dialRaw(t, g.srv.LDAPAddr())
		if _, tag, code, _ := resultOf(t, roundTrip(t, c, searchPDU(1, ""))); tag != 5 || code != 0 {
			t.Fatalf("slow search answered tag %d code %d", tag, code)
		}
	})
}

// gateBackend holds every search until release is closed, saying so on entered.
type gateBackend struct {
	ldapsrv.Backend
	entered chan struct{}
	release chan struct{}
}

func (g *gateBackend) Search(c fakead.Caller, req *fakead.SearchRequest) ([]fakead.SearchEntry, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.Backend.Search(c, req)
}

// slowBackend takes delay over every search: a stand-in for a long query.
type slowBackend struct {
	ldapsrv.Backend
	delay time.Duration
}

func (s *slowBackend) Search(c fakead.Caller, req *fakead.SearchRequest) ([]fakead.SearchEntry, error) {
	time.Sleep(s.delay)
	return s.Backend.Search(c, req)
}

// TestMaxConnections: at MaxConnections a new connection closes the longest-idle one (with a
// Notice of Disconnection) and is served, as a DC does (KB 315071); only when every connection is
// busy is the newcomer refused (busy).
func TestMaxConnections(t *testing.T) {
	f := start(t, newMemBackend(), ldapsrv.Options{Limits: ldapsrv.Limits{MaxConnections: 2}})
	idle := dialRaw(t, f.srv.LDAPAddr())
	roundTrip(t, idle, searchPDU(1, ""))
	a := f.dial(t)
	if err := a.Bind(adminDN, adminPW); err != nil {
		t.Fatal(err)
	}
	for i, addr := range []net.Addr{f.srv.LDAPAddr(), f.srv.LDAPSAddr()} {
		if addr == f.srv.LDAPAddr() {
			c := dialRaw(t, addr)
			if _, tag, code, _ := resultOf(t, roundTrip(t, c, searchPDU(1, ""))); tag != 5 || code != 0 {
				t.Fatalf("newcomer at MaxConnections: tag %d code %d, want served", tag, code)
			}
			p, err := ber.ReadPacket(bytes.NewReader(wantClosedBy(t, idle, "longest-idle connection")))
			if err != nil {
				t.Fatalf("the evicted connection got no notice: %v", err)
			}
			wantNotice(t, []*ber.Packet{p}, fakead.Unavailable)
			// a speaks again, so c is now the longest idle.
			if _, err := a.WhoAmI(nil); err != nil {
				t.Fatalf("a after the first eviction: %v", err)
			}
			idle = c
			continue
		}
		if err := f.dialTLS(t, "localhost").Bind(adminDN, adminPW); err != nil {
			t.Fatalf("LDAPS newcomer %d at MaxConnections: %v", i, err)
		}
		wantClosedBy(t, idle, "longest-idle connection")
	}
	if who, err := a.WhoAmI(nil); err != nil || who.AuthzID != `u:CONTOSO\Administrator` {
		t.Fatalf("established client after the evictions: %+v, %v", who, err)
	}

	// Every connection busy (a search held in the backend on each): the newcomer is refused.
	gate := &gateBackend{Backend: newMemBackend(), entered: make(chan struct{}, 2), release: make(chan struct{})}
	g := start(t, gate, ldapsrv.Options{Limits: ldapsrv.Limits{MaxConnections: 2}})
	var busy []net.Conn
	for i := range 2 {
		c := dialRaw(t, g.srv.LDAPAddr())
		c.Write(searchPDU(int64(i+1), ""))
		busy = append(busy, c)
	}
	for range 2 {
		select {
		case <-gate.entered:
		case <-time.After(failBound):
			t.Fatal("the searches never reached the backend")
		}
	}
	c := dialRaw(t, g.srv.LDAPAddr())
	c.Write(searchPDU(1, ""))
	p, err := ber.ReadPacket(bytes.NewReader(wantClosedBy(t, c, "connection over MaxConnections")))
	if err != nil {
		t.Fatal("refused LDAP connection: no notice")
	}
	wantNotice(t, []*ber.Packet{p}, fakead.Busy)
	close(gate.release)
	for _, b := range busy {
		if _, tag, code, _ := resultOf(t, readResponse(t, b)); tag != 5 || code != 0 {
			t.Fatalf("busy connection after a refusal: tag %d code %d", tag, code)
		}
	}

	// Idle connections dropped by MaxConnIdleTime make room for new clients.
	h := start(t, newMemBackend(), ldapsrv.Options{Limits: ldapsrv.Limits{MaxConnections: 2, MaxConnIdleTime: 200 * time.Millisecond}})
	idles := []net.Conn{dialRaw(t, h.srv.LDAPAddr()), dialRaw(t, h.srv.LDAPAddr())}
	for i, c := range idles {
		roundTrip(t, c, searchPDU(int64(i+1), ""))
	}
	for _, c := range idles {
		wantClosedBy(t, c, "idle")
	}
	waitConns(t, h.srv, 0) // the server releases a connection just after closing its socket
	h.served(t)
}
