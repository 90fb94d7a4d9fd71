package scenarios

import (
	"sort"
	"strings"

	"github.com/gmsasim/gmsasim/scenarios/ps"
)

// cmdletDef is a cmdlet the simulator knows: what the binder needs (ps.Cmdlet), where it runs
// and what it does.
type cmdletDef struct {
	ps.Cmdlet
	onHost bool // a member-host cmdlet: hosts.go runs it on the host (run is nil)
	run    func(x *cmdCtx, b ps.Bound) ([]any, error)
}

// cmdletTable is every cmdlet the simulator knows, by lower-case name. Get-Date, Write-Output
// and echo are the session's own (psrun.go); sc and klist run on member hosts (hosts.go).
type cmdletTable map[string]*cmdletDef

// newCmdletTable builds the table: a parse and a run each build their own, so no table is
// shared between scenarios.
func newCmdletTable() cmdletTable {
	t := cmdletTable{}
	for _, set := range [][]*cmdletDef{
		kdsCmdlets(),    // cmdlets_kds.go: Add-/Get-/Test-KdsRootKey
		gmsaCmdlets(),   // cmdlets_gmsa.go: New-/Set-/Get-/Remove-ADServiceAccount
		groupCmdlets(),  // cmdlets_groups.go: *-ADGroup, Get-/New-ADComputer, Get-/New-ADUser, Remove-ADObject
		memberCmdlets(), // cmdlets_groups.go: *-ADGroupMember, *-ADPrincipalGroupMembership
		hostCmdlets(),   // cmdlets_gmsa.go: Install-/Test-/Uninstall-ADServiceAccount, *-Service, sc, klist, ...
		eventCmdlets(),  // cmdlets_events.go: Get-WinEvent (the KdsSvc Operational log)
		aclCmdlets(),    // cmdlets_acl.go: dsacls /G (a delegated right)
	} {
		for _, d := range set {
			t[strings.ToLower(d.Name)] = d
		}
	}
	return t
}

func (t cmdletTable) names() []string {
	var out []string
	for _, d := range t {
		out = append(out, d.Name)
	}
	sort.Strings(out)
	return out
}

// lookup finds a cmdlet by name, case-insensitively; "sc.exe" is "sc".
func (t cmdletTable) lookup(name string) *cmdletDef {
	return t[strings.ToLower(strings.TrimSuffix(strings.ToLower(name), ".exe"))]
}
