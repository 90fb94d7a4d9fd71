package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/go-ldap/ldap/v3"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/miekg/dns"
)

// The address rule: DC number i listens on the flag's host at port+i, on port 0 when the port is
// 0, nowhere when the flag is ""; a rule that would put two sockets on one port or run past 65535
// is refused.
func TestDCAddrs(t *testing.T) {
	names := []string{"DC1", "DC2", "DC3"}
	got, err := dcAddrs(names, "127.0.0.1:3389", "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []endpointAddrs{
		{DC: "DC1", LDAP: "127.0.0.1:3389", LDAPS: "127.0.0.1:0"},
		{DC: "DC2", LDAP: "127.0.0.1:3390", LDAPS: "127.0.0.1:0"},
		{DC: "DC3", LDAP: "127.0.0.1:3391", LDAPS: "127.0.0.1:0"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("dcAddrs = %+v, want %+v", got, want)
	}
	if got, err := dcAddrs(names, ":3389", "[::1]:3636", "localhost:88"); err != nil || got[2].LDAP != ":3391" || got[2].LDAPS != "[::1]:3638" || got[2].KDC != "localhost:90" {
		t.Errorf("dcAddrs on other hosts: %+v, %v", got, err)
	}
	for _, bad := range []struct{ ldap, ldaps, kdc, want string }{
		{"127.0.0.1:65534", "", "", "past 65535"},
		{"127.0.0.1:4000", "127.0.0.1:4002", "", "ldap of DC3 would both listen on 127.0.0.1:4002"},
		{"127.0.0.1:4000", "", "127.0.0.1:4001", "kdc of DC1 and ldap of DC2"},
		{"127.0.0.1", "", "", "--ldap"},
	} {
		if _, err := dcAddrs(names, bad.ldap, bad.ldaps, bad.kdc); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("dcAddrs(%q, %q, %q): %v, want an error with %q", bad.ldap, bad.ldaps, bad.kdc, err, bad.want)
		}
	}
}

// --dcs takes 1 to 64; anything else, and an address rule that cannot hold N DCs, is a usage
// error (exit 2) before any port opens.
func TestServeDCsRefused(t *testing.T) {
	for _, args := range [][]string{{"--dcs", "0"}, {"--dcs", "65"}, {"--dcs", "-1"},
		{"--dcs", "3", "--ldap", "127.0.0.1:65534"}, {"--dcs", "2", "--ldap", "127.0.0.1:4000", "--ldaps", "127.0.0.1:4001"}} {
		r := startServe(t, append([]string{"--state-dir", filepath.Join(t.TempDir(), "state"), "--seed", "1"}, args...)...)
		if r.Ready != "" {
			r.Stop()
			t.Errorf("serve %v: ready %q, want exit 2", args, r.Ready)
			continue
		}
		if r.Code != 2 || !strings.Contains(r.Stderr.String(), "gmsasim serve: ") {
			t.Errorf("serve %v: exit %d, stderr %q; want exit 2 with a message", args, r.Code, r.Stderr.String())
		}
	}
}

// readyFields parses a ready line into its key=value fields, in order.
func readyFields(t *testing.T, line string) (keys []string, vals map[string]string) {
	t.Helper()
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "ready" {
		t.Fatalf("ready line %q", line)
	}
	vals = map[string]string{}
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("ready line %q: field %q is not key=value", line, kv)
		}
		keys, vals[k] = append(keys, k), v
	}
	return keys, vals
}

// serve --dcs 3: every DC has its own LDAP, LDAPS and KDC ports, on the ready line (after the
// contract's fields, DC1's equal to the first ones), in endpoints.json, in krb5.conf (every KDC, in
// DC order) and in the DNS; each DC's socket answers from that DC (its rootDSE names it); every
// DC's computer account has its keytab and its password; and DC2's KDC issues tickets on its own.
func TestServeThreeDCs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	r := startServe(t, "--state-dir", dir, "--seed", "12", "--dcs", "3", "--dns", "127.0.0.1:0")
	if r.Ready == "" {
		t.Fatalf("serve exited %d: %s", r.Code, r.Stderr.String())
	}
	keys, v := readyFields(t, r.Ready)
	wantKeys := []string{"ldap", "ldaps", "kdc", "state-dir", "seed", "domain", "dc", "dns"}
	for _, dc := range []string{"DC1", "DC2", "DC3"} {
		wantKeys = append(wantKeys, "ldap."+dc, "ldaps."+dc, "kdc."+dc)
	}
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("ready line fields %v, want %v", keys, wantKeys)
	}
	for _, p := range []string{"ldap", "ldaps", "kdc"} {
		if v[p] != v[p+".DC1"] {
			t.Errorf("ready line: %s=%s but %s.DC1=%s", p, v[p], p, v[p+".DC1"])
		}
	}
	seen := map[string]string{}
	for _, k := range wantKeys[8:] {
		if !strings.HasPrefix(v[k], "127.0.0.1:") || seen[v[k]] != "" {
			t.Errorf("ready line: %s=%s (also %s), want its own loopback address", k, v[k], seen[v[k]])
		}
		seen[v[k]] = k
	}

	// endpoints.json
	fi, err := os.Lstat(filepath.Join(dir, "endpoints.json"))
	if err != nil || fi.Mode() != 0o644 {
		t.Fatalf("endpoints.json: %v (%v), want a regular file 0644", fi.Mode(), err)
	}
	var ep endpointsFile
	if b, err := os.ReadFile(filepath.Join(dir, "endpoints.json")); err != nil || json.Unmarshal(b, &ep) != nil {
		t.Fatalf("endpoints.json: %v %.200q", err, b)
	}
	want := endpointsFile{Domain: "contoso.com", Realm: "CONTOSO.COM", Seed: 12, DNS: v["dns"]}
	for i, dc := range []string{"DC1", "DC2", "DC3"} {
		want.DCs = append(want.DCs, endpointDC{Name: dc, DNSName: strings.ToLower(dc) + ".contoso.com", OS: sim.DefaultDCOS,
			PDC: i == 0, Running: true, LDAP: v["ldap."+dc], LDAPS: v["ldaps."+dc], KDC: v["kdc."+dc]})
	}
	if got, _ := json.Marshal(ep); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("endpoints.json:\n  %s\nwant\n  %s", got, must(json.Marshal(want)))
	}

	// krb5.conf names the three KDCs in DC order.
	cfg, err := config.Load(filepath.Join(dir, "krb5.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Realms) != 1 || !slices.Equal(cfg.Realms[0].KDC, []string{v["kdc.DC1"], v["kdc.DC2"], v["kdc.DC3"]}) {
		t.Errorf("krb5.conf realms %+v, want the KDCs of DC1, DC2, DC3 in order", cfg.Realms)
	}

	// Keytabs and passwords of every DC's computer account.
	ents, err := os.ReadDir(filepath.Join(dir, "keytabs"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
	}
	if want := []string{"DC1.keytab", "DC2.keytab", "DC3.keytab", "WEB1.keytab", "WEB2.keytab", "WEB3.keytab"}; !slices.Equal(files, want) {
		t.Errorf("keytabs/ holds %v, want %v", files, want)
	}
	var creds map[string]string
	if b, err := os.ReadFile(filepath.Join(dir, "credentials.json")); err != nil || json.Unmarshal(b, &creds) != nil {
		t.Fatalf("credentials.json: %v", err)
	}
	for _, dc := range []string{"DC1$", "DC2$", "DC3$"} {
		if len(creds[dc]) < 16 {
			t.Errorf("credentials.json[%s] = %q, want a password", dc, creds[dc])
		}
	}
	dc2 := loadKeytab(t, filepath.Join(dir, "keytabs", "DC2.keytab"))
	dc2Key, _, err := dc2.GetEncryptionKey(types.NewPrincipalName(1, "DC2$"), "CONTOSO.COM", 0, 18)
	if err != nil || string(dc2Key.KeyValue) != string(stringToKey(t, 18, creds["DC2$"], "CONTOSO.COMhostdc2.contoso.com")) {
		t.Errorf("DC2.keytab's AES256 key is not string-to-key(credentials.json's DC2$ password) (%v)", err)
	}

	// Each DC's LDAP and LDAPS answer from that DC.
	for _, dc := range []string{"DC1", "DC2", "DC3"} {
		for _, url := range []string{"ldap://" + v["ldap."+dc], "ldaps://" + v["ldaps."+dc]} {
			c, err := ldap.DialURL(url, ldap.DialWithTLSConfig(tlsConfigFor(t, dir)))
			if err != nil {
				t.Errorf("%s: %v", url, err)
				continue
			}
			res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
				"(objectClass=*)", []string{"dnsHostName"}, nil))
			c.Close()
			if err != nil || len(res.Entries) != 1 {
				t.Errorf("%s: rootDSE: %v", url, err)
			} else if got := res.Entries[0].GetAttributeValue("dnsHostName"); got != strings.ToLower(dc)+".contoso.com" {
				t.Errorf("%s: rootDSE dnsHostName %q, want %s's", url, got, dc)
			}
		}
	}

	// The DNS publishes every DC with its own ports.
	msg := new(dns.Msg)
	msg.SetQuestion("_ldap._tcp.dc._msdcs.contoso.com.", dns.TypeSRV)
	ans, _, err := (&dns.Client{Net: "tcp"}).Exchange(msg, v["dns"])
	if err != nil {
		t.Fatal(err)
	}
	var srvs []string
	for _, rr := range ans.Answer {
		s := rr.(*dns.SRV)
		srvs = append(srvs, fmt.Sprintf("%s:%d", s.Target, s.Port))
	}
	slices.Sort(srvs)
	var wantSRV []string
	for _, dc := range []string{"DC1", "DC2", "DC3"} {
		wantSRV = append(wantSRV, strings.ToLower(dc)+".contoso.com.:"+strings.TrimPrefix(v["ldap."+dc], "127.0.0.1:"))
	}
	if !slices.Equal(srvs, wantSRV) {
		t.Errorf("SRV _ldap._tcp.dc._msdcs: %v, want %v", srvs, wantSRV)
	}
	msg.SetQuestion("_kerberos._tcp.contoso.com.", dns.TypeSRV)
	if ans, _, err = (&dns.Client{Net: "udp"}).Exchange(msg, v["dns"]); err != nil || len(ans.Answer) != 3 {
		t.Errorf("SRV _kerberos._tcp: %v, %d answers, want 3", err, len(ans.Answer))
	}

	// DC2's KDC alone (a krb5.conf naming only it) logs alice on and issues a ticket to DC2's
	// ldap/ service that DC2's keytab decrypts.
	kconf := strings.Replace(string(must(os.ReadFile(filepath.Join(dir, "krb5.conf")))), "kdc = "+v["kdc.DC1"]+"\n", "", 1)
	kconf = strings.Replace(kconf, "kdc = "+v["kdc.DC3"]+"\n", "", 1)
	only2, err := config.NewFromString(kconf)
	if err != nil || len(only2.Realms[0].KDC) != 1 || only2.Realms[0].KDC[0] != v["kdc.DC2"] {
		t.Fatalf("krb5.conf with DC2's KDC only: %v %+v", err, only2.Realms)
	}
	cl := client.NewWithPassword("alice", "CONTOSO.COM", creds["alice"], only2, client.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		t.Fatalf("alice's kinit against DC2's KDC: %v", err)
	}
	defer cl.Destroy()
	tkt, _, err := cl.GetServiceTicket("ldap/dc2.contoso.com")
	if err != nil {
		t.Fatalf("alice: ticket for ldap/dc2.contoso.com from DC2's KDC: %v", err)
	}
	if err := tkt.Decrypt(dc2Key); err != nil {
		t.Errorf("the ticket for ldap/dc2.contoso.com does not decrypt with DC2.keytab's key: %v", err)
	}
}

// tlsConfigFor trusts dir/ca.pem and checks the certificate's 127.0.0.1.
func tlsConfigFor(t *testing.T, dir string) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	if b, err := os.ReadFile(filepath.Join(dir, "ca.pem")); err != nil || !pool.AppendCertsFromPEM(b) {
		t.Fatalf("ca.pem: %v", err)
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// startDCsDomain is a frozen-time default domain with n DCs on ephemeral ports, its state
// written to a temporary directory.
func startDCsDomain(t *testing.T, n int) (*domainServer, string) {
	t.Helper()
	return startTestDomain(t, serveOptions{LDAP: "127.0.0.1:0", LDAPS: "127.0.0.1:0", KDC: "127.0.0.1:0", DCs: n, Seed: 21, SchemaVersion: 88})
}

// refused says whether a TCP dial to addr is refused (nothing listens).
func refused(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("a dial to %s was accepted", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("a dial to %s: %v, want connection refused", addr, err)
	}
	return nil
}

// adminSearch binds to addr's LDAP as Administrator and returns the sAMAccountNames a subtree
// search for filter finds.
func adminSearch(ds *domainServer, addr, filter string) ([]string, error) {
	return searchAsAdmin(addr, ds.Pop.Passwords["Administrator"], filter)
}

// searchAsAdmin binds to addr's LDAP as Administrator with pw and returns the sAMAccountNames a
// subtree search for filter finds.
func searchAsAdmin(addr, pw, filter string) ([]string, error) {
	c, err := ldap.DialURL("ldap://" + addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Bind("Administrator@contoso.com", pw); err != nil {
		return nil, err
	}
	res, err := c.Search(ldap.NewSearchRequest("DC=contoso,DC=com", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		filter, []string{"sAMAccountName"}, nil))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range res.Entries {
		out = append(out, e.GetAttributeValue("sAMAccountName"))
	}
	return out, nil
}

// readEndpoints reads dir/endpoints.json.
func readEndpoints(t *testing.T, dir string) endpointsFile {
	t.Helper()
	var ep endpointsFile
	b, err := os.ReadFile(filepath.Join(dir, "endpoints.json"))
	if err != nil || json.Unmarshal(b, &ep) != nil {
		t.Fatalf("endpoints.json: %v %.200q", err, b)
	}
	return ep
}

// A stopped DC stops answering on its sockets once Reconcile runs: its LDAP and KDC dials are
// refused and its open connections end, while DC1 still answers; endpoints.json says it is not
// running. Started again, it answers on the same addresses.
func TestReconcileStopsAndStartsDCSockets(t *testing.T) {
	ds, dir := startDCsDomain(t, 2)
	addrs := ds.Addrs()
	dc2 := addrs[1]
	if got, err := adminSearch(ds, dc2.LDAP, "(sAMAccountName=alice)"); err != nil || !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("DC2 before the stop: %v, %v", got, err)
	}
	old, err := ldap.DialURL("ldap://" + dc2.LDAP)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := ds.Reconcile(); err != nil {
		t.Fatalf("Reconcile with nothing to do: %v", err)
	}

	if err := ds.World().StopDC("DC2"); err != nil {
		t.Fatal(err)
	}
	// Concurrent callers: one closes, the others find nothing to do.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = ds.Reconcile() }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Reconcile after StopDC(DC2): %v", err)
	}
	for _, a := range []string{dc2.LDAP, dc2.LDAPS, dc2.KDC} {
		if err := refused(a); err != nil {
			t.Errorf("DC2 stopped: %v", err)
		}
	}
	if err := old.Bind("Administrator@contoso.com", ds.Pop.Passwords["Administrator"]); err == nil {
		t.Error("a connection to DC2 opened before the stop still answers a bind")
	}
	if got, err := adminSearch(ds, addrs[0].LDAP, "(sAMAccountName=alice)"); err != nil || !slices.Equal(got, []string{"alice"}) {
		t.Errorf("DC1 while DC2 is stopped: %v, %v", got, err)
	}
	if c, err := net.DialTimeout("tcp", addrs[0].KDC, 5*time.Second); err != nil {
		t.Errorf("DC1's KDC while DC2 is stopped: %v", err)
	} else {
		c.Close()
	}
	if ep := readEndpoints(t, dir); len(ep.DCs) != 2 || !ep.DCs[0].Running || ep.DCs[1].Running || ep.DCs[1].LDAP != dc2.LDAP {
		t.Errorf("endpoints.json after DC2 stopped: %+v, want DC1 running, DC2 not, at its address", ep.DCs)
	}

	if err := ds.World().StartDC("DC2"); err != nil {
		t.Fatal(err)
	}
	if err := ds.Reconcile(); err != nil {
		t.Fatalf("Reconcile after StartDC(DC2): %v", err)
	}
	if got := ds.Addrs(); !slices.Equal(got, addrs) {
		t.Errorf("addresses after the restart %+v, want %+v", got, addrs)
	}
	if got, err := adminSearch(ds, dc2.LDAP, "(sAMAccountName=WEB*)"); err != nil || !slices.Equal(got, []string{"WEB1$", "WEB2$", "WEB3$"}) {
		t.Errorf("DC2 after the restart: %v, %v", got, err)
	}
	if c, err := net.DialTimeout("tcp", dc2.KDC, 5*time.Second); err != nil {
		t.Errorf("DC2's KDC after the restart: %v", err)
	} else {
		c.Close()
	}
	if ep := readEndpoints(t, dir); len(ep.DCs) != 2 || !ep.DCs[1].Running {
		t.Errorf("endpoints.json after DC2 started: %+v, want DC2 running", ep.DCs)
	}
}

// A dcEndpoint closed and opened again listens on exactly the addresses of its first Open, the
// ports the kernel picked included.
func TestDCEndpointReopensOnTheSameAddresses(t *testing.T) {
	ds, _ := startDCsDomain(t, 1)
	w := ds.World()
	e := &dcEndpoint{endpointAddrs: endpointAddrs{DC: "DC1", LDAP: "127.0.0.1:0", KDC: "127.0.0.1:0"}}
	if err := e.Open(w, ds.CA, false); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	first := e.endpointAddrs
	if strings.HasSuffix(first.LDAP, ":0") || strings.HasSuffix(first.KDC, ":0") || first.LDAPS != "" {
		t.Fatalf("after Open: %+v, want the bound ports and no LDAPS", first)
	}
	for round := 0; round < 3; round++ {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if err := refused(first.LDAP); err != nil {
			t.Errorf("round %d: closed: %v", round, err)
		}
		if err := e.Open(w, ds.CA, false); err != nil {
			t.Fatalf("round %d: open again: %v", round, err)
		}
		if e.endpointAddrs != first {
			t.Errorf("round %d: reopened on %+v, want %+v", round, e.endpointAddrs, first)
		}
		if got, err := adminSearch(ds, first.LDAP, "(sAMAccountName=alice)"); err != nil || len(got) != 1 {
			t.Errorf("round %d: search on the reopened LDAP: %v, %v", round, got, err)
		}
	}
}

// swapWorld serves another world (a restored snapshot) on the same addresses: the new world's
// entries answer there, connections to the old one are gone, a DC stopped in the new world stays
// closed, and a world with other DCs is refused.
func TestSwapWorld(t *testing.T) {
	ds, dir := startDCsDomain(t, 2)
	addrs := ds.Addrs()
	cfg := ds.World().Config()
	w2, _, err := sim.NewDefaultDomain(sim.Config{Seed: cfg.Seed, SchemaVersion: cfg.SchemaVersion, AdminPassword: cfg.AdminPassword,
		DCs: []sim.DCSpec{{Name: "DC1"}, {Name: "DC2"}}})
	if err != nil {
		t.Fatal(err)
	}
	bob := "CN=bob,CN=Users," + w2.DomainDN()
	if err := w2.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Add(now, fakead.SystemCaller, bob, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("top"), []byte("person"), []byte("organizationalPerson"), []byte("user")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte("bob")}}})
	}); err != nil {
		t.Fatal(err)
	}
	if err := w2.RunUntilQuiet(); err != nil {
		t.Fatal(err)
	}
	if got, err := adminSearch(ds, addrs[1].LDAP, "(sAMAccountName=bob)"); err != nil || len(got) != 0 {
		t.Fatalf("bob before the swap: %v, %v", got, err)
	}
	old, err := ldap.DialURL("ldap://" + addrs[0].LDAP)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()

	if err := ds.swapWorld(w2); err != nil {
		t.Fatal(err)
	}
	if ds.World() != w2 {
		t.Error("World() is not the swapped-in world")
	}
	if got := ds.Addrs(); !slices.Equal(got, addrs) {
		t.Errorf("addresses after the swap %+v, want %+v", got, addrs)
	}
	for _, a := range addrs {
		if got, err := adminSearch(ds, a.LDAP, "(sAMAccountName=bob)"); err != nil || !slices.Equal(got, []string{"bob"}) {
			t.Errorf("%s after the swap: %v, %v; want bob", a.DC, got, err)
		}
	}
	if err := old.Bind("Administrator@contoso.com", ds.Pop.Passwords["Administrator"]); err == nil {
		t.Error("a connection to the old world still answers a bind")
	}

	// A world whose DC2 is stopped: DC2's sockets stay closed, endpoints.json says so.
	w3, _, err := sim.NewDefaultDomain(sim.Config{Seed: cfg.Seed, SchemaVersion: cfg.SchemaVersion, AdminPassword: cfg.AdminPassword,
		DCs: []sim.DCSpec{{Name: "DC1"}, {Name: "DC2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w3.StopDC("DC2"); err != nil {
		t.Fatal(err)
	}
	if err := ds.swapWorld(w3); err != nil {
		t.Fatal(err)
	}
	if err := refused(addrs[1].LDAP); err != nil {
		t.Errorf("DC2 stopped in the swapped-in world: %v", err)
	}
	if got, err := adminSearch(ds, addrs[0].LDAP, "(sAMAccountName=bob)"); err != nil || len(got) != 0 {
		t.Errorf("DC1 of the third world: %v, %v; want no bob", got, err)
	}
	if ep := readEndpoints(t, dir); !ep.DCs[0].Running || ep.DCs[1].Running {
		t.Errorf("endpoints.json after the swap: %+v, want DC1 running, DC2 not", ep.DCs)
	}

	one, _, err := sim.NewDefaultDomain(sim.Config{Seed: cfg.Seed})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.swapWorld(one); err == nil || !regexp.MustCompile(`1 DCs, the server 2`).MatchString(err.Error()) {
		t.Errorf("swapping in a one-DC world: %v, want a refusal", err)
	}
	if ds.World() != w3 {
		t.Error("a refused swap replaced the world")
	}
}

// The ready line: the contract's fields in their order (DC1's addresses first), then every DC's
// own, "-" for a disabled protocol.
func TestReadyLine(t *testing.T) {
	ds, _ := startTestDomain(t, serveOptions{LDAP: "127.0.0.1:0", KDC: "127.0.0.1:0", DCs: 2, Seed: 8, SchemaVersion: 88})
	a := ds.Addrs()
	want := fmt.Sprintf("ready ldap=%s ldaps=- kdc=%s state-dir=/s seed=8 domain=contoso.com dc=DC1"+
		" ldap.DC1=%[1]s ldaps.DC1=- kdc.DC1=%[2]s ldap.DC2=%s ldaps.DC2=- kdc.DC2=%s", a[0].LDAP, a[0].KDC, a[1].LDAP, a[1].KDC)
	if got := ds.readyLine("/s"); got != want {
		t.Errorf("ready line\n  %s\nwant\n  %s", got, want)
	}
	if a[0].LDAP == a[1].LDAP || a[0].KDC == a[1].KDC || a[1].LDAPS != "" {
		t.Errorf("addresses %+v: want DC2 on its own ports, no LDAPS", a)
	}
}
