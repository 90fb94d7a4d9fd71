package kdc_test

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/types"
	"golang.org/x/crypto/md4"
)

const (
	realm   = "CONTOSO.COM"
	users   = "CN=Users,DC=contoso,DC=com"
	pwAlice = "Alice-Pa55word!"
	pwWeb1  = "machine-password-web1"
	pwSvc   = "Svc-Pa55word!"
)

// fixture is a one-DC world with the principals the tests use, a KDC over DC1's replica and a
// server on loopback.
type fixture struct {
	t      testing.TB
	w      *sim.World
	k      *kdc.KDC
	srv    *kdc.Server
	groups map[string]string // group name -> SID
	trace  []string
}

func attr(name string, vals ...string) fakead.Attribute {
	a := fakead.Attribute{Name: name}
	for _, v := range vals {
		a.Values = append(a.Values, []byte(v))
	}
	return a
}

// newWorld builds the world. Its clock starts at the wall clock's now because gokrb5 clients
// stamp authenticators with time.Now() (allowed in tests).
func newWorld(t testing.TB) *sim.World {
	t.Helper()
	w, err := sim.New(sim.Config{Seed: 7, Start: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	type acct struct {
		dn    string
		attrs []fakead.Attribute
		pw    string
	}
	accts := []acct{
		{"CN=alice," + users, []fakead.Attribute{attr("objectClass", "user"), attr("sAMAccountName", "alice"),
			attr("userPrincipalName", "alice@contoso.com"), attr("userAccountControl", "512")}, pwAlice},
		{"CN=bob," + users, []fakead.Attribute{attr("objectClass", "user"), attr("sAMAccountName", "bob"),
			attr("userAccountControl", "514")}, "Bob-Pa55word!"},
		{"CN=carol," + users, []fakead.Attribute{attr("objectClass", "user"), attr("sAMAccountName", "carol"),
			attr("userAccountControl", "512"), attr("msDS-SupportedEncryptionTypes", "24")}, "Carol-Pa55word!"},
		{"CN=svc_http," + users, []fakead.Attribute{attr("objectClass", "user"), attr("sAMAccountName", "svc_http"),
			attr("userAccountControl", strconv.Itoa(512|0x80000)), attr("servicePrincipalName", "http/app.contoso.com")}, pwSvc},
		{"CN=WEB1,CN=Computers,DC=contoso,DC=com", []fakead.Attribute{attr("objectClass", "computer"), attr("sAMAccountName", "WEB1$"),
			attr("userAccountControl", "4096"), attr("dNSHostName", "web1.contoso.com"),
			attr("servicePrincipalName", "HOST/WEB1", "HOST/web1.contoso.com"),
			attr("msDS-SupportedEncryptionTypes", "28")}, pwWeb1},
		{"CN=WEB2,CN=Computers,DC=contoso,DC=com", []fakead.Attribute{attr("objectClass", "computer"), attr("sAMAccountName", "WEB2$"),
			attr("userAccountControl", "4096"), attr("dNSHostName", "web2.contoso.com")}, "machine-password-web2"},
		{"CN=ITFarm1,CN=Managed Service Accounts,DC=contoso,DC=com", []fakead.Attribute{
			attr("objectClass", "msDS-GroupManagedServiceAccount"), attr("msDS-ManagedPasswordInterval", "30"),
			attr("sAMAccountName", "ITFarm1$"),
			attr("dNSHostName", "ITFarm1.contoso.com"), attr("servicePrincipalName", "http/ITFarm1.contoso.com"),
			attr("msDS-SupportedEncryptionTypes", "28")}, ""},
		{"CN=Outbound1,CN=Managed Service Accounts,DC=contoso,DC=com", []fakead.Attribute{
			attr("objectClass", "msDS-GroupManagedServiceAccount"), attr("msDS-ManagedPasswordInterval", "30"),
			attr("sAMAccountName", "Outbound1$"),
			attr("dNSHostName", "Outbound1.contoso.com")}, ""},
	}
	err = w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		// A KDS root key usable at once (Add-KdsRootKey -EffectiveTime ((Get-Date).AddHours(-10))),
		// so the gMSAs have managed passwords.
		eff := ad.FileTimeFromTime(now.Add(-10 * time.Hour))
		rk, err := fakekds.AddKdsRootKey(w.Loop().Rand("test/rootkeys"), ad.FileTimeFromTime(now),
			"CN=DC1,OU=Domain Controllers,DC=contoso,DC=com", fakekds.AddOptions{EffectiveTime: &eff})
		if err != nil {
			return err
		}
		var rka []fakead.Attribute
		for _, a := range rk.Attributes() {
			rka = append(rka, fakead.Attribute{Name: a.Name, Values: a.Values})
		}
		if err := d.Add(now, fakead.SystemCaller, rk.DN(d.DomainDN()), rka); err != nil {
			return err
		}
		for _, a := range accts {
			if err := d.Add(now, fakead.SystemCaller, a.dn, a.attrs); err != nil {
				return err
			}
			if a.pw == "" {
				continue // a gMSA: its password is managed
			}
			if err := d.SetPassword(now, fakead.SystemCaller, a.dn, a.pw); err != nil {
				return err
			}
		}
		if err := d.Add(now, fakead.SystemCaller, "CN=Web Admins,"+users, []fakead.Attribute{
			attr("objectClass", "group"), attr("sAMAccountName", "Web Admins"),
			attr("member", "CN=alice,"+users)}); err != nil {
			return err
		}
		return d.Add(now, fakead.SystemCaller, "CN=ITFarmHosts,"+users, []fakead.Attribute{
			attr("objectClass", "group"), attr("sAMAccountName", "ITFarmHosts"),
			attr("member", "CN=WEB1,CN=Computers,DC=contoso,DC=com")})
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func worldExec(w *sim.World) kdc.Exec {
	return func(fn func(now time.Time) error) error {
		return w.ExecOn("DC1", func(now time.Time, _ *fakead.Directory) error { return fn(now) })
	}
}

func newKDC(t testing.TB, w *sim.World) *kdc.KDC {
	t.Helper()
	k, err := kdc.ForDirectory(w.DC("DC1").Directory(), w.Rand("kdc"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newFixture starts a server listening on TCP and UDP on one loopback port.
func newFixture(t testing.TB) *fixture { return newFixtureWith(t, nil) }

// newFixtureWith is newFixture with the server's limits set by tune (nil: the defaults).
func newFixtureWith(t testing.TB, tune func(*kdc.ServerConfig)) *fixture {
	t.Helper()
	f := &fixture{t: t, w: newWorld(t)}
	f.k = newKDC(t, f.w)
	cfg := kdc.ServerConfig{KDC: f.k, Exec: worldExec(f.w),
		OnExchange: func(now time.Time, o kdc.Outcome) { f.trace = append(f.trace, o.String()) }}
	if tune != nil {
		tune(&cfg)
	}
	srv, err := kdc.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	f.srv = srv
	f.groups = map[string]string{}
	err = f.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		for _, g := range []string{"Web Admins", "ITFarmHosts"} {
			a, ok := d.Account(g)
			if !ok {
				t.Fatalf("group %s not found", g)
			}
			f.groups[g] = a.SID.String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// config is a gokrb5 client configuration read from the krb5.conf WriteKrb5Conf writes.
func (f *fixture) config(tcp bool) *config.Config {
	f.t.Helper()
	var b bytes.Buffer
	if err := kdc.WriteKrb5Conf(&b, realm, []string{f.srv.Addr().String()}); err != nil {
		f.t.Fatal(err)
	}
	cfg, err := config.NewFromString(b.String())
	if err != nil {
		f.t.Fatalf("gokrb5 rejects the written krb5.conf: %v\n%s", err, b.String())
	}
	if tcp {
		cfg.LibDefaults.UDPPreferenceLimit = 1
	}
	return cfg
}

// account reads an account's kvno from the directory.
func (f *fixture) kvno(name string) uint32 {
	var kv uint32
	f.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		a, ok := d.Account(name)
		if !ok {
			f.t.Fatalf("%s not found", name)
		}
		kv = a.KVNO
		return nil
	})
	return kv
}

var krbCodeRE = regexp.MustCompile(`KRB Error: \((\d+)\)`)

// krbCode extracts the KRB-ERROR code from a gokrb5 client error, or -1.
func krbCode(err error) int {
	if err == nil {
		return 0
	}
	m := krbCodeRE.FindStringSubmatch(err.Error())
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// traceLines copies the server's outcome lines; they are written inside the world loop, so they
// are read there too.
func (f *fixture) traceLines() []string {
	var out []string
	f.w.Exec(func(time.Time) error {
		out = append(out, f.trace...)
		return nil
	})
	return out
}

// gmsaPassword is a gMSA's current managed password (256 bytes of UTF-16LE) as DC1 computes it now.
func gmsaPassword(t testing.TB, w *sim.World, name string) []byte {
	t.Helper()
	var cur []byte
	err := w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		a, ok := d.AccountAt(now, name)
		if !ok || a.GMSA == nil || a.GMSA.Blob == nil {
			t.Fatalf("%s: no managed password", name)
		}
		b, err := fakekds.ParseManagedPasswordBlob(a.GMSA.Blob)
		if err != nil {
			return err
		}
		cur = b.Current
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cur
}

// utf16leToString decodes UTF-16LE (unpaired surrogates become U+FFFD, as Windows converts a
// gMSA password before string-to-key).
func utf16leToString(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// gmsaKeyOf derives a gMSA key from a managed password on its own: AES with gokrb5's
// string-to-key and the machine salt, RC4 as MD4 of the raw bytes.
func gmsaKeyOf(t testing.TB, pw []byte, name string, et int32) types.EncryptionKey {
	t.Helper()
	if et == kdc.EtypeRC4 {
		h := md4.New()
		h.Write(pw)
		return types.EncryptionKey{KeyType: et, KeyValue: h.Sum(nil)}
	}
	salt := "CONTOSO.COMhost" + strings.ToLower(strings.TrimSuffix(name, "$")) + ".contoso.com"
	return adKey(t, et, utf16leToString(pw), salt)
}

// gmsaKey is a gMSA's current key of etype et.
func gmsaKey(t testing.TB, w *sim.World, name string, et int32) types.EncryptionKey {
	return gmsaKeyOf(t, gmsaPassword(t, w, name), name, et)
}
