// Package host is the member hosts of a simulated world (package sim): domain members with a
// computer account, a Kerberos logon, a local gMSA cache, a service control manager, IIS
// application pools and scheduled tasks, and what an administrator runs on them
// (Install-/Test-/Uninstall-ADServiceAccount, Start-/Stop-/Get-Service, sc.exe, klist).
//
// # The fleet
//
// NewFleet(w) starts the member hosts of one world; the World does not know them. Fleet.Add joins
// a host (host.go): its computer account is created (or taken over) on its DC as SYSTEM with a
// machine password from the seed (stream "host/<NAME>"), and it boots: a TGT from its DC's
// in-process KDC (sim.Loop.KDC, stream "kdc/<DC>") whose PAC carries the group snapshot of that
// moment. Reboot and PurgeTickets (klist -li 0x3e7 purge) take a new snapshot; until then the DC
// sees the host with the old groups, as Windows does. Every Host method runs through the world
// loop (sim.World.Exec), and its getters under the world's lock (sim.World.Locked); none may be
// called from inside the loop.
//
// # gMSAs on a host
//
// Install-/Test-/Uninstall-ADServiceAccount (gmsa.go) read msDS-ManagedPassword from the host's
// DC as the host (token = snapshot, on an encrypted connection) and print what PowerShell prints;
// the local cache (cache.go) is refreshed when the blob's UnchangedPasswordInterval has passed (5
// minutes before a rotation), and kept when a refresh fails. Services, IIS application pools and
// scheduled tasks (svc.go) run as CONTOSO\name$ with an empty password, start only with the
// current password, and hang in Start Pending on 2012 R2 after a restart unless kdssvc has its
// network-on trigger. Kerberos probes (krb.go): Logon (a user's kinit), Client/Host.ServiceTicket,
// Host.DecryptTicket and Host.Accept (current or previous key). Fleet.CheckCaches is the harness's
// invariant. SetClockSkew puts a host's clock off its DC's (KRB_AP_ERR_SKEW beyond 5 minutes).
//
// # For layers above
//
// Package sim/mim installs MIM on these hosts. It changes a host's workloads inside the loop
// through Host.Exec, Host.WorkloadLocked, Workload.SetLogon and Host.StartLocked, and saves and
// restores a fleet with Fleet.SaveLocked and Fleet.RestoreLocked (state.go); methods named
// ...Locked run only inside the loop.
//
// # What it deliberately does not model
//
// Machine password changes (a host keeps the one it joined with), W32Time (a skew lasts until it
// is set back), the LSA's retry schedule after a failed refresh, an NTLM fallback. Lines marked
// "Divergence:" list the differences.
package host
