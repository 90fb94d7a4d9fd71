package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/internal/safefile"
)

// gmsasim keytab acts as a member host: it reads a gMSA's msDS-ManagedPassword over an encrypted
// LDAP connection with the host's own identity, derives the Kerberos keys as Windows does and
// writes an MIT keytab. It speaks only LDAP, so it works against a real domain controller too.

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
	kt, err := fetchKeytab(o, time.Now()) // wallclock: keytab timestamps are real
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim keytab: %v\n", err)
		return 1
	}
	data, err := marshalKeytab(kt.Entries)
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim keytab: %v\n", err)
		return 1
	}
	// 0600 and replaced, not written through: a keytab is the account's keys.
	if err := safefile.WriteFile(o.Out, data, 0o600); err != nil {
		fmt.Fprintf(stderr, "gmsasim keytab: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: %d keys for %s (realm %s, kvno %d%s) and SPNs %s\n", o.Out, len(kt.Entries),
		kt.Account, kt.Realm, kt.KVNO, kt.previousNote(), strings.Join(kt.SPNs, ", "))
	return 0
}

// fetchedKeytab is what was read and derived.
type fetchedKeytab struct {
	Account, Realm string
	SPNs           []string
	KVNO           uint32
	HasPrevious    bool
	Entries        []keytabEntry
}

func (k *fetchedKeytab) previousNote() string {
	if k.HasPrevious {
		return fmt.Sprintf(", previous password as kvno %d", k.KVNO-1)
	}
	return ""
}

func fetchKeytab(o keytabOptions, now time.Time) (*fetchedKeytab, error) {
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
	var conn *ldap.Conn
	if u.Scheme == "ldaps" {
		conn, err = ldap.DialURL(o.LDAP, ldap.DialWithTLSConfig(tlsConf))
	} else {
		conn, err = ldap.DialURL(o.LDAP)
		if err == nil {
			conn.SetTimeout(o.Timeout)
			if err = conn.StartTLS(tlsConf); err != nil {
				conn.Close()
				return nil, fmt.Errorf("StartTLS with %s: %v (msDS-ManagedPassword is only readable over an encrypted connection)", u.Host, err)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %v", o.LDAP, err)
	}
	defer conn.Close()
	conn.SetTimeout(o.Timeout)
	if err := conn.Bind(o.Bind, o.Password); err != nil {
		return nil, fmt.Errorf("bind as %s: %v", o.Bind, err)
	}
	root, err := conn.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"defaultNamingContext"}, nil))
	if err != nil || len(root.Entries) != 1 {
		return nil, fmt.Errorf("read the rootDSE of %s: %v", u.Host, err)
	}
	base := root.Entries[0].GetAttributeValue("defaultNamingContext")
	dnsDomain, err := dnsOfDN(base)
	if err != nil {
		return nil, err
	}
	res, err := conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false,
		"(sAMAccountName="+ldap.EscapeFilter(o.Account)+")",
		[]string{"sAMAccountName", "servicePrincipalName", "msDS-KeyVersionNumber", "msDS-ManagedPassword"}, nil))
	if err != nil {
		if strings.Contains(err.Error(), "0000202D") {
			return nil, fmt.Errorf("%s refuses to send msDS-ManagedPassword of %s over this connection: %v", u.Host, o.Account, err)
		}
		return nil, fmt.Errorf("search for %s under %s: %v", o.Account, base, err)
	}
	if len(res.Entries) != 1 {
		return nil, fmt.Errorf("no account with sAMAccountName %s under %s (found %d)", o.Account, base, len(res.Entries))
	}
	e := res.Entries[0]
	blobBytes := e.GetRawAttributeValue("msDS-ManagedPassword")
	if len(blobBytes) == 0 {
		return nil, fmt.Errorf("%s may not retrieve the managed password of %s: the DC returned the account without msDS-ManagedPassword "+
			"(the host is not in PrincipalsAllowedToRetrieveManagedPassword, directly or through a group in its current logon token; "+
			"or the DC cannot compute the password yet); no keytab written", o.Bind, e.GetAttributeValue("sAMAccountName"))
	}
	blob, err := fakekds.ParseManagedPasswordBlob(blobBytes)
	if err != nil {
		return nil, fmt.Errorf("msDS-ManagedPassword of %s: %v", o.Account, err)
	}
	kvno := uint32(1)
	if v := e.GetAttributeValue("msDS-KeyVersionNumber"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("msDS-KeyVersionNumber of %s is %q, not a number", o.Account, v)
		}
		kvno = uint32(n)
	}
	sam := e.GetAttributeValue("sAMAccountName")
	kt := &fetchedKeytab{Account: sam, Realm: strings.ToUpper(dnsDomain), SPNs: e.GetAttributeValues("servicePrincipalName"), KVNO: kvno}
	salt := fakekds.MachineSalt(dnsDomain, sam)
	add := func(password []byte, kvno uint32) error {
		keys, err := fakekds.KeysFromUTF16(password, salt)
		if err != nil {
			return err
		}
		for _, name := range append([]string{sam}, kt.SPNs...) {
			comps, nt := principalOf(name)
			for _, k := range []struct {
				etype uint16
				key   []byte
			}{{18, keys.AES256}, {17, keys.AES128}, {23, keys.NTHash}} {
				kt.Entries = append(kt.Entries, keytabEntry{Components: comps, Realm: kt.Realm, NameType: nt,
					Timestamp: now, KVNO: kvno, EType: k.etype, Key: k.key})
			}
		}
		return nil
	}
	if err := add(blob.Current, kvno); err != nil {
		return nil, err
	}
	if blob.Previous != nil && kvno > 1 {
		kt.HasPrevious = true
		if err := add(blob.Previous, kvno-1); err != nil {
			return nil, err
		}
	}
	return kt, nil
}

// dnsOfDN turns DC=contoso,DC=com into contoso.com.
func dnsOfDN(dn string) (string, error) {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return "", fmt.Errorf("defaultNamingContext %q: %v", dn, err)
	}
	var labels []string
	for _, rdn := range parsed.RDNs {
		for _, a := range rdn.Attributes {
			if strings.EqualFold(a.Type, "DC") {
				labels = append(labels, a.Value)
			}
		}
	}
	if len(labels) == 0 {
		return "", errors.New("defaultNamingContext has no DC= components")
	}
	return strings.ToLower(strings.Join(labels, ".")), nil
}
