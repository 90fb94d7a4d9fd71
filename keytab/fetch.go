package keytab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/internal/safefile"
)

// DefaultTimeout is the LDAP timeout when Options.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// Encryption types of the keys, as a keytab and a KDC number them (RFC 3961, RFC 4757).
const (
	ETypeAES256 uint16 = 18 // aes256-cts-hmac-sha1-96
	ETypeAES128 uint16 = 17 // aes128-cts-hmac-sha1-96
	ETypeRC4    uint16 = 23 // rc4-hmac: the NT hash
)

// Options say which DC to ask, as whom, and for which account.
type Options struct {
	// URL is the DC: ldaps://HOST:PORT, or ldap://HOST:PORT (then StartTLS is used: the DC sends
	// msDS-ManagedPassword only over an encrypted connection).
	URL string
	// TLSConfig checks the DC's certificate; nil: the system's roots. An empty ServerName is taken
	// from URL.
	TLSConfig *tls.Config
	// BindName and Password are the host's identity: 'WEB1$@contoso.com', 'CONTOSO\WEB1$' or a DN.
	BindName, Password string
	// Account is the gMSA's sAMAccountName, e.g. 'ITFarm1$'.
	Account string
	// Timeout bounds the connection and each LDAP request; 0: DefaultTimeout.
	Timeout time.Duration
}

// Key is one Kerberos key of the account.
type Key struct {
	EType uint16 // ETypeAES256, ETypeAES128 or ETypeRC4
	Value []byte
}

// Keys are a gMSA's Kerberos keys as read from a DC.
type Keys struct {
	Account string   // sAMAccountName as the DC spells it: "ITFarm1$"
	Realm   string   // the domain in upper case: "CONTOSO.COM"
	SPNs    []string // servicePrincipalName: "http/ITFarm1.contoso.com"
	KVNO    uint32   // msDS-KeyVersionNumber (1 when the DC does not return it)
	// Current are the keys of the current password (kvno KVNO), aes256, aes128, rc4 in that order.
	Current []Key
	// Previous are the keys of the previous password (kvno KVNO-1), nil when the DC returned none
	// (or KVNO is 1).
	Previous []Key
}

// DialError is a DC that could not be reached (the connection or the TLS handshake failed): a
// caller with several DCs tries the next one. Any other error is the DC's answer.
type DialError struct {
	URL string
	Err error
}

func (e *DialError) Error() string { return fmt.Sprintf("connect to %s: %v", e.URL, e.Err) }
func (e *DialError) Unwrap() error { return e.Err }

// Fetch binds to the DC of o.URL as the host and reads o.Account's managed password, version and
// SPNs, and derives its keys. The error says which step failed; a host the account does not let
// retrieve its password gets an error saying so (the DC returns the account without the attribute).
// A DC that cannot be reached is a *DialError.
func Fetch(ctx context.Context, o Options) (*Keys, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "ldaps" && u.Scheme != "ldap") || u.Host == "" {
		return nil, fmt.Errorf("URL %q: want ldaps://HOST:PORT or ldap://HOST:PORT", o.URL)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := dial(u, o)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// Cancelling ctx closes the connection under a request in progress.
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	if err := conn.Bind(o.BindName, o.Password); err != nil {
		return nil, fmt.Errorf("bind as %s: %v", o.BindName, err)
	}
	return FetchConn(conn, u.Host, o)
}

// FetchConn reads o.Account's keys over conn, a connection already bound as the host and
// encrypted (TLS, or a sealing SASL layer: see package ldapauth); host names the DC in errors.
// Only o.Account and o.BindName (for messages) are used. An account given without its trailing
// "$" ("ITFarm1") is found as "ITFarm1$" too, as Windows' cmdlets do.
func FetchConn(conn *ldap.Conn, host string, o Options) (*Keys, error) {
	root, err := conn.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"defaultNamingContext"}, nil))
	if err != nil || len(root.Entries) != 1 {
		return nil, fmt.Errorf("read the rootDSE of %s: %v", host, err)
	}
	base := root.Entries[0].GetAttributeValue("defaultNamingContext")
	dnsDomain, err := dnsOfDN(base)
	if err != nil {
		return nil, err
	}
	filter := "(sAMAccountName=" + ldap.EscapeFilter(o.Account) + ")"
	if !strings.HasSuffix(o.Account, "$") {
		filter = "(|" + filter + "(sAMAccountName=" + ldap.EscapeFilter(o.Account+"$") + "))"
	}
	// msDS-ManagedPassword before msDS-KeyVersionNumber: a read that makes the DC rotate the
	// password bumps the kvno, and a DC may build the attributes in the order asked.
	res, err := conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false, filter,
		[]string{"sAMAccountName", "servicePrincipalName", "msDS-ManagedPassword", "msDS-KeyVersionNumber"}, nil))
	if err != nil {
		if strings.Contains(err.Error(), "0000202D") {
			return nil, fmt.Errorf("%s refuses to send msDS-ManagedPassword of %s over this connection: %v", host, o.Account, err)
		}
		return nil, fmt.Errorf("search for %s under %s on %s: %v", o.Account, base, host, err)
	}
	if len(res.Entries) != 1 {
		return nil, fmt.Errorf("no account with sAMAccountName %s under %s on %s (found %d)", o.Account, base, host, len(res.Entries))
	}
	return keysOf(res.Entries[0], dnsDomain, o)
}

// dial connects to the DC and encrypts the connection (LDAPS, or StartTLS on ldap://).
func dial(u *url.URL, o Options) (*ldap.Conn, error) {
	tlsConf := &tls.Config{ServerName: u.Hostname()}
	if o.TLSConfig != nil {
		tlsConf = o.TLSConfig.Clone()
		if tlsConf.ServerName == "" {
			tlsConf.ServerName = u.Hostname()
		}
	}
	dialer := &net.Dialer{Timeout: o.Timeout}
	var conn *ldap.Conn
	var err error
	if u.Scheme == "ldaps" {
		conn, err = ldap.DialURL(o.URL, ldap.DialWithTLSDialer(tlsConf, dialer))
	} else {
		conn, err = ldap.DialURL(o.URL, ldap.DialWithDialer(dialer))
		if err == nil {
			conn.SetTimeout(o.Timeout)
			if err = conn.StartTLS(tlsConf); err != nil {
				conn.Close()
				return nil, &DialError{URL: o.URL, Err: fmt.Errorf("StartTLS: %v (msDS-ManagedPassword is only readable over an encrypted connection)", err)}
			}
		}
	}
	if err != nil {
		return nil, &DialError{URL: o.URL, Err: err}
	}
	conn.SetTimeout(o.Timeout)
	return conn, nil
}

// keysOf derives the keys from the account's entry.
func keysOf(e *ldap.Entry, dnsDomain string, o Options) (*Keys, error) {
	blobBytes := e.GetRawAttributeValue("msDS-ManagedPassword")
	if len(blobBytes) == 0 {
		return nil, fmt.Errorf("%s may not retrieve the managed password of %s: the DC returned the account without msDS-ManagedPassword "+
			"(the host is not in PrincipalsAllowedToRetrieveManagedPassword, directly or through a group in its current logon token; "+
			"or the DC cannot compute the password yet); no keytab written", o.BindName, e.GetAttributeValue("sAMAccountName"))
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
	// In the last five minutes before a rotation the DC already hands out the next password as
	// current and the current one as previous, while msDS-KeyVersionNumber still counts the
	// current one ([MS-ADTS] 3.1.1.4.5.39: QueryPasswordInterval is then at most MaxClockSkew).
	// The KDC encrypts with the next password under kvno+1 once it rotates.
	if blob.Previous != nil && blob.QueryInterval <= fakekds.MaxClockSkew {
		kvno++
	}
	sam := e.GetAttributeValue("sAMAccountName")
	k := &Keys{Account: sam, Realm: strings.ToUpper(dnsDomain), SPNs: e.GetAttributeValues("servicePrincipalName"), KVNO: kvno}
	salt := fakekds.MachineSalt(dnsDomain, sam)
	if k.Current, err = derive(blob.Current, salt); err != nil {
		return nil, err
	}
	if blob.Previous != nil && kvno > 1 {
		if k.Previous, err = derive(blob.Previous, salt); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// derive turns a gMSA password (256 bytes of UTF-16LE) into its keys.
func derive(password []byte, salt string) ([]Key, error) {
	keys, err := fakekds.KeysFromUTF16(password, salt)
	if err != nil {
		return nil, err
	}
	return []Key{{ETypeAES256, keys.AES256}, {ETypeAES128, keys.AES128}, {ETypeRC4, keys.NTHash}}, nil
}

// Entries are the keytab entries of k, stamped ts: for the current keys then the previous ones,
// each key under the account name and under each SPN.
func (k *Keys) Entries(ts time.Time) []Entry {
	var out []Entry
	add := func(keys []Key, kvno uint32) {
		for _, name := range append([]string{k.Account}, k.SPNs...) {
			comps, nt := principalOf(name)
			for _, key := range keys {
				out = append(out, Entry{Components: comps, Realm: k.Realm, NameType: nt,
					Timestamp: ts, KVNO: kvno, EType: key.EType, Key: key.Value})
			}
		}
	}
	add(k.Current, k.KVNO)
	if k.Previous != nil {
		add(k.Previous, k.KVNO-1)
	}
	return out
}

// Keytab is k as an MIT keytab file, its entries stamped ts.
func (k *Keys) Keytab(ts time.Time) ([]byte, error) { return Marshal(k.Entries(ts)) }

// WriteFile writes k's keytab to name, mode 0600, replacing whatever is there (a file or a
// symlink) rather than writing through it: a keytab is the account's keys.
func (k *Keys) WriteFile(name string, ts time.Time) error {
	data, err := k.Keytab(ts)
	if err != nil {
		return err
	}
	return safefile.WriteFile(name, data, 0o600)
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
