package dnssrv

import (
	"fmt"
	"net"
	"sort"
	"testing"

	"github.com/miekg/dns"
)

func threeDCs(t *testing.T) *Server {
	t.Helper()
	s, err := New(Zone{Domain: "contoso.com", DCs: []DC{
		{Name: "DC1", IP: net.IPv4(127, 0, 0, 1), LDAP: 3389, KDC: 3088, PDC: true},
		{Name: "DC2", IP: net.IPv4(127, 0, 0, 1), LDAP: 4389, KDC: 4088},
		{Name: "DC3", IP: net.IPv4(127, 0, 0, 1), LDAP: 5389, KDC: 5088},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ask(t *testing.T, s *Server, netw, name string, qt uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: netw}
	m := new(dns.Msg)
	m.SetQuestion(name, qt)
	r, _, err := c.Exchange(m, s.Addr().String())
	if err != nil {
		t.Fatalf("%s %s %s: %v", netw, name, dns.TypeToString[qt], err)
	}
	return r
}

func srvs(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if s, ok := rr.(*dns.SRV); ok {
			out = append(out, fmt.Sprintf("%s:%d", s.Target, s.Port))
		}
	}
	sort.Strings(out)
	return out
}

func TestLocatorRecords(t *testing.T) {
	s := threeDCs(t)
	for _, netw := range []string{"udp", "tcp"} {
		r := ask(t, s, netw, "_ldap._tcp.dc._msdcs.contoso.com.", dns.TypeSRV)
		if got := fmt.Sprint(srvs(r)); got != "[dc1.contoso.com.:3389 dc2.contoso.com.:4389 dc3.contoso.com.:5389]" {
			t.Errorf("%s: _ldap._tcp.dc._msdcs: %s", netw, got)
		}
		if !r.Authoritative || len(r.Extra) != 3 {
			t.Errorf("%s: authoritative %v, %d additional addresses (want 3)", netw, r.Authoritative, len(r.Extra))
		}
	}
	cases := map[string]string{
		"_ldap._tcp.pdc._msdcs.contoso.com.":                               "[dc1.contoso.com.:3389]",
		"_kerberos._udp.contoso.com.":                                      "[dc1.contoso.com.:3088 dc2.contoso.com.:4088 dc3.contoso.com.:5088]",
		"_kerberos._tcp.contoso.com.":                                      "[dc1.contoso.com.:3088 dc2.contoso.com.:4088 dc3.contoso.com.:5088]",
		"_ldap._tcp.Default-First-Site-Name._sites.dc._msdcs.CONTOSO.COM.": "[dc1.contoso.com.:3389 dc2.contoso.com.:4389 dc3.contoso.com.:5389]",
	}
	for name, want := range cases {
		if got := fmt.Sprint(srvs(ask(t, s, "udp", name, dns.TypeSRV))); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	a := ask(t, s, "udp", "DC2.contoso.com.", dns.TypeA)
	if len(a.Answer) != 1 || a.Answer[0].(*dns.A).A.String() != "127.0.0.1" {
		t.Errorf("A dc2.contoso.com: %v", a.Answer)
	}
}

func TestNotOursAndUnknown(t *testing.T) {
	s := threeDCs(t)
	if r := ask(t, s, "udp", "example.org.", dns.TypeA); r.Rcode != dns.RcodeRefused || len(r.Answer) != 0 {
		t.Errorf("a name outside the zone: rcode %s", dns.RcodeToString[r.Rcode])
	}
	if r := ask(t, s, "udp", "dc9.contoso.com.", dns.TypeA); r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 {
		t.Errorf("an unknown name: rcode %s, %d authority records", dns.RcodeToString[r.Rcode], len(r.Ns))
	}
	if r := ask(t, s, "udp", "dc1.contoso.com.", dns.TypeSRV); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Errorf("a known name, another type: rcode %s, %d answers", dns.RcodeToString[r.Rcode], len(r.Answer))
	}
	if r := ask(t, s, "udp", "_kpasswd._tcp.contoso.com.", dns.TypeSRV); r.Rcode != dns.RcodeNameError {
		t.Errorf("_kpasswd: rcode %s (no kpasswd service, no record)", dns.RcodeToString[r.Rcode])
	}
}

// Many DCs do not fit 512 bytes: UDP sets TC, TCP gets them all.
func TestTruncationAndTCP(t *testing.T) {
	var dcs []DC
	for i := 1; i <= 40; i++ {
		dcs = append(dcs, DC{Name: fmt.Sprintf("DC%d", i), IP: net.IPv4(127, 0, 0, 1), LDAP: 10000 + i})
	}
	s, err := New(Zone{Domain: "contoso.com", DCs: dcs})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := ask(t, s, "udp", "_ldap._tcp.contoso.com.", dns.TypeSRV)
	if !u.Truncated || len(u.Answer) >= 40 {
		t.Errorf("UDP: truncated %v with %d answers", u.Truncated, len(u.Answer))
	}
	if tc := ask(t, s, "tcp", "_ldap._tcp.contoso.com.", dns.TypeSRV); tc.Truncated || len(tc.Answer) != 40 {
		t.Errorf("TCP: truncated %v with %d answers, want 40", tc.Truncated, len(tc.Answer))
	}
}

func TestBadZone(t *testing.T) {
	if _, err := New(Zone{Domain: "localdomain"}); err == nil {
		t.Error("a one-label domain accepted")
	}
	if _, err := New(Zone{Domain: "contoso.com", DCs: []DC{{Name: "DC1"}}}); err == nil {
		t.Error("a DC without an address accepted")
	}
}
