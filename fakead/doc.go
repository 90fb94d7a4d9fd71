// Package fakead is the Active Directory directory model: one domain controller's replica of a
// domain, as a pure state machine (no goroutines, no clock, no I/O; time is an argument and ids come
// from an IDSource the world seeds).
//
// What it models, after [MS-ADTS] and the real data in reference/ (a Samba 4.17 AD DC dump):
//   - the schema (reference/schema.ldif, parsed once per process and shared): attribute syntaxes,
//     single-valuedness, systemOnly, searchFlags (indexed, preserve-on-delete), linked attributes
//     (member/memberOf), classes with their superclass chains, must/may and auxiliary classes;
//   - entries with multi-valued attributes, objectClass chains, objectCategory, objectGUID,
//     objectSid from a per-DC RID pool, SAM defaults, USNs and times from the virtual clock;
//   - add/modify/delete/modifyDN/compare/search with AD's result codes and diagnostic texts,
//     RFC 4515 filters with AD's matching rules (bitwise AND/OR, LDAP_MATCHING_RULE_IN_CHAIN),
//     indexes so equality searches on indexed attributes do not scan;
//   - a fresh domain (NewDomain) like reference/domain.ldif and configuration.ldif, the rootDSE as
//     a Windows DC answers it and the subschema entry (CN=Aggregate) in RFC 4512 form;
//   - principals: passwords stored only as NT hash and Kerberos keys, binds by DN, UPN or
//     DOMAIN\name, tokens with transitive groups, tokenGroups; each DC's computer account gets
//     the keys of DCConfig.Password at creation (kvno 1, computer salt) and the SPNs dcpromo
//     registers (host, ldap, GC, the DRS replication GUID, RestrictedKrbHost); DCAccount is the
//     replica's own DC account with its keys;
//   - gMSAs and the KDS (gmsa.go, kds.go, managedpw.go; SIDs, GUIDs, times and the security
//     descriptor are package ad's value types): KDS root keys as msKds-ProvRootKey objects that replicate, each DC's KDS seeing only its replica and caching
//     the keys it loaded until RestartKDS; gMSA creation with AD's rules (schema, a 2012 DC, a
//     usable root key — "Key does not exist" — and the first msDS-ManagedPasswordId);
//     msDS-GroupMSAMembership parsed as a security descriptor; msDS-ManagedPassword constructed on
//     read (encrypted connections only, DACL of msDS-GroupMSAMembership against the caller's
//     token) with the lazy rotation written as SYSTEM; gMSA keys on Account and AccountAt;
//   - access rules of a fresh domain written in code (access.go), explicit grants; one function
//     (mayRead) decides which attributes a caller may read, and every read path asks it: returned
//     attributes, every filter item (an unreadable attribute is treated as absent, [MS-ADTS]
//     3.1.1.4.4, so no filter tells its values apart) and Compare (noSuchAttribute); write rights
//     are checked before any value is looked at; a computer's own dNSHostName,
//     msDS-AdditionalDnsHostName and SPNs are validated writes ([MS-ADTS] 3.1.1.5.3.1.1.2/.4);
//   - bounds: DNs of more than MaxDNRDNs RDNs are refused by the parser, RDN values of 255 or more
//     characters are a naming violation, and bestMatch costs the directory's depth, not the DN's;
//   - replication primitives: per-attribute metadata, ChangesSince/ApplyReplicated with AD's
//     conflict rule, tombstones, CNF mangling of name collisions, a Digest to compare replicas;
//   - LDIF export/import of a whole replica, byte-exact round trip.
//
// What it deliberately does not model: security descriptors (nTSecurityDescriptor is not stored;
// the default rights of a fresh domain are code in access.go), the recycle bin and tombstone
// garbage collection, link value replication (member replicates as a whole attribute, its values
// carrying the target's GUID), possSuperiors, continuation references,
// the global catalog and multiple domains. Every difference from AD is marked "Divergence:" in the
// source (grep -rn Divergence: fakead).
//
// Values handed out by Search share memory with the replica: callers must not modify them.
// A Directory is not safe for concurrent use; the world serialises calls. The parsed schema and
// the schema partition's objects are shared read-only between all replicas of a process.
//
// Tests: table tests per area, transcripts in testdata/*.txt (go test -run Transcripts -rewrite
// regenerates them), a randomized three-replica convergence test, fuzz targets (FuzzImportLDIF,
// FuzzSearch, FuzzAddModify) and benchmarks (NewDomain, searches over 10,000 users, add,
// replication, LDIF).
package fakead
