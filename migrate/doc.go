// Package migrate is the MIM → gMSA migration engine: it converts the Microsoft Identity Manager
// services that support group Managed Service Accounts (Synchronization Service, MIM Service, PAM
// REST API, PAM Monitoring Service, PAM Component Service, SSPR Registration and Reset portals)
// from ordinary domain accounts to gMSAs, following Microsoft's procedure "Convert Microsoft
// Identity Manager-specific services to use group Managed Service Accounts".
//
// It is production code. It talks to a domain controller over LDAP or LDAPS with
// github.com/go-ldap/ldap/v3, bound as the administrator it is given, and to Windows hosts only
// through its own HostAgent interface (agent.go). It imports nothing of the simulator (sim,
// fakead, fakekds); the simulator implements HostAgent for its hosts and serves LDAP on a real
// socket, and the engine cannot tell.
//
// The pipeline:
//
//   - Inventory (TakeInventory): which hosts run which MIM components, under which accounts, at
//     which version, plus management agents, PCNS and the Exchange setting.
//   - Preflight: every requirement as a pass/fail Check with the fix: MIM 4.5.26.0 or later, a
//     KDS root key ELIGIBLE (not merely present) on the DC the engine writes to and on each DC a
//     host uses, schema objectVersion ≥ 52, a DC of Windows Server 2012 or later, hosts of 2012 or
//     later and 64-bit, the operator in Domain Admins or Account Operators, the unsupported
//     components (MIM Portal, management agents other than the MIM Service MA, Certificate
//     Management, BHOLD) reported and left alone, and 2012 R2 hosts flagged for the kdssvc trigger.
//   - MakePlan: an ordered list of idempotent Steps with dependencies, rendered for a human
//     (Plan.Text, like `terraform plan`) and as JSON (Plan.JSON).
//   - Apply / Resume with a Journal file: each step's intent and result are written before and
//     after it runs, atomically (temporary file, fsync, rename, fsync of the directory). Resume
//     never repeats a step whose result is recorded; the Synchronization Service's change mode
//     runs only when the journal records a verified key-set export AND the export verifies again
//     on the host at that moment.
//   - Rollback returns each converted service to the account it ran under before (recorded in
//     the journal), restoring the key set for the Synchronization Service.
//
// Nothing is lost: the engine never overwrites or deletes the key-set export; ExportKeySet
// refuses an existing path and the engine then verifies the file that is there instead.
//
// The directory objects are created the way the ActiveDirectory module does it: a gMSA is an
// add of msDS-GroupManagedServiceAccount with sAMAccountName NAME$, dNSHostName,
// msDS-ManagedPasswordInterval 30, msDS-SupportedEncryptionTypes 28, userAccountControl 4096 and
// msDS-GroupMSAMembership, a self-relative security descriptor
// "O:S-1-5-32-544D:(A;;0xf01ff;;;<SID>)" built here ([MS-DTYP] 2.4.6); SPNs go to
// servicePrincipalName, constrained delegation to msDS-AllowedToDelegateTo, TrustedForDelegation
// to userAccountControl 0x80000.
//
// What it does not do: it does not create the KDS root key (an operator decision, and one that
// takes up to 10 hours to become usable), it does not install MIM hotfixes, it does not delete
// directory objects on rollback (a gMSA nobody uses is harmless and keeps rollback cheap to undo),
// and a production HostAgent (WinRM / PowerShell remoting) is not part of this package.
//
// Time: the engine has no clock of its own. Root-key eligibility is judged against each DC's
// rootDSE currentTime; journal timestamps come from Options.Now when given.
//
// Specs: [MS-ADTS] 3.1.1.4.5.39 and [MS-GKDI] for root keys, [MS-DTYP] 2.4.2 and 2.4.6 for SIDs
// and security descriptors, RFC 4511 and RFC 4532 (WhoAmI) for LDAP.
package migrate
