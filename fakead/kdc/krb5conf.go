package kdc

import (
	"fmt"
	"io"
	"strings"
)

// WriteKrb5Conf writes a krb5.conf for MIT tools (and gokrb5) that sends every request for realm
// to the KDCs at kdcAddrs ("127.0.0.1:3088", one per DC, in DC order: the clients try them in that
// order and fail over to the next when one does not answer; the first is also the admin_server),
// with DNS lookups off and the AES enctypes AD uses by default. Point MIT tools at it with KRB5_CONFIG. Requests ask for AES only; permitted_enctypes
// also admits RC4-HMAC because AD encrypts tickets to services without
// msDS-SupportedEncryptionTypes with RC4 (DefaultDomainSupportedEncTypes), and `kvno -k` must be
// able to check those against a keytab.
func WriteKrb5Conf(w io.Writer, realm string, kdcAddrs []string) error {
	if len(kdcAddrs) == 0 {
		return fmt.Errorf("kdc: krb5.conf for %s: no KDC address", realm)
	}
	realm = strings.ToUpper(realm)
	var kdcs strings.Builder
	for _, a := range kdcAddrs {
		fmt.Fprintf(&kdcs, "\t\tkdc = %s\n", a)
	}
	domain := strings.ToLower(realm)
	enctypes := "aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96"
	_, err := fmt.Fprintf(w, `# Written by gmsasim: the simulated domain's KDCs.
[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	forwardable = true
	ticket_lifetime = 10h
	renew_lifetime = 7d
	default_tkt_enctypes = %[4]s
	default_tgs_enctypes = %[4]s
	permitted_enctypes = %[4]s arcfour-hmac
	udp_preference_limit = 1465

[realms]
	%[1]s = {
%[3]s		admin_server = %[5]s
	}

[domain_realm]
	.%[2]s = %[1]s
	%[2]s = %[1]s
`, realm, domain, kdcs.String(), enctypes, kdcAddrs[0])
	return err
}
