// Package ldapsrv is the wire edge of a simulated domain controller: an LDAP (RFC 4511) server
// over github.com/vjeantet/ldapserver v1.0.1 and github.com/lor00x/goldap that only translates.
// It decodes a request, calls the Backend (the world, which serialises calls and applies simulated
// time) and encodes the answer. It is the only package importing those two libraries.
//
// What it does: anonymous and simple binds (the name — DN, UPN or CONTOSO\user — goes to the
// Backend as sent), SASL GSSAPI (RFC 4752) and GSS-SPNEGO (RFC 4178, [MS-SPNG]) binds with
// Kerberos when the Backend is a KerberosAcceptor (sasl.go: the AP-REQ checked by the Backend with
// the DC's keys at the world's time, the caller taken from the ticket's PAC, mutual authentication,
// saslBindInProgress steps, mechListMIC), RFC 4121 security layers after such a bind (sasllayer.go:
// every PDU a SASL buffer holding a CFX wrap token, signed or sealed; a sealed connection counts
// as encrypted for msDS-ManagedPassword), NTLM binds when the Backend is an NTLMAcceptor
// (ntlmbind.go, spnegontlm.go: Sicily package discovery, negotiate and response, and NTLM inside
// GSS-SPNEGO, NTLMv2 only through package ntlm, the account and its current groups from the
// Backend, AD's 8009030C "data 52e"/"data 533" texts) with NTLM session security after them when
// the client negotiated SIGN or SEAL (sealed counts as encrypted), AD's LDAP-signing refusal (Options.RequireSigning),
// LDAPS and StartTLS with a per-world CA (NewCA, CA.PEM, CA.ServerTLSConfig), search with every
// RFC 4515 filter including AD's extensible matches, attribute lists, typesOnly, size limits, the
// paged-results control (1.2.840.113556.1.4.319), the SD-flags control (1.2.840.113556.1.4.801),
// server-side sort (1.2.840.113556.1.4.473, RFC 2891, sort.go), add, modify, delete, modify DN,
// compare, the WhoAmI and StartTLS extended operations, abandon. Unknown critical controls answer
// unavailableCriticalExtension. One function (resultOf) turns *fakead.Error into LDAPResult fields.
//
// A SASL layer and TLS are never combined ([MS-ADTS] 5.1.2.1 and the SASL bind section: AD "does
// not permit the use of SASL-layer encryption/integrity verification mechanisms" on an SSL/TLS
// connection and rejects such a bind from Windows Server 2008 on): over TLS a GSSAPI bind is
// offered every layer, as a DC offers them, and a client choosing integrity or confidentiality (or
// a GSS-SPNEGO or NTLM bind asking for them) is refused with unwillingToPerform and 00002029
// "Cannot bind using sign/seal on a connection on which TLS or SSL is in effect"; StartTLS on a layered connection
// answers operationsError. (Divergence: the result code and DSID are ours; the spec gives none.)
//
// What it does not: SASL EXTERNAL and DIGEST-MD5 answer authMethodNotSupported; RFC 4757
// (RC4-HMAC) wrap tokens are not implemented, so a GSSAPI bind with an RC4 session key, or a
// signed/sealed SPNEGO one, is refused; no replay cache and no channel bindings for AP-REQs or
// NTLM (MsvAvChannelBindings is not checked, as on a DC not enforcing LDAP channel binding); no
// continuation references (a search base outside the DC's naming contexts does get AD's referral
// result), no VLV, DirSync, show-deleted or other AD controls
// (critical ones answer unavailableCriticalExtension; only paged results, SD flags, sort, domain
// scope and ManageDsaIT are accepted). Each difference from a Windows DC is marked "Divergence:".
//
// Per connection, requests run one at a time in arrival order; an Abandon request cancels a
// queued or running one (no response for it), except a request answered inline: on a quiet
// connection a simple bind or a search without controls is answered by the reading goroutine
// before it reads on (inline.go: the goroutine handoffs cost more CPU than the work), and
// nothing, an Abandon included, is read until it is answered (RFC 4511 4.11 lets the server
// complete it). Paged-search state (the rest of the result,
// projected for the caller) is kept on the connection with deterministic cookies. A cookie is
// good only on its connection and for the identity that started the search: any bind (of any
// outcome or method) drops every paged search of the connection, and a bad cookie — unknown,
// used, evicted, foreign, from before a bind — always gets the same protocolError answer.
//
// Limits (Options.Limits; AD's Default Query Policy by default, ParseQueryPolicy reads a
// queryPolicy's lDAPAdminLimits; [MS-ADTS] 3.1.1.3.4.6). The socket limits run on the wall clock,
// not the world's (a client's socket is real):
//
//   - InitRecvTimeout (from the accept to the first whole request) and TLSHandshakeTimeout (LDAPS
//     and StartTLS) close the connection without a word; MaxConnIdleTime (no request outstanding,
//     no traffic) closes it after a Notice of Disconnection (unavailable), as a DC does (KB
//     315071; deadline.go: read deadlines re-armed on expiry, so a timeout never cuts a PDU).
//   - MaxConnections counts LDAP and LDAPS together; at the limit a new connection closes the
//     longest-idle one (Notice of Disconnection, unavailable) and is served, as a DC "drops another
//     connection"; only when every connection has a request outstanding is the newcomer closed at
//     once (a Notice of Disconnection with busy on plain LDAP).
//   - MaxReceiveBuffer bounds a request PDU (Notice of Disconnection, protocolError).
//   - MaxPageSize bounds a page, and a search without paging: its first MaxPageSize entries, then
//     sizeLimitExceeded (a smaller client sizeLimit still applies); MaxResultSetsPerConn and MaxResultSetSize (4 bytes, a DNT, per
//     remaining entry, as a DC counts its result sets) bound the paged state a connection keeps
//     (oldest first out; a remainder larger than MaxResultSetSize alone answers
//     adminLimitExceeded); MaxQueryDuration ends a search with timeLimitExceeded.
//   - Ours: MaxPagedMemory bounds the bytes of paged state (the projected entries kept between
//     pages) across all connections; a connection's oldest states make room first, and a search
//     whose remainder still does not fit answers adminLimitExceeded before any entry is sent.
//   - Ours: MaxOutstanding bounds the requests a connection has read but not answered — the
//     reader waits for the writer, so a client pipelining without reading holds at most that many
//     requests in the server; WriteTimeout closes a connection whose client does not take its
//     answers. Server.Close closes the sockets under every goroutine, so nothing blocks it but
//     a Backend call in progress.
//
// Divergences in the limits: which connection a DC drops at MaxConnections is not documented (here
// the longest idle, and none that is busy); a DC keeps an index position per paged search, this
// server the projected entries, bounded by MaxPagedMemory besides AD's limits; the Backend search
// cannot be interrupted, so MaxQueryDuration is checked after it and between entries sent;
// MaxReceiveBuffer is capped at MaxReceiveBufferLimit (the library's 3 length octets); the
// remaining policies (MaxValRange, MaxActiveQueries, MaxPoolThreads, ...) are parsed, not
// enforced.
//
// The libraries' faults and the layer that fixes each (see shared/notes/ldap-kdc-deps.md):
//
//   - A first byte other than 0x30 panics the library's read loop and kills the process; short
//     reads (any PDU over its 4 KiB buffer, or split by TCP) misparse and then panic: framing.go
//     reads each PDU whole (io.ReadFull), bounds it (Limits.MaxReceiveBuffer), and hands the library the
//     header and the body in one Read each; it never returns (0, nil).
//   - goldap silently drops what it cannot decode and the client hangs: BOOLEAN TRUE as 0x01
//     (go-ldap's critical controls, typesOnly), extensible matches without dnAttributes, empty
//     and/or filters, non-minimal lengths, Sicily/NTLM auth choices (carried as SASL marker
//     mechanisms with the choice's octets as credentials). normalize.go rewrites those
//     into bytes goldap decodes and closes the connection (Notice of Disconnection, protocolError)
//     on anything still undecodable, on responses sent as requests and on nesting deeper than 64
//     (goldap recurses; a stack overflow is fatal, not a panic).
//   - Handler panics are not recovered by the library: handler.go recovers per request and closes
//     that connection only. Framing-layer panics are recovered in Read likewise.
//   - Stop() leaves the accept loop running and closing the listener makes the library dereference
//     a nil connection: server.go never calls Stop; its listener ends the accept goroutine with
//     runtime.Goexit after Close, and Close then closes every connection and waits for them.
//   - Pipelined requests run concurrently: conn.go serialises them per connection in arrival order.
//     The library also starts a goroutine per request read, without limit, and its writer blocks
//     for ever on a client that does not read: the framing layer stops reading at MaxOutstanding
//     unanswered requests and gives every write a deadline (WriteTimeout). The goroutine per
//     request starts with the smallest stack and a request grows it by copying: the handlers run
//     on one worker goroutine per connection instead (worker.go), or inline (inline.go).
//   - No disconnect hook: per-connection state lives on the framedConn.
//   - When a client stops sending (half-close, or after its last request) the library signals
//     Abandon to every running request, which would drop answers already owed: only a real
//     Abandon request cancels here (conn.go).
//   - StartTLS' SetConn races the writer goroutine: the framedConn swaps its transport itself,
//     after the StartTLS response is on the wire, and the library's buffers never change.
//   - No response controls, no ExtendedResponse value, no getters for ModifyDN, SASL mechanism,
//     extensible-match fields: goldapx.go (reflection, the decode trick, the chanOut route),
//     pinned by goldapx_test.go.
//   - goldap encodes INTEGERs without a sign octet, so a response to message ID 128 carries -128
//     and the client waits forever (go-ldap's 128th request on a connection): framing.go
//     re-encodes the messageID of every message written (inspectResponse).
//   - The library's global Logger prints every PDU, passwords included: silenced in init.
//
// CPU per request (bench/run.sh compares it with OpenLDAP slapd): on a quiet connection simple
// binds and control-free searches are answered by the reading goroutine (inline.go); a
// DER-encoded simple bind is decoded by hand (simplebind.go, fuzzed against goldap) and inline
// answers' entries and results encoded by hand (encode.go, byte for byte goldap's); plain TCP
// connections read and write with raw system calls (rawio_linux.go), which keeps the runtime's
// monitor thread asleep.
//
// The licences of both libraries are GPL-2.0.
package ldapsrv
