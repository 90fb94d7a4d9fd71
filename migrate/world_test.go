package migrate_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/sim"
)

const adminPassword = "Adm1n!Passw0rd"

var (
	caOnce sync.Once
	caVal  *ldapsrv.CA
	caErr  error
)

// testCA is one CA for every test world (key generation is the slow part).
func testCA(t testing.TB) *ldapsrv.CA {
	caOnce.Do(func() { caVal, caErr = ldapsrv.NewCA(nil) })
	if caErr != nil {
		t.Fatal(caErr)
	}
	return caVal
}

// worldOpts shapes a test domain.
type worldOpts struct {
	schema     int
	dcs        []sim.DCSpec
	linkDelay  time.Duration
	keyAge     time.Duration // root key use-start = now - keyAge; <0: no key
	keyOn      string        // DC the key is added on ("": first)
	hosts      []string      // computer accounts (short names)
	syncGroups bool
}

// testDomain is a simulated domain served over LDAPS on 127.0.0.1:0, one listener per DC.
type testDomain struct {
	w         *sim.World
	eps       map[string]migrate.Endpoint // by DC DNS name
	srvs      []*ldapsrv.Server
	hostPw    map[string]string // computer sAMAccountName -> password
	first     string            // first DC's DNS name
	tlsConfig func(name string) *tls.Config
}

// testKeys is the key-derivation memo the tests' worlds share: they are built from one seed, so
// the same passwords give the same keys again in every crash-sweep world.
var testKeys = fakekds.NewKeyMemo()

func newDomain(t testing.TB, o worldOpts) *testDomain {
	t.Helper()
	w, err := sim.New(sim.Config{Seed: 7, SchemaVersion: o.schema, DCs: o.dcs, LinkDelay: o.linkDelay, AdminPassword: adminPassword,
		Keys: testKeys})
	if err != nil {
		t.Fatal(err)
	}
	td := &testDomain{w: w, eps: map[string]migrate.Endpoint{}, hostPw: map[string]string{}}
	base := w.DomainDN()
	dc0 := w.DCs()[0].Name()
	err = w.ExecOn(dc0, func(now time.Time, d *fakead.Directory) error {
		for _, h := range o.hosts {
			dn := "CN=" + h + ",CN=Computers," + base
			err := d.Add(now, fakead.SystemCaller, dn, []fakead.Attribute{
				{Name: "objectClass", Values: [][]byte{[]byte("top"), []byte("person"), []byte("organizationalPerson"), []byte("user"), []byte("computer")}},
				{Name: "sAMAccountName", Values: [][]byte{[]byte(h + "$")}},
				{Name: "userAccountControl", Values: [][]byte{[]byte("4096")}},
				{Name: "dNSHostName", Values: [][]byte{[]byte(strings.ToLower(h) + ".contoso.com")}},
			})
			if err != nil {
				return err
			}
			pw := "Host-" + h + "-pw1!"
			if err := d.SetPassword(now, fakead.SystemCaller, dn, pw); err != nil {
				return err
			}
			td.hostPw[h+"$"] = pw
		}
		if o.syncGroups {
			for _, g := range migrate.DefaultSyncGroups {
				err := d.Add(now, fakead.SystemCaller, "CN="+g+",CN=Users,"+base, []fakead.Attribute{
					{Name: "objectClass", Values: [][]byte{[]byte("top"), []byte("group")}},
					{Name: "sAMAccountName", Values: [][]byte{[]byte(g)}},
					{Name: "groupType", Values: [][]byte{[]byte("-2147483644")}},
				})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.keyAge >= 0 {
		on := o.keyOn
		if on == "" {
			on = dc0
		}
		ft := ad.FileTimeFromTime(w.Now().Add(-o.keyAge))
		if _, err := w.AddKdsRootKey(on, fakekds.AddOptions{EffectiveTime: &ft}); err != nil {
			t.Fatal(err)
		}
	}
	if o.linkDelay == 0 {
		if err := w.RunUntilQuiet(); err != nil {
			t.Fatal(err)
		}
	}
	ca := testCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate())
	td.tlsConfig = func(name string) *tls.Config { return &tls.Config{RootCAs: pool, ServerName: name} }
	for i, dc := range w.DCs() {
		name := strings.ToLower(dc.Name()) + ".contoso.com"
		conf, err := ca.ServerTLSConfig(name)
		if err != nil {
			t.Fatal(err)
		}
		srv := ldapsrv.New(w.Backend(dc.Name()), ldapsrv.Options{TLS: conf})
		if err := srv.ListenLDAPS("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		td.srvs = append(td.srvs, srv)
		td.eps[name] = migrate.Endpoint{Addr: srv.LDAPSAddr().String(), LDAPS: true, TLS: td.tlsConfig(name)}
		if i == 0 {
			td.first = name
		}
	}
	t.Cleanup(func() {
		for _, s := range td.srvs {
			s.Close()
		}
	})
	return td
}

func (td *testDomain) config(hosts []migrate.HostAgent) migrate.Config {
	return migrate.Config{
		Domain: "contoso.com", NetBIOS: "CONTOSO",
		DC:          td.eps[td.first],
		DCs:         td.eps,
		Admin:       migrate.Credentials{Name: "CONTOSO\\Administrator", Password: adminPassword},
		Hosts:       hosts,
		SyncAccount: migrate.KeySetExportRequest{Account: "svc-mimsync", Password: "Sync-pw1!", Domain: "CONTOSO"},
		Exchange:    &migrate.ExchangeOptions{Online: true, MailAccount: "mimmail@contoso.com", MailPassword: "Mail-pw1!"},
		Accounts: map[migrate.Component]migrate.AccountSpec{
			migrate.CompPAMREST: {SPNs: []string{"http/pamapi.contoso.com"}, TrustedForDelegation: true,
				DelegateTo: []string{"http/mim", "http/mim.contoso.com"}},
		},
		PreviousPasswords: map[string]string{
			`CONTOSO\svc-mimsync`: "Sync-pw1!", `CONTOSO\svc-mimservice`: "Svc-pw1!", `CONTOSO\svc-pam`: "Pam-pw1!",
			`CONTOSO\svc-sspr`: "Sspr-pw1!",
		},
	}
}

func mustf(t testing.TB, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}
