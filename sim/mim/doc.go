// Package mim puts Microsoft Identity Manager on member hosts (package sim/host) of a simulated
// world (package sim), as the seed on converting MIM services to gMSAs describes it.
//
// New(fleet) starts a Deployment whose hosts join that fleet (mim.go): the Synchronization Service
// with its encryption key set (export needs the current sync account's name, password and domain;
// after the installer's change mode the service will not start until a key set is restored, and
// a wrong one leaves it unable to run), the MIM Service with its Exchange settings and registry
// values, the PAM REST API, Monitoring and Component services, the SSPR portals, and the
// unsupported MIM Portal, Certificate Management and BHOLD. ChangeMode (ops.go) behaves as the
// installers do (a gMSA without "$" or with a password is refused; the LogonUser warning is shown
// and recorded). NewDefaultWorld (world.go) builds the built-in MIM world; Save/Load (state.go)
// write and reload a whole world (replicas as LDIF, hosts and MIM hosts as JSON, simulated time)
// so that `gmsasim migrate resume` can continue after a killed process. The engine reaches these
// hosts only through sim/mimagent, the simulator's implementation of migrate.HostAgent.
//
// Every operation runs through the world loop, through the member host's Host.Exec; the MIM
// state of a host lives in the loop beside the host's.
//
// # What it deliberately does not model
//
// The installers' exact refusal texts, the application pool names of the PAM REST API and the
// SSPR portals, what the Key Management tool does for a sync service already running as a gMSA,
// and the sync service's failed starts at boot while no key set is loaded. Lines marked
// "Divergence:" list the differences.
package mim
