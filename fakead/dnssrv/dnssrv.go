// Package dnssrv is the DNS a domain's DCs register, served on loopback: the A records of every
// DC and the SRV records products use to find a DC and a KDC ([MS-ADTS] 6.3.2.3: the DC locator's
// names, RFC 2782), with the ports the simulated DCs really listen on. It answers for the world's
// domain only (anything else is REFUSED: it is not a resolver), over UDP and TCP, with
// github.com/miekg/dns.
//
// A stopped DC keeps its records, as in AD (Netlogon on a DC that is down deregisters nothing), so
// a product must fail over by itself. Divergence: no _kpasswd records (the simulated DCs run no
// kpasswd service: a record would send a password change to a port that ignores it), no GC
// records (no global catalog port), no site-specific names other than Default-First-Site-Name,
// no dynamic updates, no zone transfers.
package dnssrv

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/netutil"
)

// DC is one domain controller as the DNS publishes it. A zero port publishes no record for that
// service.
type DC struct {
	Name     string // "DC1"
	IP       net.IP // 127.0.0.1
	LDAP     int    // LDAP port (the _ldap records)
	KDC      int    // Kerberos port, TCP and UDP (the _kerberos records)
	PDC      bool   // holds the PDC emulator role (_ldap._tcp.pdc._msdcs)
	Priority uint16 // SRV priority (0 for all, as a DC registers)
	Weight   uint16 // SRV weight (100, as a DC registers)
}

// Zone is what the server answers: the domain's DNS name and its DCs (a single-domain forest:
// the _msdcs names live under the domain).
type Zone struct {
	Domain string // "contoso.com"
	DCs    []DC
	TTL    uint32 // 0: 600 s, Netlogon's default for its records
}

// Limits bound the server.
const (
	MaxTCPConns   = 64              // TCP connections at once; more wait in the kernel's backlog
	MaxTCPQueries = 32              // queries per TCP connection
	IOTimeout     = 5 * time.Second // read and write deadline of every TCP query
)

// Server serves one zone.
type Server struct {
	mu   sync.Mutex
	zone Zone
	recs map[string][]dns.RR // lower-case FQDN with trailing dot → records of every type

	udp, tcp *dns.Server
	udpAddr  net.Addr
	tcpAddr  net.Addr
}

// New returns a server for z; it listens nowhere until Listen.
func New(z Zone) (*Server, error) {
	s := &Server{}
	if err := s.SetZone(z); err != nil {
		return nil, err
	}
	return s, nil
}

// SetZone replaces the records (a DC's listener moved, a DC was added).
func (s *Server) SetZone(z Zone) error {
	recs, err := records(z)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.zone, s.recs = z, recs
	s.mu.Unlock()
	return nil
}

func records(z Zone) (map[string][]dns.RR, error) {
	dom := strings.ToLower(strings.TrimSuffix(z.Domain, "."))
	if dom == "" || !strings.Contains(dom, ".") {
		return nil, fmt.Errorf("dnssrv: domain %q is not a DNS name", z.Domain)
	}
	ttl := z.TTL
	if ttl == 0 {
		ttl = 600
	}
	out := map[string][]dns.RR{}
	add := func(rr dns.RR) {
		n := strings.ToLower(rr.Header().Name)
		out[n] = append(out[n], rr)
	}
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: dns.Fqdn(name), Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	srv := func(name, target string, port int, dc DC) {
		w := dc.Weight
		if w == 0 {
			w = 100
		}
		add(&dns.SRV{Hdr: hdr(name, dns.TypeSRV), Priority: dc.Priority, Weight: w, Port: uint16(port), Target: dns.Fqdn(target)})
	}
	const site = "Default-First-Site-Name"
	for _, dc := range z.DCs {
		if dc.Name == "" || dc.IP == nil {
			return nil, errors.New("dnssrv: a DC needs a name and an IP address")
		}
		host := strings.ToLower(dc.Name) + "." + dom
		if ip4 := dc.IP.To4(); ip4 != nil {
			add(&dns.A{Hdr: hdr(host, dns.TypeA), A: ip4})
			add(&dns.A{Hdr: hdr(dom, dns.TypeA), A: ip4}) // the domain name resolves to its DCs
		} else {
			add(&dns.AAAA{Hdr: hdr(host, dns.TypeAAAA), AAAA: dc.IP})
			add(&dns.AAAA{Hdr: hdr(dom, dns.TypeAAAA), AAAA: dc.IP})
		}
		if dc.LDAP > 0 {
			for _, n := range []string{
				"_ldap._tcp." + dom,
				"_ldap._tcp.dc._msdcs." + dom,
				"_ldap._tcp." + site + "._sites." + dom,
				"_ldap._tcp." + site + "._sites.dc._msdcs." + dom,
			} {
				srv(n, host, dc.LDAP, dc)
			}
			if dc.PDC {
				srv("_ldap._tcp.pdc._msdcs."+dom, host, dc.LDAP, dc)
			}
		}
		if dc.KDC > 0 {
			for _, n := range []string{
				"_kerberos._tcp." + dom,
				"_kerberos._udp." + dom,
				"_kerberos._tcp.dc._msdcs." + dom,
				"_kerberos._tcp." + site + "._sites." + dom,
				"_kerberos._tcp." + site + "._sites.dc._msdcs." + dom,
			} {
				srv(n, host, dc.KDC, dc)
			}
		}
	}
	// Start of authority, so that resolvers treat the zone as authoritative.
	first := "dc1." + dom
	if len(z.DCs) > 0 {
		first = strings.ToLower(z.DCs[0].Name) + "." + dom
	}
	add(&dns.SOA{Hdr: hdr(dom, dns.TypeSOA), Ns: dns.Fqdn(first), Mbox: dns.Fqdn("hostmaster." + dom),
		Serial: 1, Refresh: 900, Retry: 600, Expire: 86400, Minttl: 3600})
	for _, dc := range z.DCs {
		add(&dns.NS{Hdr: hdr(dom, dns.TypeNS), Ns: dns.Fqdn(strings.ToLower(dc.Name) + "." + dom)})
	}
	for _, rrs := range out {
		sort.SliceStable(rrs, func(i, j int) bool { return rrs[i].String() < rrs[j].String() })
	}
	return out, nil
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 {
		m.SetRcode(req, dns.RcodeNotImplemented)
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	s.mu.Lock()
	dom := dns.Fqdn(strings.ToLower(s.zone.Domain))
	recs, known := s.recs[name]
	var soa dns.RR
	for _, rr := range s.recs[dom] {
		if rr.Header().Rrtype == dns.TypeSOA {
			soa = rr
		}
	}
	s.mu.Unlock()
	switch {
	case q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY:
		m.SetRcode(req, dns.RcodeRefused)
	case !dns.IsSubDomain(dom, name):
		// Not ours: this is not a resolver (no recursion, no amplification through it).
		m.Authoritative = false
		m.SetRcode(req, dns.RcodeRefused)
	case !known:
		m.SetRcode(req, dns.RcodeNameError)
		if soa != nil {
			m.Ns = append(m.Ns, soa)
		}
	default:
		for _, rr := range recs {
			if q.Qtype == dns.TypeANY || rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		if len(m.Answer) == 0 && soa != nil {
			m.Ns = append(m.Ns, soa) // NODATA
		}
		// Additional section: the addresses of the SRV targets, as AD's DNS sends them.
		for _, rr := range m.Answer {
			if srv, ok := rr.(*dns.SRV); ok {
				s.mu.Lock()
				for _, a := range s.recs[strings.ToLower(srv.Target)] {
					if t := a.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
						m.Extra = append(m.Extra, a)
					}
				}
				s.mu.Unlock()
			}
		}
	}
	m.Truncate(udpSize(w, req))
	_ = w.WriteMsg(m)
}

// udpSize is the largest answer the client takes: 512 over UDP unless its EDNS0 says more (the
// answer is then truncated with TC set, and the client asks again over TCP); 65535 over TCP.
func udpSize(w dns.ResponseWriter, req *dns.Msg) int {
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		return dns.MaxMsgSize
	}
	if o := req.IsEdns0(); o != nil {
		return int(max(o.UDPSize(), dns.MinMsgSize))
	}
	return dns.MinMsgSize
}

// Listen serves on addr ("127.0.0.1:0") over UDP and TCP, the same port for both.
func (s *Server) Listen(addr string) error {
	tl, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("dnssrv: %w", err)
	}
	pc, err := net.ListenPacket("udp", tl.Addr().String())
	if err != nil {
		tl.Close()
		return fmt.Errorf("dnssrv: %w", err)
	}
	s.udpAddr, s.tcpAddr = pc.LocalAddr(), tl.Addr()
	mk := func() *dns.Server {
		return &dns.Server{Handler: s, ReadTimeout: IOTimeout, WriteTimeout: IOTimeout, MaxTCPQueries: MaxTCPQueries,
			IdleTimeout: func() time.Duration { return IOTimeout }}
	}
	s.udp, s.tcp = mk(), mk()
	s.udp.PacketConn = pc
	s.tcp.Listener = netutil.LimitListener(tl, MaxTCPConns)
	started := make(chan struct{}, 2)
	s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go func() { _ = s.udp.ActivateAndServe() }()
	go func() { _ = s.tcp.ActivateAndServe() }()
	<-started
	<-started
	return nil
}

// Addr is the address the server listens on (UDP and TCP), nil before Listen.
func (s *Server) Addr() net.Addr { return s.udpAddr }

// Close stops both listeners.
func (s *Server) Close() error {
	var errs []error
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		if srv != nil {
			errs = append(errs, srv.Shutdown())
		}
	}
	return errors.Join(errs...)
}
