// Package mimagent is the simulator's implementation of migrate.HostAgent: one Agent per simulated
// MIM host (mim.Host), every call going through the world loop of the host's *sim.World.
//
// The agent translates the engine's requests into what the simulated host does (the installers'
// change mode, the Key Management tool, sc.exe, the registry, Test-/Install-ADServiceAccount, a
// Kerberos ticket accepted by the service) and the simulator's typed errors into
// *migrate.AgentError with the engine's sentinels. It adds the two guarantees the interface asks
// of every agent: an export never overwrites a file (ErrExists), and nothing deletes one.
//
// Package sim does not import migrate; this package is the bridge.
package mimagent
