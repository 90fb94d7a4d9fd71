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
// socket, and the engine cannot tell. Its AD value types (SID, security descriptor, attribute
// names, times) are package ad's, a standard-library-only leaf shared with the simulator.
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
//     after it runs (one line each, fsync'd). Resume never repeats a step whose result is
//     recorded; the Synchronization Service's change mode runs only when the journal records a
//     verified key-set export AND the export verifies again on the host at that moment.
//   - Rollback returns each converted service to the account it ran under before (recorded in
//     the journal), restoring the key set for the Synchronization Service.
//
// The journal file (format 2) is JSON lines. Line 1 is the header,
// {"format":2,"planHash":H,"plan":{...}}, H being the SHA-256 of the plan's indented JSON
// (Plan.Hash); it is written whole (temporary file, fsync, rename, fsync of the directory).
// Record n is line n+1, appended with its newline and fsync'd before the engine goes on:
//
//	{"seq":n,"step":ID,"phase":P,"at":T,"detail":D,"data":{...},"prev":PREV,"hash":HASH}
//
// P is intent, observed, done or failed; ID a step of the plan, or a rollback step
// ("rollback:" + ...) derived from the records before the first rollback record. HASH is the
// SHA-256 (hex) of the line without its hash member (the bytes up to `,"hash":"`, then `}`:
// `sed 's/,"hash":"[0-9a-f]*"}$/}/' | tr -d '\n' | sha256sum` reproduces it); PREV is the previous
// record's HASH, and record 1's PREV is H. Reading (OpenJournal, Resume, Rollback) checks the
// header and H, then every record: its hash, its seq, its prev, no unknown member, and that it is
// a record the engine could have written there: a known phase and step, a result or observation
// only of the step whose intent is the latest, an intent only for a step not yet done whose every
// earlier plan step is done, no apply record after a rollback record. The first failure is
// refused as a *JournalError naming the record (1-based) and its line, and nothing is written.
//
// What the chain catches: an edited record (even the last), a deleted, inserted or reordered
// record, records moved under another plan's header, unknown phases or steps, and any edit by a
// tool that does not recompute the hashes. What it does not: dropping whole records from the
// end, which reads as a crash before they were written (resume then runs those steps again;
// they are idempotent), and an editor who recomputes the chain.
// Divergence: the chain has no key. An HMAC needs a secret the editor cannot read, and the
// engine has nowhere to keep one that the owner of the journal's directory cannot read too (the
// simulator's 0600 world file sits next to the journal); a keyed chain would also make journals
// differ between identical runs, which crash-each compares byte for byte. So the chain guards
// against accidents and careless tools, not a determined editor with write access: protect the
// journal with file permissions.
//
// A crash while a record is written leaves a last line without its newline: it was never
// acknowledged (the fsync had not returned), so readers ignore it (Journal.Torn) and the next
// writer cuts it off. A line that has its newline is whole; damage in it is refused.
//
// One writer at a time: Apply, Resume, Rollback and CreateJournal hold an flock(2)
// (LOCK_EX|LOCK_NB) on JOURNAL.lock, which names the holder in one JSON line
// ({"pid":1234,"command":"gmsasim migrate apply","since":"2026-12-03T08:30:00Z"}). A second
// writer fails at once with a *LockedError (ErrJournalLocked) naming the holder; nothing waits.
// The kernel drops the flock when the holder ends, even killed, so a lock file a crash left
// behind is taken over. LockJournal holds the lock across several calls (gmsasim migrate holds it
// while it loads and saves the simulated world); the engine's runs in that process use it. The
// lock's "since" is wall-clock time, for an operator comparing with ps(1). OpenJournal only
// reads and takes no lock.
//
// Nothing is lost: the engine never overwrites or deletes the key-set export; ExportKeySet
// refuses an existing path and the engine then verifies the file that is there instead.
//
// The directory objects are created the way the ActiveDirectory module does it: a gMSA is an
// add of msDS-GroupManagedServiceAccount with sAMAccountName NAME$, dNSHostName,
// msDS-ManagedPasswordInterval 30, msDS-SupportedEncryptionTypes 28, userAccountControl 4096 and
// msDS-GroupMSAMembership, a self-relative security descriptor
// "O:S-1-5-32-544D:(A;;0xf01ff;;;<SID>)" built by package ad ([MS-DTYP] 2.4.6); SPNs go to
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
