// Package scenarios is the scenario language of gmsasim and its runner: a scenario is a
// transcript of an administrator's session on a simulated timeline — the world (domain, schema,
// DCs and link delays, users, computers, member hosts), then steps, each a directive line, its
// input, "----" and the expected output — in the form of cockroachdb/datadriven. Run replays a
// file against a fresh sim.World; with Rewrite it regenerates the expected outputs instead.
//
// # Steps
//
//   - ps on=DC1 [as=alice]: PowerShell lines exactly as Microsoft prints them, tokenized and bound
//     as PowerShell does (positional and named parameters, prefixes, -Switch:$false, quoting,
//     variables, arrays a,b and @(...), hashtables @{Add='x'}, $true/$false,
//     ((Get-Date).AddHours(-10)) on the world's clock). The AD cmdlets act on the DC's replica
//     by LDAP-style operations as the session's principal, so the model's rules decide outcomes;
//     output and errors print as PowerShell prints them (list format, "Cmdlet : message").
//   - Simulator directives: advance 10h | advance to=20:00, replicate, settle, cut/heal A B,
//     stop/start DC, link A B delay=1h, check converged, ldap read probes as a principal over
//     plain LDAP or TLS.
//   - Member hosts (host.Host): "host" lines join them; ps on a host runs Install-/Test-/
//     Uninstall-ADServiceAccount (gMSAs and sMSAs), sc.exe, appcmd, schtasks, klist -li 0x3e7 purge, Restart-Computer and *-Service
//     there; reboot / klist purge directives; kerberos probes (a user's service ticket decrypted
//     on a host); check password-equal across DCs; kds restart; skew (a host's clock offset).
//   - Pending features (Reset-ADServiceAccountPassword, host cmdlets on a DC) fail
//     with a PendingFeatureError; files that need them carry the label "pending" and are skipped
//     unless IncludePending is set.
//
// # Worlds and expected errors
//
// A "worlds" block before the world block is a parameter table: the steps run once per row, the
// row's values in place of the world block's $key words, each run reported as file.scn[row]; an
// expected block may have a section "----[ROW]" for a row whose output differs (worlds.go). An
// expected block "error: /PATTERN/" asserts that the step fails with a matching error
// (expect.go).
//
// # Layout
//
// The PowerShell language (tokenizer, parser, binder, runtime values and errors, formatting) is
// package scenarios/ps, which knows no cmdlet. This package declares the cmdlets and runs them
// on the world: every cmdlet is listed in newCmdletTable (cmdlets.go, from cmdlets_kds.go,
// cmdlets_gmsa.go and cmdlets_groups.go; hosts.go runs the member-host ones), every directive
// in directiveTable (directives.go; the MIM ones run in migrate.go). A parse and a run build
// their own tables; a run's state, the MIM directives' included, lives on its runner. The
// package has no init function and no package-level variables.
//
// # Failures
//
// Every failure starts with "seed=N scenario=path:line t=+HhMm", then the step, expected vs got
// as a diff, the last trace lines, and the replay command "gmsasim run FILE --seed N".
//
// # What it deliberately does not model
//
// PowerShell pipelines, script blocks, -Filter expressions other than "*", confirmation prompts
// (Remove-* runs as if confirmed), and the error records' position lines (only the first line,
// "Cmdlet : message", is printed). Every such difference is marked "Divergence:" in the source.
package scenarios
