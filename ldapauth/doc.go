// Package ldapauth binds go-ldap connections the way Windows gMSA consumers do: a SASL GSSAPI
// bind (RFC 4752) with a Kerberos service ticket, mutual authentication, and the security layer
// the caller asks for — none, integrity (signing) or confidentiality (sealing) — after which
// every LDAP message on the connection travels as an RFC 4121 wrap token (package gss).
//
// go-ldap's own GSSAPIBind always declines a security layer; a Windows member host reading
// msDS-ManagedPassword over ldap:// seals, and a DC refuses the password to an unsealed, non-TLS
// connection. This package is the client side of that path, for the simulator's scenario probes
// and for a Go program talking to a real DC. It imports no simulator package: the ticket comes
// from a Kerberos type the caller fills (FromGokrb5 for a gokrb5 client; the simulator's KDC for
// a probe), and time and randomness are the caller's.
package ldapauth
