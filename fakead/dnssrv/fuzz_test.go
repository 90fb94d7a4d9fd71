package dnssrv

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// fakeWriter is a UDP ResponseWriter that keeps the answer.
type fakeWriter struct {
	dns.ResponseWriter
	got *dns.Msg
}

func (w *fakeWriter) WriteMsg(m *dns.Msg) error { w.got = m; return nil }
func (w *fakeWriter) RemoteAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}
}

// Any query the DNS library decodes gets an answer that fits a UDP datagram and never names
// anything outside the zone.
func FuzzServeDNS(f *testing.F) {
	for _, q := range []struct {
		name string
		t    uint16
	}{{"_ldap._tcp.dc._msdcs.contoso.com.", dns.TypeSRV}, {"dc1.contoso.com.", dns.TypeA}, {"example.org.", dns.TypeANY}} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.t)
		b, _ := m.Pack()
		f.Add(b)
	}
	s, err := New(Zone{Domain: "contoso.com", DCs: []DC{{Name: "DC1", IP: net.IPv4(127, 0, 0, 1), LDAP: 389, KDC: 88, PDC: true}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(dns.Msg)
		if req.Unpack(b) != nil {
			return
		}
		w := &fakeWriter{}
		s.ServeDNS(w, req)
		if w.got == nil {
			t.Fatal("no answer")
		}
		out, err := w.got.Pack()
		if err != nil {
			t.Fatalf("answer does not pack: %v", err)
		}
		if limit := udpSize(w, req); len(out) > limit {
			t.Fatalf("answer of %d bytes over UDP, limit %d", len(out), limit)
		}
		for _, rr := range append(append([]dns.RR{}, w.got.Answer...), w.got.Extra...) {
			if !dns.IsSubDomain("contoso.com.", dns.CanonicalName(rr.Header().Name)) {
				t.Fatalf("answer names %s", rr.Header().Name)
			}
		}
	})
}
