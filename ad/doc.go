// Package ad holds the Active Directory value types every layer shares: the security identifier
// (SID), the GUID, the two time syntaxes (FILETIME and GeneralizedTime), the self-relative
// security descriptor of msDS-GroupMSAMembership (build, parse, access check), and the
// lDAPDisplayName constants of the attributes the simulator reads and writes.
//
// It imports the standard library only, so the directory model (fakead), the KDS (fakekds) and
// the migration engine (migrate, which must not import the simulator) all use the same types.
//
// Specs followed: [MS-DTYP] 2.4.2 (SID, binary form 2.4.2.2, string form 2.4.2.1), 2.3.4 (GUID,
// with its wire layout 2.3.4.2), 2.3.3 (FILETIME), 2.4.6 (SECURITY_DESCRIPTOR, self-relative),
// 2.4.5 (ACL), 2.4.4 (ACEs), 2.5.3.2 (access check); [MS-ADTS] 3.1.1.4.5.39 (who may read
// msDS-ManagedPassword); X.680/RFC 4517 3.3.13 (GeneralizedTime) as AD writes it.
//
// What it deliberately does not do: SDDL text, SACLs, inheritance, generic-right mapping beyond
// GENERIC_ALL/GENERIC_READ granting read-property, and object-ACE property sets (see the
// Divergence note on AccessAllowed).
package ad
