// Package keytab fetches a group managed service account's Kerberos keys from a domain controller
// and writes them as an MIT keytab, as a member host does that runs a service under a gMSA
// (gMSA on Linux: the host reads the password, derives the keys and keeps them in a keytab).
//
// Fetch speaks LDAP only (go-ldap): it binds as the host over LDAPS or StartTLS, reads the
// account's msDS-ManagedPassword ([MS-ADTS] 2.2.19, MSDS-MANAGEDPASSWORD_BLOB), its
// msDS-KeyVersionNumber and servicePrincipalName, and derives the keys with the public algorithms
// (RFC 3962 AES keys with the machine-account salt, the NT hash for RC4-HMAC, RFC 4757) from
// package fakekds. It works against a real domain controller as against `gmsasim serve`; it
// imports nothing of the simulator (sim, fakead, scenarios).
//
// The keytab is the MIT file format, version 0x502, as krb5's kt_file.c reads it: one entry per
// principal (the account name and each SPN), key version and encryption type (aes256, aes128, rc4).
// When the DC returns the previous password too, its keys are written under kvno-1, so tickets
// issued just before a rotation still decrypt.
//
// Deliberately not covered: the GKDI path (a client deriving the password from the KDS root key
// itself, [MS-GKDI]); DES keys; the keytab formats before 0x502; choosing a DC by DNS SRV lookup.
package keytab
