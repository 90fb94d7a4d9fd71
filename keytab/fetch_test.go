package keytab_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/jcmturner/gokrb5/v8/crypto"
	gokeytab "github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/keytab"
	"github.com/gmsasim/gmsasim/sim"
)

// domain is the default domain served over LDAP and LDAPS on 127.0.0.1, and a TLS configuration
// that trusts its CA.
type domain struct {
	w    *sim.World
	pop  *sim.Population
	srv  *ldapsrv.Server
	tls  *tls.Config
	gMSA string
}

func serveDefaultDomain(t testing.TB) *domain {
	t.Helper()
	d, err := startDefaultDomain()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.srv.Close() })
	return d
}

// startDefaultDomain builds the default domain (seed 1) and serves its DC1. Close d.srv when done.
func startDefaultDomain() (*domain, error) {
	w, pop, err := sim.NewDefaultDomain(sim.Config{Seed: 1})
	if err != nil {
		return nil, err
	}
	ca, err := ldapsrv.NewCA(w.Rand("test/tls"))
	if err != nil {
		return nil, err
	}
	srv, err := w.ServeLDAP("DC1", sim.LDAPOptions{CA: ca, LDAP: "127.0.0.1:0", LDAPS: "127.0.0.1:0"})
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	return &domain{w: w, pop: pop, srv: srv, tls: &tls.Config{RootCAs: roots, ServerName: w.DCDNSName("DC1")},
		gMSA: "CN=ITFarm1,CN=Managed Service Accounts," + w.DomainDN()}, nil
}

func (d *domain) options(url, host string) keytab.Options {
	return keytab.Options{URL: url, TLSConfig: d.tls, BindName: host + "@contoso.com", Password: d.pop.Passwords[host], Account: "ITFarm1$"}
}

// WEB1$, in ITFarmHosts, fetches ITFarm1's keys over LDAPS and over StartTLS; the AES keys are the
// ones gokrb5 derives from the model's current password, and gokrb5 reads them back from the keytab
// under the account name and the SPN.
func TestFetchAsAllowedHost(t *testing.T) {
	d := serveDefaultDomain(t)
	mp, err := d.w.ManagedPassword("DC1", d.gMSA)
	if err != nil {
		t.Fatal(err)
	}
	u16 := make([]uint16, len(mp.Parsed.Current)/2)
	for i := range u16 {
		u16[i] = uint16(mp.Parsed.Current[2*i]) | uint16(mp.Parsed.Current[2*i+1])<<8
	}
	password := string(utf16.Decode(u16))
	const salt = "CONTOSO.COMhostitfarm1.contoso.com" // [MS-KILE] 3.1.1.2: the machine-account salt
	for _, url := range []string{"ldaps://" + d.srv.LDAPSAddr().String(), "ldap://" + d.srv.LDAPAddr().String()} {
		k, err := keytab.Fetch(context.Background(), d.options(url, "WEB1$"))
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if k.Account != "ITFarm1$" || k.Realm != "CONTOSO.COM" || strings.Join(k.SPNs, ",") != "http/ITFarm1.contoso.com" || k.KVNO != 1 {
			t.Errorf("%s: account %q realm %q SPNs %q kvno %d", url, k.Account, k.Realm, k.SPNs, k.KVNO)
		}
		if len(k.Current) != 3 || k.Previous != nil {
			t.Fatalf("%s: %d current keys, previous %v; want 3 and none (a new account)", url, len(k.Current), k.Previous)
		}
		for _, key := range k.Current[:2] {
			et, err := crypto.GetEtype(int32(key.EType))
			if err != nil {
				t.Fatal(err)
			}
			want, err := et.StringToKey(password, salt, et.GetDefaultStringToKeyParams())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(key.Value, want) {
				t.Errorf("%s: etype %d key %x, gokrb5 derives %x", url, key.EType, key.Value, want)
			}
		}
		raw, err := k.Keytab(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		kt := gokeytab.New()
		if err := kt.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		if len(kt.Entries) != 6 {
			t.Errorf("%s: %d keytab entries, want 6 (3 keys × account and SPN)", url, len(kt.Entries))
		}
		for _, p := range []types.PrincipalName{types.NewPrincipalName(1, "ITFarm1$"), types.NewPrincipalName(2, "http/ITFarm1.contoso.com")} {
			got, kvno, err := kt.GetEncryptionKey(p, "CONTOSO.COM", 1, 18)
			if err != nil || kvno != 1 || !bytes.Equal(got.KeyValue, k.Current[0].Value) {
				t.Errorf("%s: %v in the keytab: kvno %d key %x err %v", url, p.PrincipalNameString(), kvno, got.KeyValue, err)
			}
		}
	}
}

// WEB3$ is not in ITFarmHosts: the DC returns the account without the password, and Fetch says why.
// A wrong CA fails the handshake; a bad URL is refused before any connection.
func TestFetchRefusals(t *testing.T) {
	d := serveDefaultDomain(t)
	ldaps := "ldaps://" + d.srv.LDAPSAddr().String()
	_, err := keytab.Fetch(context.Background(), d.options(ldaps, "WEB3$"))
	if err == nil || !strings.Contains(err.Error(), "WEB3$@contoso.com may not retrieve the managed password of ITFarm1$") {
		t.Errorf("WEB3$: %v", err)
	}
	o := d.options(ldaps, "WEB1$")
	o.TLSConfig = &tls.Config{RootCAs: x509.NewCertPool()}
	if _, err := keytab.Fetch(context.Background(), o); err == nil || !strings.Contains(err.Error(), "connect to "+ldaps) {
		t.Errorf("untrusted certificate: %v", err)
	}
	o = d.options("http://dc1", "WEB1$")
	if _, err := keytab.Fetch(context.Background(), o); err == nil || !strings.Contains(err.Error(), "want ldaps://HOST:PORT or ldap://HOST:PORT") {
		t.Errorf("http URL: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := keytab.Fetch(ctx, d.options(ldaps, "WEB1$")); err == nil {
		t.Error("a cancelled context: keys fetched")
	}
}
