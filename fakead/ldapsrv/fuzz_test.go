package ldapsrv_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
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
	for _, s := range ntlmSeeds() {
		f.Add(s)
	}
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

// ntlmSeeds are NTLM binds as clients send them: Sicily discovery, negotiate (impacket's
// signingRequired NEGOTIATE_MESSAGE) and response (an AUTHENTICATE_MESSAGE to another challenge,
// so it fails as a wrong password does), each alone and in sequence, and GSS-SPNEGO with NTLM
// inside a negTokenInit and bare.
func ntlmSeeds() [][]byte {
	negotiate := unhexStr("4e544c4d5353500001000000358288e000000000000000000000000000000000")
	authenticate := unhexStr("4e544c4d53535000030000001800180040000000180018005800000000000000700000000a000a0070000000000000007a000000000000007a000000358288e0" +
		strings.Repeat("00", 48) + "57004500420031002400")
	pdu := func(id int64, auth *ber.Packet) []byte {
		env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
		op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 0, nil, "")
		op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, ""))
		op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "NTLM", ""))
		op.AppendChild(auth)
		env.AppendChild(op)
		return env.Bytes()
	}
	sicily := func(id int64, tag ber.Tag, payload []byte) []byte {
		return pdu(id, ber.NewString(ber.ClassContext, ber.TypePrimitive, tag, string(payload), ""))
	}
	spnego := func(id int64, creds []byte) []byte {
		sasl := ber.Encode(ber.ClassContext, ber.TypeConstructed, 3, nil, "")
		sasl.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, ldapsrv.MechGSSSPNEGO, ""))
		sasl.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(creds), ""))
		return pdu(id, sasl)
	}
	disc, neg, resp := sicily(1, 9, nil), sicily(2, 10, negotiate), sicily(3, 11, authenticate)
	ntlmOID := []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a}
	spnegoOID := []byte{0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}
	init := derTLV(0x60, spnegoOID, derTLV(0xa0, derTLV(0x30, derTLV(0xa0, derTLV(0x30, ntlmOID)), derTLV(0xa2, derTLV(0x04, negotiate)))))
	resp2 := derTLV(0xa1, derTLV(0x30, derTLV(0xa2, derTLV(0x04, authenticate)), derTLV(0xa3, derTLV(0x04, make([]byte, 16)))))
	return [][]byte{
		disc, neg, resp,
		bytes.Join([][]byte{disc, neg, resp}, nil),
		bytes.Join([][]byte{spnego(1, init), spnego(2, resp2)}, nil),
		bytes.Join([][]byte{spnego(1, negotiate), spnego(2, authenticate)}, nil),
	}
}

func unhexStr(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err) // generated seeds are valid hex
	}
	return b
}
