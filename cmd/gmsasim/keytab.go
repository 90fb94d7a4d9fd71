package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/keytab"
)

// gmsasim keytab acts as a member host: it reads a gMSA's msDS-ManagedPassword over an encrypted
// LDAP connection with the host's own identity, derives the Kerberos keys as Windows does and
// writes an MIT keytab. The work is package keytab's; this is its command line.

type keytabOptions struct {
	LDAP, CA, Bind, Password, Account, Out string
	Timeout                                time.Duration
}

func runKeytab(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keytab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o keytabOptions
	fs.StringVar(&o.LDAP, "ldap", "", "the DC: ldaps://HOST:PORT, or ldap://HOST:PORT (then StartTLS is used)")
	fs.StringVar(&o.CA, "ca", "", "PEM file of the CA that issued the DC's certificate (default: the system's roots)")
	fs.StringVar(&o.Bind, "bind", "", "the host's identity: 'WEB1$@contoso.com', 'CONTOSO\\WEB1$' or a DN")
	fs.StringVar(&o.Password, "password", "", "the host's password")
	fs.StringVar(&o.Account, "account", "", "the gMSA's sAMAccountName, e.g. 'ITFarm1$'")
	fs.StringVar(&o.Out, "out", "", "the keytab file to write")
	fs.DurationVar(&o.Timeout, "timeout", 15*time.Second, "LDAP timeout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"--ldap", o.LDAP}, {"--bind", o.Bind}, {"--password", o.Password}, {"--account", o.Account}, {"--out", o.Out}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "gmsasim keytab: missing %s\nusage: gmsasim keytab --ldap ldaps://HOST:PORT --ca DIR/ca.pem --bind 'WEB1$@contoso.com' --password PW --account 'ITFarm1$' --out FILE\n", strings.Join(missing, ", "))
		return 2
	}
	kt, err := fetchKeytab(o)
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim keytab: %v\n", err)
		return 1
	}
	now := time.Now() // wallclock: keytab timestamps are real
	// 0600 and replaced, not written through: a keytab is the account's keys.
	if err := kt.WriteFile(o.Out, now); err != nil {
		fmt.Fprintf(stderr, "gmsasim keytab: %v\n", err)
		return 1
	}
	previous := ""
	if kt.Previous != nil {
		previous = fmt.Sprintf(", previous password as kvno %d", kt.KVNO-1)
	}
	fmt.Fprintf(stdout, "wrote %s: %d keys for %s (realm %s, kvno %d%s) and SPNs %s\n", o.Out, len(kt.Entries(now)),
		kt.Account, kt.Realm, kt.KVNO, previous, strings.Join(kt.SPNs, ", "))
	return 0
}

// fetchKeytab turns the flags into keytab.Options and fetches the keys.
func fetchKeytab(o keytabOptions) (*keytab.Keys, error) {
	u, err := url.Parse(o.LDAP)
	if err != nil || (u.Scheme != "ldaps" && u.Scheme != "ldap") || u.Host == "" {
		return nil, fmt.Errorf("--ldap %q: want ldaps://HOST:PORT or ldap://HOST:PORT", o.LDAP)
	}
	tlsConf := &tls.Config{ServerName: u.Hostname()}
	if o.CA != "" {
		pem, err := os.ReadFile(o.CA)
		if err != nil {
			return nil, fmt.Errorf("--ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate in it", o.CA)
		}
		tlsConf.RootCAs = pool
	}
	return keytab.Fetch(context.Background(), keytab.Options{URL: o.LDAP, TLSConfig: tlsConf,
		BindName: o.Bind, Password: o.Password, Account: o.Account, Timeout: o.Timeout})
}
