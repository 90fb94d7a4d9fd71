package ldapsrv_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// TestHugeDNDoesNotStallOthers: one connection sends searches whose base DN has 50,000 RDNs
// (250 KB each, pipelined); another connection's requests keep being answered meanwhile.
//
// The latency bound is a failure bound for a server that stalls (seconds), not a speed claim:
// the measured figures are logged; speed belongs in benchmarks.
//
// It runs against the in-memory backend (this package's own work on such a request: framing,
// normalisation, decoding) and against the live model, which serialises every connection through
// the world, so that its DN handling (refused past fakead.MaxDNRDNs, bestMatch bounded by the
// directory's depth) must not stall the others either.
func TestHugeDNDoesNotStallOthers(t *testing.T) {
	t.Run("memory", func(t *testing.T) { hugeDNDoesNotStallOthers(t, startMem(t)) })
	t.Run("live-model", func(t *testing.T) { hugeDNDoesNotStallOthers(t, start(t, FuzzBackend(t), ldapsrv.Options{})) })
}

func hugeDNDoesNotStallOthers(t *testing.T, f *fixture) {
	const rdns, requests = 50_000, 20
	base := strings.Repeat("CN=x,", rdns) + baseDN
	var pdus bytes.Buffer
	for i := range requests {
		pdus.Write(searchPDU(int64(i+1), base))
	}

	big := dialRaw(t, f.srv.LDAPAddr())
	// Bound, so the model parses the DN rather than refusing an anonymous search first.
	if _, _, code, diag := resultOf(t, roundTrip(t, big, simpleBindPDU(1000, `CONTOSO\Administrator`, adminPW))); code != 0 {
		t.Fatalf("bind: %d %s", code, diag)
	}
	answered := make(chan error, 1)
	t0 := time.Now()
	go func() {
		big.SetDeadline(time.Now().Add(failBound))
		if _, err := big.Write(pdus.Bytes()); err != nil {
			answered <- err
			return
		}
		for range requests {
			p, err := ber.ReadPacket(big)
			if err != nil {
				answered <- err
				return
			}
			if len(p.Children) < 2 || p.Children[1].Tag != 5 || len(p.Children[1].Children) < 1 {
				answered <- fmt.Errorf("not a SearchResultDone: %s", ber.DecodeString(p.Bytes()))
				return
			}
			// No such base can exist.
			if code, _ := ber.ParseInt64(p.Children[1].Children[0].Data.Bytes()); code == int64(fakead.Success) {
				answered <- fmt.Errorf("huge base DN answered success")
				return
			}
		}
		answered <- nil
	}()

	other := f.dial(t)
	if err := other.Bind(adminDN, adminPW); err != nil {
		t.Fatal(err)
	}
	var worst time.Duration
	rounds := 0
	for done := false; !done || rounds < 20; rounds++ {
		r0 := time.Now()
		if _, err := other.WhoAmI(nil); err != nil {
			t.Fatalf("other connection's WhoAmI while the huge DNs are handled: %v", err)
		}
		worst = max(worst, time.Since(r0))
		select {
		case err := <-answered:
			if err != nil {
				t.Fatalf("huge-DN connection: %v", err)
			}
			t.Logf("%d searches with a %d-RDN base DN (%d KB each) answered in %v", requests, rdns, len(base)>>10, time.Since(t0))
			done = true
		default:
		}
		if rounds > 100_000 {
			t.Fatal("huge-DN searches never answered")
		}
	}
	t.Logf("other connection: %d WhoAmI round trips, the slowest %v", rounds, worst)
	if worst > time.Second {
		t.Fatalf("another connection waited %v for an answer while huge DNs were handled", worst)
	}
}

// simpleBindPDU encodes a simple bind as a client would.
func simpleBindPDU(id int64, name, password string) []byte {
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 0, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(3), ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, ""))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, password, ""))
	msg.AppendChild(op)
	return msg.Bytes()
}
