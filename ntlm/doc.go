// Package ntlm is the accepting (server) side of NTLM as the simulated domain controller's LDAP
// server needs it: [MS-NLMP] message codecs, NTLMv2 verification against an account's NT hash,
// and the session security (signing and sealing) that follows the bind.
//
// It imports the standard library and golang.org/x/crypto/md4 only, and nothing of the simulator:
// the caller supplies the clock (ServerConfig.Now, the simulator's virtual one), the randomness
// (ServerConfig.Rand, a named stream of the world's seed) and the accounts (a LookupFunc returning
// an NT hash). There is no time.Now and no crypto/rand in the package, so a handshake replays
// bit for bit.
//
// # What it follows
//
//   - [MS-NLMP] 2.2.1.1-2.2.1.3 (NEGOTIATE, CHALLENGE, AUTHENTICATE), 2.2.2.1 (AV_PAIR),
//     2.2.2.5 (flags), 2.2.2.9.1 (message signature).
//   - [MS-NLMP] 3.2.5.1.1: the CHALLENGE_MESSAGE offers SIGN, SEAL, ALWAYS_SIGN, KEY_EXCH, 128, 56,
//     EXTENDED_SESSIONSECURITY and IDENTIFY only when the client asked; always NTLM, TARGET_INFO
//     and VERSION (10.0.17763, revision 15); UNICODE if asked, else OEM; TargetName is the NetBIOS
//     domain with TARGET_TYPE_DOMAIN when REQUEST_TARGET is asked. TargetInfo lists, in a DC's
//     order, MsvAvNbDomainName, MsvAvNbComputerName, MsvAvDnsDomainName, MsvAvDnsComputerName,
//     MsvAvDnsTreeName, MsvAvTimestamp, MsvAvEOL.
//   - [MS-NLMP] 3.3.2 and 3.2.5.1.2: NTOWFv2, the NTProofStr check, SessionBaseKey = KeyExchangeKey,
//     ExportedSessionKey = RC4K(KeyExchangeKey, EncryptedRandomSessionKey) under KEY_EXCH, and the
//     MIC (HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE with the MIC
//     zeroed), the 16 bytes at offset 72) whenever MsvAvFlags has bit 0x2.
//   - [MS-NLMP] 3.4.2-3.4.5 with extended session security: SIGNKEY and SEALKEY per direction
//     (128-, 56- or 40-bit seal keys per the 128 and 56 flags), one RC4 stream and one sequence
//     number per direction from 0, the checksum RC4-encrypted under KEY_EXCH.
//
// The negotiated flags are the CHALLENGE_MESSAGE's that the client kept in its
// AUTHENTICATE_MESSAGE. A client that keeps KEY_EXCH but sends no EncryptedRandomSessionKey gets no
// key exchange.
//
// # What it refuses or leaves out
//
//   - NTLMv1 and LM: a 24-byte NT response, or an LM response without an NT response, is
//     ErrNTLMv1Refused, as from a DC whose LAN Manager authentication level is the 2019+ default
//     ("Send NTLMv2 response only. Refuse LM & NTLM" on the DC side). The LM response that
//     accompanies an NTLMv2 response (LMv2, or 24 zero bytes) is ignored: only the NTLMv2 response
//     is verified. (Divergence, possibly: Samba also accepts a client whose LMv2 response alone
//     matches; whether a DC does was not checked.)
//   - Session security without EXTENDED_SESSIONSECURITY (NTLMv1's RC4-over-the-session-key and
//     CRC32 checksums): Challenge returns ErrUnsupported for a NEGOTIATE asking SIGN or SEAL
//     without ESS. No client of the simulator does that.
//   - Connectionless (DATAGRAM) NTLM: the flag is never offered.
//   - Anonymous: an empty NT response with an empty or one-zero-byte LM response is ErrAnonymous
//     unless ServerConfig.AllowAnonymous, which yields a Session with Anonymous set and no keys.
//
// Divergence: MsvAvChannelBindings and MsvAvTargetName are not checked; a DC checks channel
// bindings only when LDAP channel binding is enforced (not the default) and the SPN only under a
// non-default "server SPN target name validation" policy.
//
// Divergence: the NTLMv2 timestamp is checked only when ServerConfig.MaxClockSkew is positive (see
// there). [MS-NLMP] 3.2.5.1.2 says the server SHOULD fail a timestamp more than MaxLifetime from its
// time; python ldap3 stamps its own wall clock rather than echoing MsvAvTimestamp, so against the
// virtual clock the check would refuse it. Replays are prevented anyway: a Server issues one
// challenge and accepts one answer.
//
// Divergence: the domain is taken as the client wrote it for NTOWFv2 and handed to the LookupFunc
// as is; Samba additionally retries with the upper-cased and the empty domain for broken clients.
//
// # Using it in the LDAP server
//
// One Server per bind attempt (a connection may bind again: make a new one):
//
//	srv := ntlm.NewServer(ntlm.ServerConfig{NetBIOSDomain: "CONTOSO", NetBIOSComputer: "DC1",
//		DNSDomain: "contoso.com", DNSComputer: "DC1.contoso.com", Now: now, Rand: rnd})
//	challenge, err := srv.Challenge(negotiate)          // raw NTLMSSP type 1 in, type 2 out
//	sess, err := srv.Authenticate(authenticate, lookup) // raw NTLMSSP type 3 in
//
// Sicily ([MS-ADTS] 5.1.1.1.3; BindRequest AuthenticationChoice tags as ldap3's
// protocol/rfc4511.py declares them, context-specific primitive OCTET STRINGs):
//
//   - [9] sicilyPackageDiscovery (empty): answer a BindResponse with resultCode success and the
//     semicolon-separated package list in the matchedDN field. python ldap3 sends this first and
//     proceeds only if "NTLM" is in the list (core/connection.py); go-ldap and impacket skip it.
//   - [10] sicilyNegotiate, the NEGOTIATE_MESSAGE: answer success with the CHALLENGE_MESSAGE bytes
//     as the matchedDN field (ldap3 reads matchedDN as server_creds in operation/bind.py; impacket
//     reads bindResponse['matchedDN']; go-ldap's NTLMChallengeBind takes the BindResponse's second
//     child and requires it to start with "NTLMSSP"). The bind name is "NTLM" from ldap3, the user
//     from impacket, empty from go-ldap: ignore it.
//   - [11] sicilyResponse, the AUTHENTICATE_MESSAGE: answer success, or invalidCredentials (49) for
//     any error here (AD's diagnostic text is "80090308: LdapErr: ... AcceptSecurityContext error,
//     data 52e, ..." for bad credentials).
//
// go-ldap's NTLMBind(domain, user, password) puts the domain only into the NEGOTIATE_MESSAGE; the
// AUTHENTICATE_MESSAGE then carries an empty domain (user "alice") unless the user is written
// "CONTOSO\alice". A LookupFunc must accept the empty domain, the NetBIOS and the DNS domain name,
// and a UPN as the user.
//
// GSS-SPNEGO (SASL mechanism "GSS-SPNEGO", [MS-SPNG]): the NTLM mechType OID is
// 1.3.6.1.4.1.311.2.2.10 (DER 06 0a 2b 06 01 04 01 82 37 02 02 0a) inside SPNEGO (1.3.6.1.5.5.2). The
// credentials are a NegTokenInit/NegTokenResp carrying the NTLM token as mechToken/responseToken,
// or the raw NTLMSSP token itself (Metasploit's LDAP client sends raw NTLMSSP as GSS-SPNEGO
// credentials and finds the challenge by searching the reply for "NTLMSSP"). Reply
// saslBindInProgress (14) with the challenge in serverSaslCreds, then success. This package has no
// SPNEGO codec: unwrap to the NTLMSSP bytes first. (gokrb5/v8/spnego's SPNEGOToken and
// NegTokenResp frame NTLM tokens too, but importing that package needs
// github.com/jcmturner/goidentity/v6, which go.mod does not list; encoding/asn1 with explicit
// tags 0-3 is enough for NegTokenInit and NegTokenResp.) When the client's final NegTokenResp
// carries a mechListMIC ([RFC 4178] 5, [MS-SPNG]), it is an NTLM signature (Session.Verify) over
// the DER of the client's mechTypes list, and the server's accept-completed reply carries its own
// (Session.Sign over the same bytes). Each takes sequence number 0 of its direction; then that
// direction's RC4 stream restarts (Session.ResetInboundRC4 after Verify, Session.ResetOutboundRC4
// after Sign) while the sequence numbers go on at 1: [MS-SPNG] wants the first application message
// under the same RC4 state as the mechListMIC, and pyspnego does exactly this
// (_reset_ntlm_crypto_state resets the handle only). Not exercised against a real client here.
//
// Sealing on LDAP: after a bind that negotiated SEAL (or SIGN), every LDAP PDU in both directions
// travels in a SASL security-layer buffer ([RFC 4422] 3.7): a 4-byte big-endian length N, then N
// bytes, which are the 16-byte NTLMSSP_MESSAGE_SIGNATURE followed by the sealed LDAP message, that
// is Session.Wrap's output; Session.Unwrap takes those N bytes. One buffer may hold several LDAP
// messages. Sources: rapid7/metasploit-framework lib/rex/proto/ldap.rb (read_ber reads 4 bytes,
// unpack('N'), then that many, decrypts, and parses every BER element in the plaintext) and
// lib/metasploit/framework/ldap/client.rb (NtlmEncryptor#write returns signature + sealed message;
// #read takes bytes 0..15 as the signature and unseals the rest); the signature/sealed layout and
// the per-direction keys and sequence numbers agree with impacket's ntlm.SEAL, which this package's
// tests check byte for byte. Not verified: the sign-only layout (Wrap puts the signature before the
// message in the clear, by analogy), and whether Windows applies session security after a Sicily
// bind; none of the three clients asks for it there (ldap3 2.9.1's NEGOTIATE flags are
// 0xa0088207, impacket's LDAPConnection.login uses getNTLMSSPType1 with signingRequired=False,
// go-ntlmssp never signs and refuses KEY_EXCH).
//
// Interop note: on OpenSSL 3 (Debian 12, 13) hashlib has no MD4, so python ldap3's NTLM fails with
// a plaintext password unless the "Crypto" package is installed; ldap3 accepts the password as
// "LMHASH:NTHASH" (32 hex each) and then needs no MD4.
package ntlm
