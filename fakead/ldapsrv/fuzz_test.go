package ldapsrv_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// FuzzBackend makes the Backend FuzzRequest runs against. The in-memory test backend by default;
// the integrator plugs the live model in from another _test.go file of this package:
//
//	func init() { FuzzBackend = func(tb testing.TB) ldapsrv.Backend { return liveWorldBackend(tb) } }
var FuzzBackend = func(tb testing.TB) ldapsrv.Backend { return newMemBackend() }

// FuzzSecrets, set by FuzzBackend, are byte strings no answer may contain (keys no principal may
// read): FuzzRequest checks every byte the server sends against them.
var FuzzSecrets [][]byte

var (
	fuzzOnce sync.Once
	fuzzSrv  *fixture
)

// FuzzRequest sends raw bytes as one client's traffic through the framing layer and the handlers
// of a live server, then checks the server still serves a fresh client. Every input must end with
// the server answering and/or closing the connection: a hang fails (the read deadline is only the
// detector, not an assertion about speed). No answer may carry a secret (FuzzSecrets), whatever
// the request: the seeds bind as Administrator, so the fuzzer explores with full read rights.
func FuzzRequest(f *testing.F) {
	for _, h := range ldapsrv.CapturedGoLDAP {
		f.Add(unhexStr(h))
	}
	var all []byte
	for _, h := range ldapsrv.CapturedGoLDAP {
		all = append(all, unhexStr(h)...)
	}
	f.Add(all)
	f.Add([]byte("garbage"))
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzOnce.Do(func() {
			// One server for the whole fuzzing process: it must survive every input.
			fuzzSrv = startShared(t, FuzzBackend(t))
		})
		c, err := net.Dial("tcp", fuzzSrv.srv.LDAPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write(b)
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(clientTimeout))
		var answer bytes.Buffer
		if _, err := io.Copy(&answer, c); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("server neither answered nor closed the connection for input %x", b)
			}
		}
		for _, s := range FuzzSecrets {
			if len(s) >= 16 && bytes.Contains(answer.Bytes(), s) {
				t.Fatalf("the answer to input %x carries a secret key (%x)", b, s[:4])
			}
		}
		l, err := ldap.DialURL("ldap://" + fuzzSrv.srv.LDAPAddr().String())
		if err != nil {
			t.Fatalf("server gone after input %x: %v", b, err)
		}
		defer l.Close()
		l.SetTimeout(clientTimeout)
		if _, err := l.WhoAmI(nil); err != nil {
			t.Fatalf("server not answering after input %x: %v", b, err)
		}
	})
}

// startShared starts a server that outlives the test that started it (fuzzing reuses it).
func startShared(t testing.TB, b ldapsrv.Backend) *fixture {
	ca := testCA(t)
	cfg, err := ca.ServerTLSConfig("dc1.contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	srv := ldapsrv.New(b, ldapsrv.Options{TLS: cfg, Limits: ldapsrv.Limits{MaxReceiveBuffer: 1 << 20}})
	if err := srv.ListenLDAP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, ca: ca}
}

func unhexStr(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err) // generated seeds are valid hex
	}
	return b
}
