package ldapauth_test

import (
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/ldapauth"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

type chacha struct{ r *rand.ChaCha8 }

func (c chacha) Read(p []byte) (int, error) { return c.r.Read(p) }

// A Kerberos bind through the simulated DC's LDAP server over a real socket: sealed, WEB1$ reads
// ITFarm1's password over plain LDAP; signed-only and no layer get 0000202D; WhoAmI names WEB1$
// in every case; WEB3$ sealed gets the entry without the password.
func TestBindGSSAPIAgainstTheDC(t *testing.T) {
	w, _, err := sim.NewDefaultDomain(sim.Config{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := w.ServeLDAP("DC1", sim.LDAPOptions{LDAP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	kerberos := func(name string) ldapauth.Kerberos {
		c, err := host.LogonAccount(w, "DC1", name)
		if err != nil {
			t.Fatal(err)
		}
		return ldapauth.Kerberos{Realm: "CONTOSO.COM", CName: types.NewPrincipalName(1, name),
			Ticket: func(spn string) (messages.Ticket, types.EncryptionKey, error) {
				tk, err := c.ServiceTicket(spn)
				if err != nil {
					return messages.Ticket{}, types.EncryptionKey{}, err
				}
				m, k := tk.Credential()
				return m, k, nil
			},
			Now: w.Now, Rand: chacha{rand.NewChaCha8([32]byte{byte(len(name))})}}
	}
	read := func(name string, p ldapauth.Protection) (who string, pw []byte, err error) {
		nc, err := net.DialTimeout("tcp", srv.LDAPAddr().String(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := ldapauth.BindGSSAPI(nc, kerberos(name), "ldap/dc1.contoso.com", p)
		if err != nil {
			t.Fatalf("%s %s: bind: %v", name, p, err)
		}
		defer conn.Close()
		res, err := conn.WhoAmI(nil)
		if err != nil {
			t.Fatalf("%s %s: WhoAmI: %v", name, p, err)
		}
		sr, err := conn.Search(ldap.NewSearchRequest("DC=contoso,DC=com", ldap.ScopeWholeSubtree, 0, 0, 0, false,
			"(sAMAccountName=ITFarm1$)", []string{"msDS-ManagedPassword"}, nil))
		if err != nil {
			return res.AuthzID, nil, err
		}
		if len(sr.Entries) != 1 {
			t.Fatalf("%s %s: %d entries", name, p, len(sr.Entries))
		}
		return res.AuthzID, sr.Entries[0].GetRawAttributeValue("msDS-ManagedPassword"), nil
	}
	who, pw, err := read("WEB1$", ldapauth.Seal)
	if err != nil || who != `u:CONTOSO\WEB1$` || len(pw) != 290 {
		t.Fatalf("sealed: %q, %d bytes, %v", who, len(pw), err)
	}
	for _, p := range []ldapauth.Protection{ldapauth.Sign, ldapauth.None} {
		who, _, err := read("WEB1$", p)
		var le *ldap.Error
		if !errors.As(err, &le) || le.ResultCode != ldap.LDAPResultOperationsError || !strings.Contains(le.Error(), "0000202D") || who != `u:CONTOSO\WEB1$` {
			t.Errorf("%s: %q, %v (want 0000202D)", p, who, err)
		}
	}
	if _, pw, err := read("WEB3$", ldapauth.Seal); err != nil || len(pw) != 0 {
		t.Errorf("WEB3$ sealed: %d bytes, %v (want the entry without the password)", len(pw), err)
	}
}
