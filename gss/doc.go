// Package gss is the per-message half of the Kerberos GSS-API mechanism that LDAP's SASL security
// layers use: RFC 4121 wrap tokens (integrity only, or sealed) for AES session keys, and the RFC
// 4752 section 3.1 security-layer negotiation message. The LDAP server (fakead/ldapsrv) and LDAP
// clients (the scenario probe, a product's own code) use the same code on their two sides.
//
// It depends on the standard library and gokrb5's crypto only: no simulator package. Randomness
// (the confounder of a sealed token) comes from an io.Reader the caller owns, so a simulated
// world's traffic replays from its seed.
//
// Not here: RC4-HMAC's RFC 4757 wrap tokens (sessions with an RC4 key get ErrEtype: the
// simulated KDC issues AES session keys, as a DC does to any client that offers AES), MIC tokens,
// and the context establishment itself (AP-REQ/AP-REP, which gokrb5's spnego.KRB5Token frames).
package gss
