package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	gokeytab "github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gmsasim/gmsasim/internal/safefile"
	"github.com/gmsasim/gmsasim/keytab"
	"github.com/gmsasim/gmsasim/ldapauth"
)

// gmsasim keytab acts as a member host: it reads a gMSA's msDS-ManagedPassword over an encrypted
// LDAP connection with the host's own identity, derives the Kerberos keys as Windows does and
// writes an MIT keytab. The work is package keytab's; this is its command line.
//
// Two ways to log on as the host: a simple bind with its password over LDAPS/StartTLS, or
// (--kerberos) the host's keytab, a TGT from the KDC of krb5.conf, and a SASL GSSAPI bind with a
// sealing layer over plain LDAP — what a Linux gMSA daemon does (kinit -k; ldapsearch -Y GSSAPI).

type keytabOptions struct {
	LDAP, CA, Bind, Password, Account, Out string
	Kerberos                               bool
	HostKeytab, Host, Krb5Conf             string
	Timeout                                time.Duration
}

const keytabUsage = `usage: gmsasim keytab --ldap ldaps://HOST:PORT[,ldaps://HOST2:PORT] --ca DIR/ca.pem --bind 'WEB1$@contoso.com' --password PW --account 'ITFarm1$' --out FILE
       gmsasim keytab --kerberos --ldap ldap://HOST:PORT[,...] --host-keytab FILE --host 'WEB1$' [--krb5-conf FILE] --account 'ITFarm1$' --out FILE
`

func runKeytab(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keytab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o keytabOptions
	fs.StringVar(&o.LDAP, "ldap", "", "the DCs, tried in order while one cannot be reached: ldaps://HOST:PORT, or ldap://HOST:PORT (StartTLS; with --kerberos a sealed SASL layer), comma-separated")
	fs.StringVar(&o.CA, "ca", "", "PEM file of the CA that issued the DC's certificate (default: the system's roots)")
	fs.StringVar(&o.Bind, "bind", "", "the host's identity for a simple bind: 'WEB1$@contoso.com', 'CONTOSO\\WEB1$' or a DN")
	fs.StringVar(&o.Password, "password", "", "the host's password for a simple bind")
	fs.BoolVar(&o.Kerberos, "kerberos", false, "log on with the host's keytab and bind with SASL GSSAPI, sealed (instead of --bind/--password)")
	fs.StringVar(&o.HostKeytab, "host-keytab", "", "with --kerberos: the host's keytab (as a domain join leaves /etc/krb5.keytab)")
	fs.StringVar(&o.Host, "host", "", "with --kerberos: the host's account name, e.g. 'WEB1$'")
	fs.StringVar(&o.Krb5Conf, "krb5-conf", "", "with --kerberos: krb5.conf (default: $KRB5_CONFIG, else /etc/krb5.conf)")
	fs.StringVar(&o.Account, "account", "", "the gMSA's sAMAccountName, e.g. 'ITFarm1$'")
	fs.StringVar(&o.Out, "out", "", "the keytab file to write")
	fs.DurationVar(&o.Timeout, "timeout", 15*time.Second, "LDAP timeout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	type flagValue struct{ name, v string }
	need := []flagValue{{"--bind", o.Bind}, {"--password", o.Password}}
	if o.Kerberos {
		need = []flagValue{{"--host-keytab", o.HostKeytab}, {"--host", o.Host}}
	}
	need = append(need, flagValue{"--account", o.Account}, flagValue{"--out", o.Out})
	if o.LDAP == "" {
		need = append([]flagValue{{"--ldap", ""}}, need...)
	}
	var missing []string
	for _, f := range need {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "gmsasim keytab: missing %s\n%s", strings.Join(missing, ", "), keytabUsage)
		return 2
	}
	kt, err := fetchKeytab(o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim keytab: %v\n", err)
		return 1
	}
	now := time.Now() // wallclock: keytab timestamps are real
	entries := kt.Entries(now)
	previous := ""
	if kt.Previous != nil {
		previous = fmt.Sprintf(", previous password as kvno %d", kt.KVNO-1)
	} else if kept := keptPrevious(o.Out, kt); len(kept) > 0 {
		// The DC returns no previous password for an account younger than one interval, even
		// right after its first rotation; tickets issued before it still carry kvno-1.
		entries = append(entries, kept...)
		previous = fmt.Sprintf(", previous password as kvno %d kept from %s", kt.KVNO-1, o.Out)
	}
	data, err := keytab.Marshal(entries)
	if err == nil {
		// 0600 and replaced, not written through: a keytab is the account's keys.
		err = safefile.WriteFile(o.Out, data, 0o600)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim keytab: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: %d keys for %s (realm %s, kvno %d%s) and SPNs %s\n", o.Out, len(entries),
		kt.Account, kt.Realm, kt.KVNO, previous, strings.Join(kt.SPNs, ", "))
	return 0
}

// keptPrevious are the entries of the keytab already at path for kt's account and SPNs with
// kvno kt.KVNO-1: the previous password of an earlier fetch. None if the file does not parse.
func keptPrevious(path string, kt *keytab.Keys) []keytab.Entry {
	old, err := gokeytab.Load(path)
	if err != nil || kt.KVNO < 2 {
		return nil
	}
	names := append([]string{kt.Account}, kt.SPNs...)
	var out []keytab.Entry
	for _, e := range old.Entries {
		if e.KVNO != kt.KVNO-1 || !strings.EqualFold(e.Principal.Realm, kt.Realm) || !slices.Contains(names, strings.Join(e.Principal.Components, "/")) {
			continue
		}
		out = append(out, keytab.Entry{Components: e.Principal.Components, Realm: e.Principal.Realm, NameType: uint32(e.Principal.NameType),
			Timestamp: e.Timestamp, KVNO: e.KVNO, EType: uint16(e.Key.KeyType), Key: e.Key.KeyValue})
	}
	return out
}

// fetchKeytab asks each DC of --ldap in turn until one answers; one that cannot be reached is
// reported on stderr and the next one tried. A DC's refusal is final.
func fetchKeytab(o keytabOptions, stderr io.Writer) (*keytab.Keys, error) {
	var tlsConf *tls.Config
	if o.CA != "" {
		pem, err := os.ReadFile(o.CA)
		if err != nil {
			return nil, fmt.Errorf("--ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate in it", o.CA)
		}
		tlsConf = &tls.Config{RootCAs: pool}
	}
	var krb *client.Client
	if o.Kerberos {
		var err error
		if krb, err = hostLogon(o); err != nil {
			return nil, err
		}
		defer krb.Destroy()
	}
	urls := strings.Split(o.LDAP, ",")
	for i, raw := range urls {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "ldaps" && u.Scheme != "ldap") || u.Host == "" {
			return nil, fmt.Errorf("--ldap %q: want ldaps://HOST:PORT or ldap://HOST:PORT", raw)
		}
		var kt *keytab.Keys
		if krb != nil {
			kt, err = fetchKerberos(u, krb, o)
		} else {
			var c *tls.Config
			if tlsConf != nil {
				c = tlsConf.Clone()
				c.ServerName = u.Hostname()
			}
			kt, err = keytab.Fetch(context.Background(), keytab.Options{URL: raw, TLSConfig: c,
				BindName: o.Bind, Password: o.Password, Account: o.Account, Timeout: o.Timeout})
		}
		var de *keytab.DialError
		if errors.As(err, &de) && i+1 < len(urls) {
			fmt.Fprintf(stderr, "gmsasim keytab: %v; trying %s\n", err, strings.TrimSpace(urls[i+1]))
			continue
		}
		return kt, err
	}
	return nil, errors.New("--ldap: no DC given")
}

// hostLogon gets the host's TGT with its keytab from the KDCs of krb5.conf.
func hostLogon(o keytabOptions) (*client.Client, error) {
	confPath := o.Krb5Conf
	if confPath == "" {
		confPath = os.Getenv("KRB5_CONFIG")
	}
	if confPath == "" {
		confPath = "/etc/krb5.conf"
	}
	cfg, err := config.Load(confPath)
	if err != nil {
		return nil, fmt.Errorf("krb5.conf %s: %v", confPath, err)
	}
	kt, err := gokeytab.Load(o.HostKeytab)
	if err != nil {
		return nil, fmt.Errorf("--host-keytab %s: %v", o.HostKeytab, err)
	}
	realm := cfg.LibDefaults.DefaultRealm
	name := o.Host
	if n, r, ok := strings.Cut(o.Host, "@"); ok {
		name, realm = n, r
	}
	if realm == "" {
		return nil, fmt.Errorf("krb5.conf %s has no default_realm and --host %q names none", confPath, o.Host)
	}
	cl := client.NewWithKeytab(name, realm, kt, cfg, client.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		return nil, fmt.Errorf("log on as %s@%s with %s: %v", name, realm, o.HostKeytab, err)
	}
	return cl, nil
}

// fetchKerberos reads the keys over plain LDAP from the DC at u, bound with SASL GSSAPI and
// sealed. The service ticket is for ldap/ and the DC's DNS name, which its rootDSE gives
// (dnsHostName, readable anonymously): the address in u may be an IP or a name that is not the
// DC's own, as when the DC is reached through a forwarded port.
func fetchKerberos(u *url.URL, krb *client.Client, o keytabOptions) (*keytab.Keys, error) {
	if u.Scheme != "ldap" {
		return nil, fmt.Errorf("--kerberos: %s: want ldap://HOST:PORT (the SASL layer seals the connection)", u)
	}
	dial := func() (net.Conn, error) {
		nc, err := net.DialTimeout("tcp", u.Host, o.Timeout)
		if err != nil {
			return nil, &keytab.DialError{URL: u.String(), Err: err}
		}
		return nc, nil
	}
	nc, err := dial()
	if err != nil {
		return nil, err
	}
	anon := ldap.NewConn(nc, false)
	anon.Start()
	anon.SetTimeout(o.Timeout)
	root, err := anon.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"dnsHostName"}, nil))
	anon.Close()
	if err != nil || len(root.Entries) != 1 || root.Entries[0].GetAttributeValue("dnsHostName") == "" {
		return nil, fmt.Errorf("read dnsHostName from the rootDSE of %s: %v", u.Host, err)
	}
	spn := "ldap/" + strings.ToLower(root.Entries[0].GetAttributeValue("dnsHostName"))
	if nc, err = dial(); err != nil {
		return nil, err
	}
	conn, err := ldapauth.BindGSSAPI(nc, ldapauth.FromGokrb5(krb), spn, ldapauth.Seal)
	if err != nil {
		return nil, fmt.Errorf("SASL GSSAPI bind to %s as %s (%s, sealed): %v", u.Host, o.Host, spn, err)
	}
	defer conn.Close()
	conn.SetTimeout(o.Timeout)
	return keytab.FetchConn(conn, u.Host, keytab.Options{BindName: o.Host, Account: o.Account})
}
