package scenarios

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/ldapauth"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// The `ldap` probe with auth=simple|kerberos|ntlm goes over the wire: the DC's LDAP server (the
// one `gmsasim serve` runs) listens on loopback for the scenario, and the principal's client
// binds as a Windows client does — a simple bind with its password, a SASL GSSAPI bind with a
// service ticket from the DC's KDC (a member host uses its own logon's TGT, so its group
// snapshot is the one of its last boot), or NTLM — and protects the connection as asked:
// protect=none, sign or seal (a SASL security layer), or tls (LDAPS). What the DC decides —
// who the caller is, whether the connection is encrypted enough for msDS-ManagedPassword — is
// decided by the same code as for any client of serve.
//
// Runs across real sockets have deterministic time (the world's) but Go's scheduling: the probe
// waits for each answer, so its output is deterministic; its trace lines are the server's.

// wireLDAP is the runner's LDAP servers, one per DC probed, and the CA of their certificates.
type wireLDAP struct {
	ca      *ldapsrv.CA
	roots   *x509.CertPool
	servers map[string]*ldapsrv.Server
}

func (r *runner) closeWire() {
	if r.wire == nil {
		return
	}
	for _, s := range r.wire.servers {
		s.Close()
	}
	r.wire = nil
}

// server is dc's LDAP server, started on first use.
func (r *runner) ldapServer(dc string) (*ldapsrv.Server, error) {
	if r.wire == nil {
		ca, err := ldapsrv.NewCA(r.w.Rand("scenario/ldap-ca"))
		if err != nil {
			return nil, err
		}
		roots := x509.NewCertPool()
		roots.AddCert(ca.Certificate())
		r.wire = &wireLDAP{ca: ca, roots: roots, servers: map[string]*ldapsrv.Server{}}
	}
	key := strings.ToUpper(dc)
	if s, ok := r.wire.servers[key]; ok {
		return s, nil
	}
	s, err := r.w.ServeLDAP(dc, sim.LDAPOptions{CA: r.wire.ca, LDAP: "127.0.0.1:0", LDAPS: "127.0.0.1:0"})
	if err != nil {
		return nil, err
	}
	r.wire.servers[key] = s
	return s, nil
}

// probeAuths and probeProtects are the values the probe's auth= and protect= take.
func probeAuths() []string    { return []string{"simple", "kerberos", "ntlm"} }
func probeProtects() []string { return []string{"none", "sign", "seal", "tls"} }

// wireSearch binds as `as` to dc's LDAP server with auth and protect and reads the base object
// dn. A refused bind or search is returned as *ldap.Error.
func (r *runner) wireSearch(dc, as, auth, protect, dn string, attrs []string) (*ldap.Entry, error) {
	srv, err := r.ldapServer(dc)
	if err != nil {
		return nil, err
	}
	addr := srv.LDAPAddr().String()
	if protect == "tls" {
		addr = srv.LDAPSAddr().String()
	}
	raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	nc := raw
	if protect == "tls" {
		tc := tls.Client(raw, &tls.Config{RootCAs: r.wire.roots, ServerName: r.w.DCDNSName(dc), MinVersion: tls.VersionTLS12})
		if err := tc.Handshake(); err != nil {
			raw.Close()
			return nil, err
		}
		nc = tc
	}
	conn, err := r.wireBind(nc, dc, as, auth, protect)
	if err != nil {
		nc.Close()
		return nil, err
	}
	defer conn.Close()
	res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", attrs, nil))
	if err != nil {
		return nil, err
	}
	if len(res.Entries) == 0 {
		return nil, nil
	}
	return res.Entries[0], nil
}

func (r *runner) wireBind(nc net.Conn, dc, as, auth, protect string) (*ldap.Conn, error) {
	layer := ldapauth.None
	switch protect {
	case "sign":
		layer = ldapauth.Sign
	case "seal":
		layer = ldapauth.Seal
	}
	switch auth {
	case "kerberos":
		k, err := r.kerberosOf(dc, as)
		if err != nil {
			return nil, err
		}
		return ldapauth.BindGSSAPI(nc, k, "ldap/"+r.w.DCDNSName(dc), layer)
	case "ntlm":
		if layer != ldapauth.None {
			return nil, fmt.Errorf("protect=%s with auth=ntlm: the probe's NTLM client (go-ldap's) does not sign or seal; use kerberos, or tls", protect)
		}
		a, err := r.account(dc, as)
		if err != nil {
			return nil, err
		}
		conn := ldap.NewConn(nc, protect == "tls")
		conn.Start()
		if err := conn.NTLMBindWithHash(r.w.Config().NetBIOS, a.SAMAccountName, fmt.Sprintf("%x", a.Keys.NTHash)); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	default: // simple
		if layer != ldapauth.None {
			return nil, fmt.Errorf("protect=%s with auth=simple: a simple bind has no security layer; use tls", protect)
		}
		pw, err := r.passwordOf(dc, as)
		if err != nil {
			return nil, err
		}
		conn := ldap.NewConn(nc, protect == "tls")
		conn.Start()
		if err := conn.Bind(as+"@"+r.w.Config().Domain, pw); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
}

// kerberosOf is the principal's Kerberos client: a member host with its own logon (its TGT and
// the group snapshot in it), anyone else logged on with the key the directory stores.
func (r *runner) kerberosOf(dc, as string) (ldapauth.Kerberos, error) {
	realm := strings.ToUpper(r.w.Config().Domain)
	var ticket func(spn string) (*host.Ticket, error)
	var name string
	if h := r.host(strings.TrimSuffix(as, "$")); h != nil {
		ticket, name = h.ServiceTicket, h.SAMAccountName()
	} else {
		c, err := host.LogonAccount(r.w, dc, as)
		if err != nil {
			return ldapauth.Kerberos{}, err
		}
		a, err := r.account(dc, as)
		if err != nil {
			return ldapauth.Kerberos{}, err
		}
		ticket, name = c.ServiceTicket, a.SAMAccountName
	}
	var skew time.Duration
	return ldapauth.Kerberos{
		Realm: realm,
		CName: types.NewPrincipalName(1, name), // KRB_NT_PRINCIPAL
		Ticket: func(spn string) (messages.Ticket, types.EncryptionKey, error) {
			t, err := ticket(spn)
			if err != nil {
				return messages.Ticket{}, types.EncryptionKey{}, err
			}
			skew = t.ClockSkew()
			tkt, key := t.Credential()
			return tkt, key, nil
		},
		Now:  func() time.Time { return r.w.Now().Add(skew) },
		Rand: r.w.Rand("scenario/ldap-probe"),
	}, nil
}

func (r *runner) account(dc, as string) (*fakead.Account, error) {
	var a *fakead.Account
	err := r.w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		acct, ok := d.Account(as)
		if !ok {
			return fmt.Errorf("principal %q does not exist on %s", as, d.DC().Name)
		}
		a = acct
		return nil
	})
	return a, err
}

// passwordOf is what the probe's simple bind sends: a member host's machine password, the
// password the world block gave a user.
func (r *runner) passwordOf(dc, as string) (string, error) {
	if h := r.host(strings.TrimSuffix(as, "$")); h != nil {
		return h.MachinePassword(), nil
	}
	a, err := r.account(dc, as)
	if err != nil {
		return "", err
	}
	if r.ws != nil && r.ws.hasUser(a.SAMAccountName) {
		return userPassword(a.SAMAccountName), nil
	}
	if strings.EqualFold(a.SAMAccountName, "Administrator") {
		return r.w.Config().AdminPassword, nil
	}
	if r.ws == nil {
		// A world built in Go (Attach) has no world block: a user's password is taken to be the
		// one the scenario language gives its users; a wrong guess is the DC's invalidCredentials.
		return userPassword(a.SAMAccountName), nil
	}
	return "", fmt.Errorf("auth=simple as %s: the scenario does not know its password (users of the world block, member hosts and Administrator have one); use kerberos or ntlm", as)
}

// wireErrText is an LDAP error as the in-process probe prints it: code name (number): diagnostic.
func wireErrText(err error) string {
	var le *ldap.Error
	if errors.As(err, &le) {
		s := fmt.Sprintf("%s (%d)", fakead.ResultCode(le.ResultCode), le.ResultCode)
		if le.Err != nil {
			if d := strings.TrimSpace(le.Err.Error()); d != "" {
				s += ": " + d
			}
		}
		return s
	}
	return err.Error()
}
