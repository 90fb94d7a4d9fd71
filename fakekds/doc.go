// Package fakekds is the Key Distribution Service of gmsasim: KDS root keys, GKDI seed keys,
// gMSA passwords and their ids, the msDS-ManagedPassword blob, the NT hash and the Kerberos
// keys — bit for bit what a Windows domain controller computes from the same root key, SID and
// time.
//
// It is pure: no I/O, no goroutines, no clock and no randomness of its own. Time is an argument
// (ad.FileTime, 100 ns ticks since 1601), randomness is an io.Reader handed in (the world's
// seeded stream). fakekds does not import fakead; fakead calls it to create root keys, to pick
// the first password id of a new gMSA and to construct msDS-ManagedPassword on read.
//
// # What it follows
//
//   - [MS-GKDI] 3.1.4.1.1–3.1.4.1.2: root-key creation, the SP 800-108 counter-mode KDF
//     (HMAC-SHA1/256/384/512, from msKds-KDFParam; SHA256 when absent) and the
//     L0 → L1(31, with the target security descriptor) → L1(n) → L2(31) → L2(m) chain.
//   - [MS-ADTS] 3.1.1.4.5.39 (msDS-ManagedPassword): GmsaSD(), the "GMSA PASSWORD" KDF over
//     the binary SID, PostProcessPasswordBuffer; [MS-ADTS] 2.2.19 MSDS-MANAGEDPASSWORD_BLOB.
//   - KeyEnvelope (msDS-ManagedPasswordId) as laid out by Samba's gkdi.idl and DSInternals.
//   - RFC 3961/3962 string-to-key for the AES keys; MD4 for the NT hash.
//   - Timing (lazy rollover on the 10-hour grid, previous password, last-5-minutes window,
//     Query/Unchanged intervals) as Samba implements [MS-ADTS] 3.1.1.4.5.39 and tests it
//     against Windows; see shared/notes/gkdi.md for sources and confidence.
//
// Every vector in the tests was produced by Windows (GoldenGMSA, DSInternals via kdscli.dll)
// or checked against Windows by Samba; none was produced by this package.
//
// # How fakead and sim use it
//
//   - Add-KdsRootKey: AddKdsRootKey(worldStream, now, dcDN, opts), then RootKey.Attributes()
//     for the LDAP add below RootKeyContainerRDNs; ParseRootKey reads a replica's entries back.
//   - New-ADServiceAccount: Policy.NewAccountID(keysOnThisDC, now, domain, forest) gives
//     msDS-ManagedPasswordId, or ErrNoRootKey ("Key does not exist").
//   - Reading msDS-ManagedPassword (and a KDC needing the account's keys): one shared
//     Deriver's ManagedPassword(keys, Account{...}, now). When Rotated, write NewCurrentID /
//     NewPreviousID as SYSTEM and re-key the account from StoredPassword with KeysFromUTF16 and
//     MachineSalt.
//   - Users and computers: NTHashString, KeysFromString, Salt.
//
// # The 10-hour rule: two readings, one setting
//
// Nothing stores "effective + 10 h"; the wait falls out of how a DC picks keys. Two readings
// exist for a NEW gMSA (Policy.CreationRule):
//
//   - RuleIntervalStart (default): a key is eligible when msKds-UseStartTime <= the start of
//     the 10-hour GKID interval containing the creation time. This is Samba's emulation of
//     Windows GetKey (python/samba/tests/gkdi.py) and matches Microsoft Learn's "up to 10
//     hours": a key effective at T is usable from the next interval boundary on.
//   - RuleOneIntervalAgo: eligible when msKds-UseStartTime <= creation − (10 h + 5 min), the
//     rule of Samba's own DC (gmsa_generate_blobs). The wait is then exactly 10 h 5 min.
//
// For an EXISTING id (RootKeyForID) the named key is accepted when UseStartTime − 10 h 5 min
// <= the start of the requested interval (Samba's tests against Windows). Rollovers pick the
// most recently created key with UseStartTime <= the new interval's start (SelectRootKey).
//
// # What it does not model
//
//   - Creating a root key by itself. [MS-GKDI] 3.1.4.1.1 says a server MUST create one when
//     the container is empty at GetKey time; Windows in practice answers "Key does not exist".
//     Whether to create one is the caller's (sim's) setting; fakekds only offers AddKdsRootKey.
//   - The MS-GKDI RPC interface (GetKey replies, GroupKeyEnvelope) and the DH/ECDH public-key
//     part of GKDI: gMSA passwords never use them.
//   - The DC's root-key cache, replication and per-DC clocks: those live in sim and fakead,
//     which hand fakekds the key list a DC sees and that DC's time.
//   - DES keys (modern Windows does not derive them for gMSAs either).
//
// Deliberate differences from real AD are marked "Divergence:" in the source.
package fakekds
