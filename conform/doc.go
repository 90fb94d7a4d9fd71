// Package conform is a conformance suite for gMSA-consuming products: it drives a vendor's
// product through the life of a group managed service account — first retrieval, a rotation and
// its last-5-minutes window, removal from PrincipalsAllowedToRetrieveManagedPassword, an AES-only
// account, a stopped DC, replication lag, no usable KDS root key, the "$" forms of names — and
// reports which behaviours passed (JUnit, and an HTML report with each check's timeline).
//
// Each check runs in its own fresh world, which the package drives only through the World
// interface (the control API of `gmsasim serve --control`: scenario steps and state) and the
// world's state directory, the way a vendor's CI would; it imports nothing of the simulator (sim,
// fakead, scenarios). What is true — the keys and kvno a product should hold — comes from the
// world's KDC over the wire: a gokrb5 client logs on as alice and asks for a ticket to the gMSA's
// SPN, and the product's keys must decrypt it (the ticket's service principal, kvno and
// encryption type, as a service's acceptor looks them up).
//
// # The adapter file
//
// A product is described by a JSON document:
//
//	{
//	  "name": "my-daemon",
//	  "refresh": ["/usr/bin/my-daemon", "--once", "--account", "${GMSASIM_ACCOUNT}", "--out", "${GMSASIM_OUT}/gmsa.keytab"],
//	  "keytab": "${GMSASIM_OUT}/gmsa.keytab",
//	  "env": {"MY_DAEMON_DC": "${GMSASIM_DC}"},
//	  "timeout": "30s"
//	}
//
// refresh is run at every moment the product would wake up and fetch its keys. The suite moves
// simulated time (a jump of 30 days takes no time), so a daemon's own scheduler cannot be trusted
// to wake at the right simulated moment: the suite wakes it. Exit 0 means the product says it holds
// good keys; a non-zero exit means it reports a failure (its stderr goes into the report).
//
// What the product holds is read from "keytab", a keytab file (MIT format), or from "keys", a
// command that prints {"keys": [{"kvno": 2, "etype": 18, "key": "HEX"}, ...]} (etype 17 aes128,
// 18 aes256, 23 rc4-hmac, whose key is the NT hash; an optional "principal" per key). A keytab's
// keys must be under the SPN's principal, as a Kerberos acceptor looks them up.
//
// Words and env values expand ${VAR}: the process environment, env, and what the suite gives
// every command:
//
//	KRB5_CONFIG            the world's krb5.conf (every DC's KDC on loopback)
//	KRB5CCNAME             a credential cache of this check's own
//	GMSASIM                the gmsasim executable running the suite
//	GMSASIM_CA             the CA of the DCs' LDAPS certificates (PEM)
//	GMSASIM_HOST           the member host the product runs on: WEB1$ (a member of ITFarmHosts)
//	GMSASIM_HOST_KEYTAB    its keytab, as a domain join leaves /etc/krb5.keytab
//	GMSASIM_HOST_PASSWORD  its password, for products that bind simply
//	GMSASIM_ACCOUNT        the gMSA to fetch: ITFarm1$ (ITFarm2$, and ITFarm1 without "$", in some checks)
//	GMSASIM_DOMAIN         contoso.com; GMSASIM_REALM: CONTOSO.COM
//	GMSASIM_DC             the DNS name of the DC to use first (dc1.contoso.com)
//	GMSASIM_LDAP           host:port of that DC's LDAP; GMSASIM_LDAPS: of its LDAPS
//	GMSASIM_LDAP_URLS      every DC as ldap://host:port, comma-separated, that DC first
//	GMSASIM_LDAPS_URLS     the same as ldaps://host:port
//	GMSASIM_ENDPOINTS      endpoints.json: every DC, its DNS name, addresses and whether it runs
//	GMSASIM_DNS            host:port of the domain's DNS (SRV records of the DC locator)
//	GMSASIM_OUT            a directory the product writes into (kept across a check's runs)
//	GMSASIM_STATE_DIR      the world's state directory
//	GMSASIM_ADAPTER_DIR    the adapter file's directory
//
// The DCs listen on 127.0.0.1 with ephemeral ports; their DNS names do not resolve. A Kerberos
// client asks for ldap/dcN.contoso.com while it connects to 127.0.0.1:PORT (the rootDSE's
// dnsHostName names the DC it reached).
//
// Deliberately not covered: products that find the DC only through the system resolver (the
// suite cannot edit /etc/hosts; use GMSASIM_DNS), the GKDI path (a product deriving the password
// from the root key itself), Windows member hosts.
package conform
