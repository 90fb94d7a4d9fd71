package main

import (
	"fmt"

	"github.com/go-ldap/ldap/v3"
	"github.com/go-ldap/ldap/v3/gssapi"
)

// newConnOp is an operation that costs a connection: dial, bind, one base search of user i,
// close — what a product that opens a connection per job (a keytab daemon's refresh, a PAM
// lookup) does. "connbind" binds with a simple bind as user i; "gssapi" with a SASL GSSAPI bind
// (RFC 4752) as user<w>, whose TGT and service ticket the worker's Kerberos client gets once and
// reuses, so the operation measures the server's AP-REQ verification, not the KDC. The worker's
// long-lived connection is not used.
func newConnOp(c *Config, w int) (opFunc, error) {
	bind := func(conn *ldap.Conn, i int) error { return conn.Bind(c.UserDN(i), c.UserPW) }
	if c.Op == "gssapi" {
		kc, err := gssapi.NewClientWithPassword(UserName(w), c.Realm, c.UserPW, c.Krb5Conf)
		if err != nil {
			return nil, fmt.Errorf("kerberos client for %s@%s: %w", UserName(w), c.Realm, err)
		}
		bind = func(conn *ldap.Conn, _ int) error {
			defer kc.DeleteSecContext()
			return conn.GSSAPIBind(kc, c.SPN, "")
		}
	}
	return func(_ *ldap.Conn, i int) error {
		conn, err := dialOnly(c)
		if err != nil {
			return err
		}
		defer conn.Close()
		if err := bind(conn, i); err != nil {
			return fmt.Errorf("%s bind for user %d: %w", c.Op, i, err)
		}
		req := ldap.NewSearchRequest(c.UserDN(i), ldap.ScopeBaseObject, ldap.NeverDerefAliases,
			0, 0, false, "(objectClass=*)", c.Attrs, nil)
		return expectOne(conn, req, c.UserDN(i))
	}, nil
}
