// Package sim is the simulated world of gmsasim: a virtual clock with a scheduler, named random
// streams derived from one seed, a trace, and a domain with N domain controllers, each holding its
// own replica of the directory (package fakead), joined by replication links.
//
// # Time
//
// A Clock holds simulated time. Advance/AdvanceTo run every due event in time order; events due
// at the same instant run in the order they were scheduled. Events may schedule more events. Bounds
// (Config.MaxEvents, Config.MaxSimTime) stop a run that would go on forever with an error naming
// the seed. Nothing in this package reads the wall clock except NewWallClock, used by
// `serve --realtime`.
//
// # Randomness and ids
//
// World.Rand(name) is a ChaCha8 stream keyed by SHA-256(seed || name): adding a consumer never
// shifts another's draws. GUIDs (GUIDSource, stream "guids"), the domain SID (DomainSID) and the
// default Administrator password (stream "passwords") come from the seed; USNs are the model's.
//
// # The world loop
//
// Every operation runs through World.Exec / ExecOn (the LDAP server through World.Backend; World.ServeLDAP
// starts one for a DC), which serialise on one mutex and pass the simulated time. A closure or event
// that calls a World method instead of using what it was passed panics with a *ReentryError (the
// lock is its own) rather than deadlock. NewDefaultDomain builds the domain `gmsasim serve` runs.
// After each closure and each event the world
// captures every replica's new changes (ChangesSince) and queues them on each outgoing link,
// delivered (ApplyReplicated) after the link's delay, carrying the values of the moment they were
// written. The target resolves conflicts as AD does ([MS-DRSR] 5.11 AttributeStamp:
// higher version, then later originating time, then higher originating invocationId — that rule
// lives in the model) and forwards what it newly applied to its own partners. Links can be cut and
// healed, DCs stopped and started; deliveries wait and then catch up. As in AD, each DC keeps an
// up-to-dateness vector, so a change is not sent back to a DC that has already seen it.
// CheckConverged checks that quiet replicas are identical by the model's digest (objects,
// tombstones, stamps); only when digests differ does it also compare what a client reads (every
// object, every attribute but the per-DC ones), to name the DN and attribute that differ.
//
// Each DC's computer account has a password drawn from the seed (stream "dc/<NAME>", DC.MachinePassword)
// and the keys derived from it, so the KDC issues tickets for the DC's SPNs (ldap/, host/, GC/, ...).
//
// # The guides' actions in Go
//
// A Go test drives a world the way the guides' PowerShell does, with methods that run on one DC as
// Administrator and return typed results and AD's errors (*ADError): NewGMSA, SetGMSA and
// RemoveGMSA (GMSASpec, GMSAChange, Enc* encryption types), NewGroup, NewUser, AddGroupMembers and
// RemoveGroupMembers, AddRootKey (RootKeyOptions: the zero value is Add-KdsRootKey without options,
// usable 10 days after creation; EffectiveImmediately; EffectiveTime), ReadManagedPassword (what a
// principal reads: the decoded blob, its intervals and kvno, or ErrPasswordNotReturned), StoredKVNO
// and Exists (what a DC has now, without a read that would make it rotate or a change that has not
// replicated). A read of msDS-ManagedPassword past the interval makes the DC rotate the password, as
// on Windows. Member hosts' Install-/Test-/Uninstall-ADServiceAccount are package sim/host's; the
// same steps as PowerShell lines run on a world a test holds through scenarios.Attach. See
// ExampleWorld_NewGMSA and the harness's matchers.
//
// # Layers above: member hosts and MIM
//
// Member hosts (package sim/host) and MIM (package sim/mim) are built on this package and it
// imports neither: the World holds no host. They keep their own state in the loop and reach the
// world only through exported calls:
//
//   - Exec / ExecOn run a closure in the loop; Loop() is the world from inside it: Now, Logf,
//     Rand, At/After/Cancel (events, whose changes replicate as after Exec), KDC (a DC's in-process
//     KDC, stream "kdc/<DC>", the one KDCServer serves) and Save (the core's SavedState).
//   - Locked (and LockedValue, its one-line form for getters) runs a closure under the world's
//     lock without entering the loop (no event runs, time does not move): a layer's getters of its
//     own loop state. From inside the loop it panics with a *ReentryError naming its caller, as
//     the World's methods do.
//   - DC(name) with DC.Running and DC.Directory; Fail wraps a layer's invariant failure as a
//     Failure; Restore rebuilds a world from a SavedState; GeneratePassword and ValidNetBIOS are the
//     rules the world's own accounts follow.
//
// AddDomainUser, AddDomainGroup and their Ensure forms (domainaccounts.go) create the domain
// accounts such a layer needs before it starts.
//
// # The Key Distribution Service
//
// Each DC's KDS lives in its replica (fakead/kds.go): it sees only the root keys that have
// replicated to it, picks keys on its own clock, and caches the keys it loaded. kds.go adds the
// actions a scenario performs: AddKdsRootKey (Add-KdsRootKey on one DC, key material from stream
// "kds"; the key then replicates like any object), RestartKDS (drops that DC's cache, so a deleted
// key stops working there), SetKDSPolicy (the reading of the 10-hour rule, on every DC) and
// ManagedPassword (what a DC computes for a gMSA now, with the lazy rotation write that then
// replicates). Each is traced.
//
// # Determinism
//
// Inside the world loop a run replays bit for bit from its seed: the trace (World.Trace) and each
// replica's LDIF export are byte-identical for the same seed and operations. Over real sockets the
// simulated time is still deterministic, but the order concurrent connections take the lock is Go's
// scheduling: compare end states there, not traces.
//
// # What it deliberately does not model
//
// Replication is pushed by the source per write rather than pulled by the target on notification;
// AD's batching within the 15 s notification window, its KCC topology generation, site links with
// schedules and urgent replication are not modelled (each link simply has a delay). Lines marked
// "Divergence:" in the source list the differences.
package sim
