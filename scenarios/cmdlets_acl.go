package scenarios

import (
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/scenarios/ps"
)

// dsacls on a DC, for seed 001's "ability to create msDS-GroupManagedServiceAccount objects":
// `dsacls "CN=Managed Service Accounts,DC=contoso,DC=com" /G "CONTOSO\carol:CC;msDS-GroupManagedServiceAccount"`
// grants create-child (CC), delete-child (DC) or write-property (WP) on a container, for one
// object class or (no class) any, as fakead.Directory.Grant models an ACE.
// Divergence: dsacls prints the container's whole ACL before "The command completed
// successfully"; the simulator prints the last line only. The grant is applied to every DC at
// once (fakead grants are per replica and not replicated), and who runs dsacls is not checked.
func aclCmdlets() []*cmdletDef {
	return []*cmdletDef{{
		Cmdlet: ps.Cmdlet{Name: "dsacls", Params: []ps.Param{
			{Name: "Object", Kind: ps.String, Pos: 0, Mandatory: true},
			{Name: "Option", Kind: ps.String, Pos: 1}, // dsacls' own /G, bound positionally
			{Name: "Permission", Kind: ps.String, Pos: 2},
		}},
		run: dsacls,
	}}
}

func dsacls(x *cmdCtx, b ps.Bound) ([]any, error) {
	dn, g := b.Str("Object"), b.Str("Permission")
	if !strings.EqualFold(b.Str("Option"), "/G") || g == "" {
		return nil, &PendingFeatureError{Feature: "dsacls other than /G", What: "dsacls " + dn}
	}
	who, perm, ok := strings.Cut(g, ":")
	if !ok {
		return nil, ps.Errorf("Invalid permission %q: expected USER:PERM[;OBJECTTYPE]", g)
	}
	perm, class, _ := strings.Cut(perm, ";")
	var rights fakead.Right
	for _, p := range []string{"CC", "DC", "WP"} {
		if strings.Contains(strings.ToUpper(perm), p) {
			rights |= map[string]fakead.Right{"CC": fakead.RightCreateChild, "DC": fakead.RightDeleteChild, "WP": fakead.RightWriteProperty}[p]
		}
	}
	if rights == 0 {
		return nil, &PendingFeatureError{Feature: "dsacls permissions other than CC, DC, WP", What: "dsacls /G " + g}
	}
	if i := strings.LastIndexByte(who, '\\'); i >= 0 {
		who = who[i+1:]
	}
	var classes []string
	if class != "" {
		classes = []string{class}
	}
	for _, dc := range x.r.w.DCs() {
		err := x.r.w.ExecOn(dc.Name(), func(_ time.Time, d *fakead.Directory) error {
			a, found := d.Account(who)
			if !found {
				return ps.Errorf("No mapping between account names and security IDs was done.")
			}
			return d.Grant(dn, a.SID.String(), rights, classes...)
		})
		if err != nil {
			return nil, adError(err, "")
		}
	}
	return []any{"The command completed successfully"}, nil
}
