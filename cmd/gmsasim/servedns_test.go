package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/miekg/dns"
)

// serve --dns: the DC locator's SRV records carry the ports the DC really listens on, over UDP
// and TCP, and the ready line names the DNS address at its end (issue 12, item 4).
func TestServeDNS(t *testing.T) {
	r := startServe(t, "--state-dir", filepath.Join(t.TempDir(), "state"), "--seed", "3", "--dns", "127.0.0.1:0")
	if r.Ready == "" {
		t.Fatalf("serve exited %d: %s", r.Code, r.Stderr.String())
	}
	m := regexp.MustCompile(`^ready ldap=127\.0\.0\.1:(\d+) ldaps=\S+ kdc=127\.0\.0\.1:(\d+) .* dc=DC1 dns=(\S+) ldap\.DC1=`).FindStringSubmatch(r.Ready)
	if m == nil {
		t.Fatalf("ready line %q: want the dns= field after dc= and before the per-DC fields", r.Ready)
	}
	ldapPort, _ := strconv.Atoi(m[1])
	kdcPort, _ := strconv.Atoi(m[2])
	for _, q := range []struct {
		name string
		port int
	}{{"_ldap._tcp.dc._msdcs.contoso.com.", ldapPort}, {"_ldap._tcp.pdc._msdcs.contoso.com.", ldapPort},
		{"_kerberos._tcp.contoso.com.", kdcPort}, {"_kerberos._udp.contoso.com.", kdcPort}} {
		for _, netw := range []string{"udp", "tcp"} {
			msg := new(dns.Msg)
			msg.SetQuestion(q.name, dns.TypeSRV)
			ans, _, err := (&dns.Client{Net: netw}).Exchange(msg, m[3])
			if err != nil {
				t.Fatalf("%s %s: %v", netw, q.name, err)
			}
			if len(ans.Answer) != 1 {
				t.Fatalf("%s %s: %d answers, want 1 (DC1)", netw, q.name, len(ans.Answer))
			}
			srv := ans.Answer[0].(*dns.SRV)
			if srv.Target != "dc1.contoso.com." || int(srv.Port) != q.port {
				t.Errorf("%s %s: %s:%d, want dc1.contoso.com.:%d", netw, q.name, srv.Target, srv.Port, q.port)
			}
		}
	}
}
