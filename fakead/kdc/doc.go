// Package kdc is the Kerberos KDC of a simulated domain controller: it answers AS and TGS
// requests ([RFC 4120], with AD's behaviour from [MS-KILE]) from the accounts of one replica, at
// the world's (simulated) time, over real UDP and TCP sockets. It is the only package that builds
// Kerberos replies; it uses gokrb5 v8's message types and crypto, and draws session keys and
// confounders from a seeded stream handed in, so a KDC inside the world loop is deterministic.
//
// # Shape
//
//   - KDC.Handle(now, request) → reply is pure: AS-REQ or TGS-REQ in, AS-REP, TGS-REP or
//     KRB-ERROR out, nil for input not worth an answer. It never panics. KDC.Exchange also says
//     what happened (for the trace).
//   - Principals is the account database. Directory adapts a *fakead.Directory using only its
//     exported API: Account / AccountAt (keys, kvno, SPNs, userAccountControl,
//     msDS-SupportedEncryptionTypes, a gMSA's managed-password keys), a SYSTEM search for
//     primaryGroupID, and TokenGroups for the group snapshot (the PAC). Lookups are memoised per
//     replica state (HighestUSN); a gMSA's also only until its managed password's read view can
//     change (fakead.GMSAAccount.StableUntil, at the latest its next rotation).
//   - Requests (AS-REQ, TGS-REQ), a TGS-REQ's AP-REQ, the TGT's and authenticator's decrypted
//     parts, and an AS-REQ's PA-ENC-TIMESTAMP and the PA-ENC-TS-ENC inside it are decoded by a
//     direct DER decoder that gives gokrb5's structs for canonical DER and hands anything else to
//     gokrb5's Unmarshal, so the KDC accepts exactly what gokrb5 accepts (tested and fuzzed
//     against it); where gokrb5 panics (a malformed additional-tickets) the request does not
//     decode. Replies are written by a direct DER encoder (byte for byte gofork's asn1.Marshal)
//     and AES-CTS runs over a key schedule kept with each memoised derived key.
//   - Server listens on UDP and TCP (4-byte length prefix) and runs every request through an
//     Exec, the world's serialising executor (sim hands in a closure over World.ExecOn; this
//     package does not import sim). Messages are bounded (MaxMessageSize), a panic ends only its
//     connection, and garbage gets no answer or a KRB-ERROR (see Network limits).
//   - WriteKrb5Conf writes a krb5.conf for MIT tools; TicketGroups / TicketSnapshot read the
//     group snapshot a ticket's PAC carries.
//   - The in-process client for simulated hosts and users, inside the world loop: KDC.Logon (a
//     pre-authenticated AS exchange with a long-term key, at the world's time),
//     KDC.ServiceTicket (TGS exchange), KDC.Renew, and AcceptTicket, the service side, which decrypts a
//     ticket with the first of the keys it holds (current, previous) and checks its times. Their
//     ...At forms (LogonAt, ServiceTicketAt, RenewAt, AcceptTicketAt) take the client's clock
//     apart from the KDC's or the service's, for a host whose clock is off: more than 5 minutes
//     apart is KRB_AP_ERR_SKEW.
//     KDC.Snapshot reads the group snapshot of a logon from its TGT's PAC. They go through
//     Exchange, the path requests off the wire take.
//
// # Network limits
//
// The server must stay up and answer real clients while hostile ones connect ([RFC 4120] 7.2):
//
//   - UDP: a datagram that does not decode as an AS-REQ or TGS-REQ (one byte, a truncated
//     request, anything else) is dropped, with no reply, and counted (ServerStats.UDPDropped): a
//     KDC that answered garbage would amplify traffic sent with a forged source address. A
//     request that decodes gets its reply even when it is a KRB-ERROR (an unknown principal, a
//     wrong realm); such a reply is at most a small multiple of the request (about 1.5 times for
//     the smallest), and never more than MaxUDPReply bytes (larger ones become
//     KRB_ERR_RESPONSE_TOO_BIG, so the client retries over TCP).
//   - TCP: a frame whose length is zero, has the high bit set or exceeds MaxMessageSize ends the
//     connection before anything is allocated, so a connection holds at most one message of
//     MaxMessageSize besides its 4 KiB read buffer; so does a body that is not an AS-REQ or TGS-REQ. An AS-REQ or TGS-REQ that
//     does not decode gets KRB_ERR_GENERIC, since TCP, whose handshake proves the peer's address,
//     amplifies nothing.
//   - A TCP connection with no message in progress is closed after IdleTimeout (30 s); one whose
//     message, once begun, is not complete within ReadTimeout (10 s), or whose reply cannot be
//     written within WriteTimeout (10 s), is closed too.
//   - At most MaxConns (256) TCP connections. A newcomer past the cap takes the place of the
//     connection idle longest, else of the one whose partial message began first, as MIT
//     krb5kdc drops its least recently used connection; it is closed only when every connection
//     is being answered (inside Exec or writing its reply, both bounded). So idle or stalled
//     clients cannot lock others out.
//   - Server.Close closes every socket, which ends any read or write at once: it waits only for
//     requests already inside Exec, however many connections are open, idle or stalled.
//
// # What is modelled
//
//   - AS exchange: PA-ENC-TIMESTAMP pre-authentication; KDC_ERR_PREAUTH_REQUIRED with
//     PA-ETYPE-INFO2 (etypes in the client's order, AD salts: users REALM+sAMAccountName,
//     computers and gMSAs REALM+"host"+name+"."+domain) and PA-ENC-TIMESTAMP; PA-ETYPE-INFO2 in
//     the AS-REP. Etypes AES256 (18), AES128 (17) and RC4-HMAC (23), filtered by
//     msDS-SupportedEncryptionTypes. Errors: C_PRINCIPAL_UNKNOWN (6), S_PRINCIPAL_UNKNOWN (7),
//     ETYPE_NOSUPP (14), CLIENT_REVOKED (18, userAccountControl ACCOUNTDISABLE), PREAUTH_FAILED
//     (24), PREAUTH_REQUIRED (25), KRB_AP_ERR_SKEW (37, more than 5 minutes from the DC's clock),
//     WRONG_REALM (68).
//   - Etypes of service tickets and session keys follow the service's
//     msDS-SupportedEncryptionTypes; without it, DefaultDomainSupportedEncTypes (0x27) as AD since
//     November 2022: an RC4 ticket with an AES session key (AES-SK). The krbtgt account always
//     uses its strongest key.
//   - TGS exchange: PA-TGS-REQ with the TGT (decrypted with the krbtgt account's current key),
//     the authenticator checked (names, skew, ticket expiry), a TGT older than 20 minutes checked
//     against the client's account (deleted: C_PRINCIPAL_UNKNOWN, disabled: CLIENT_REVOKED,
//     [MS-KILE] 3.3.5.7.1); the service found by
//     servicePrincipalName, by sAMAccountName, or by a computer's implicit host/NAME and
//     host/name.domain (and the classes AD maps to host/, such as http and cifs); the ticket
//     encrypted with the service's current key and kvno (msDS-KeyVersionNumber); the reply with
//     the authenticator's subkey when there is one.
//   - Flags: INITIAL and PRE-AUTHENT on TGTs; FORWARDABLE when asked for (never for accounts
//     marked NOT_DELEGATED); RENEWABLE when asked for (renewable or renewable-ok); OK-AS-DELEGATE
//     on tickets to accounts with TRUSTED_FOR_DELEGATION (0x80000). Lifetimes: 10 hours, renewable
//     for 7 days, capped by the TGT's, on the world's clock.
//   - gMSAs: a gMSA logs on with its own keys (outbound authentication); one without an SPN
//     (RestrictToOutboundAuthenticationOnly) is no service: S_PRINCIPAL_UNKNOWN. Its keys are those
//     of its current managed password as the DC computes it at the request's time
//     (fakead.Directory.AccountAt, which performs the lazy rotation), with the kvno that goes with
//     them; Principal.PreviousKeys holds the previous password's keys when the directory gives
//     them, for service hosts (AcceptTicket).
//   - The PAC ([MS-PAC]) as the group snapshot: the security groups (transitively) of the client
//     when its TGT is issued go in a PAC (AD-IF-RELEVANT { AD-WIN2K-PAC }: KERB_VALIDATION_INFO
//     with the user RID, primary group and domain group RIDs, other SIDs such as BUILTIN as
//     ExtraSids; PAC_CLIENT_INFO; server and KDC signatures, HMAC-SHA1-96 for AES keys and
//     HMAC-MD5 for RC4). The TGS copies it into every service ticket obtained with that TGT and
//     signs it for the service, so a host keeps its logon's groups until it logs on again.
//     TicketSnapshot reads it back with gokrb5's PAC decoder, which checks the server signature.
//
// # What is not modelled
//
//   - In the PAC: UPN_DNS_INFO, PAC_ATTRIBUTES_INFO, PAC_REQUESTOR, the ticket signature,
//     claims, resource groups (domain-local groups of the service's domain), PA-PAC-REQUEST.
//   - FAST armoring, S4U2Self/S4U2Proxy, constrained and resource-based delegation, user-to-user,
//     validation requests and renewal of service tickets (KDC_ERR_BADOPTION), cross-realm
//     referrals, PKINIT. TGTs are renewed (RENEW) within their renew-till.
//   - Account lockout, password and account expiry, logon hours (also in the re-check of a TGT
//     older than 20 minutes, which covers a deleted or disabled account), replay caches, and the
//     checksum over the TGS request body.
//
// Deliberate differences from AD are marked "Divergence:" in the source.
//
// [RFC 4120]: https://www.rfc-editor.org/rfc/rfc4120
// [MS-KILE]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-kile
package kdc
