package sim

import (
	"fmt"
	"strings"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// LDAPOptions say how ServeLDAP serves a DC.
type LDAPOptions struct {
	// CA issues the DC's server certificate (for DCDNSName). Nil: no TLS, so no LDAPS, no StartTLS
	// and no msDS-ManagedPassword.
	CA *ldapsrv.CA
	// LDAP and LDAPS are the listen addresses ("127.0.0.1:0" for any free port); "" does not listen.
	LDAP, LDAPS string
	// RequireSigning refuses simple binds over plain LDAP and SASL/NTLM binds without signing or
	// sealing, as a DC enforcing LDAP signing.
	RequireSigning bool
}

// DCDNSName is a DC's DNS host name: "dc1.contoso.com" for DC1 of contoso.com.
func (w *World) DCDNSName(dc string) string {
	return strings.ToLower(dc) + "." + strings.ToLower(w.cfg.Domain)
}

// ServeLDAP starts an LDAP server over dc's replica (Backend): its certificate from o.CA, its
// limits from the DC's Default Query Policy, read from its configuration partition as a Windows DC
// reads them (an administrator's change to lDAPAdminLimits applies at the next start), listening
// on o.LDAP and o.LDAPS. Close the server when done.
func (w *World) ServeLDAP(dc string, o LDAPOptions) (*ldapsrv.Server, error) {
	d, err := w.lookup(dc)
	if err != nil {
		return nil, err
	}
	opts := ldapsrv.Options{RequireSigning: o.RequireSigning}
	if o.CA != nil {
		if opts.TLS, err = o.CA.ServerTLSConfig(w.DCDNSName(d.name)); err != nil {
			return nil, fmt.Errorf("issue the server certificate of %s: %w", d.name, err)
		}
	}
	policy, err := w.QueryPolicy(d.name)
	if err != nil {
		return nil, err
	}
	if opts.Limits, err = ldapsrv.ParseQueryPolicy(policy); err != nil {
		return nil, fmt.Errorf("the Default Query Policy of %s: %w", d.name, err)
	}
	srv := ldapsrv.New(w.Backend(d.name), opts)
	if o.LDAP != "" {
		if err := srv.ListenLDAP(o.LDAP); err != nil {
			srv.Close()
			return nil, fmt.Errorf("listen for LDAP on %s: %w", o.LDAP, err)
		}
	}
	if o.LDAPS != "" {
		if err := srv.ListenLDAPS(o.LDAPS); err != nil {
			srv.Close()
			return nil, fmt.Errorf("listen for LDAPS on %s: %w", o.LDAPS, err)
		}
	}
	return srv, nil
}
