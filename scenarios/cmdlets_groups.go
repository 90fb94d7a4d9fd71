package scenarios

import (
	"github.com/gmsasim/gmsasim/scenarios/ps"
	"sort"
	"strconv"
	"strings"

	"github.com/gmsasim/gmsasim/fakead"
)

// Groups, computers and users, as the AD module does them.

// scopeEnum and categoryEnum are ADGroupScope's and ADGroupCategory's names, in value order.
func scopeEnum() []string    { return []string{"DomainLocal", "Global", "Universal"} }
func categoryEnum() []string { return []string{"Distribution", "Security"} }

// groupCmdlets are the group, computer and user cmdlets, and Remove-ADObject.
func groupCmdlets() []*cmdletDef {
	return []*cmdletDef{{
		Cmdlet: ps.Cmdlet{Name: "New-ADGroup",
			Params: []ps.Param{
				{Name: "Name", Kind: ps.String, Pos: 0, Mandatory: true},
				{Name: "GroupScope", Kind: ps.Enum, Pos: 1, Mandatory: true, EnumType: "Microsoft.ActiveDirectory.Management.ADGroupScope", Enum: scopeEnum()},
				{Name: "Description", Kind: ps.String, Pos: -1},
				{Name: "DisplayName", Kind: ps.String, Pos: -1},
				{Name: "GroupCategory", Kind: ps.Enum, Pos: -1, EnumType: "Microsoft.ActiveDirectory.Management.ADGroupCategory", Enum: categoryEnum()},
				{Name: "ManagedBy", Kind: ps.String, Pos: -1},
				{Name: "OtherAttributes", Kind: ps.Hash, Pos: -1},
				{Name: "PassThru", Kind: ps.Switch, Pos: -1},
				{Name: "Path", Kind: ps.String, Pos: -1},
				{Name: "SamAccountName", Kind: ps.String, Pos: -1},
			}},
		run: newGroup,
	}, {
		Cmdlet: ps.Cmdlet{Name: "Remove-ADObject",
			Params: []ps.Param{{Name: "Identity", Kind: ps.String, Pos: 0, Mandatory: true}, {Name: "Recursive", Kind: ps.Switch, Pos: -1}}},
		run: func(x *cmdCtx, b ps.Bound) ([]any, error) {
			return nil, removeObject(x, b.Str("Identity"), "", false)
		},
	}, {
		Cmdlet: ps.Cmdlet{Name: "Set-ADGroup",
			Params: []ps.Param{{Name: "Identity", Kind: ps.String, Pos: 0, Mandatory: true}, {Name: "Add", Kind: ps.Hash, Pos: -1},
				{Name: "Clear", Kind: ps.Strings, Pos: -1}, {Name: "Description", Kind: ps.String, Pos: -1}, {Name: "Remove", Kind: ps.Hash, Pos: -1},
				{Name: "Replace", Kind: ps.Hash, Pos: -1}, {Name: "SamAccountName", Kind: ps.String, Pos: -1}}},
		run: func(x *cmdCtx, b ps.Bound) ([]any, error) {
			return nil, x.do(func(a *adCtx) error {
				g, err := a.find(b.Str("Identity"), "group", false)
				if err != nil {
					return err
				}
				mods, err := a.commonMods(b)
				if err != nil || len(mods) == 0 {
					return err
				}
				return adError(a.d.Modify(a.now, a.c, g.dn, mods), "")
			})
		},
	}, {
		Cmdlet: ps.Cmdlet{Name: "Remove-ADGroup",
			Params: []ps.Param{{Name: "Identity", Kind: ps.String, Pos: 0, Mandatory: true}}},
		run: func(x *cmdCtx, b ps.Bound) ([]any, error) {
			return nil, removeObject(x, b.Str("Identity"), "group", false)
		},
	}, {
		Cmdlet: ps.Cmdlet{Name: "Get-ADGroup",
			Params: []ps.Param{{Name: "Identity", Kind: ps.String, Pos: 0}, {Name: "Filter", Kind: ps.String, Pos: -1},
				{Name: "LDAPFilter", Kind: ps.String, Pos: -1}, {Name: "Properties", Kind: ps.Strings, Pos: -1}, {Name: "SearchBase", Kind: ps.String, Pos: -1}}},
		run: func(x *cmdCtx, b ps.Bound) ([]any, error) {
			return getObjects(x, b, "group", false, func(a *adCtx, o *obj) []ps.Prop { return groupProps(o) })
		},
	}, {
		Cmdlet: ps.Cmdlet{Name: "Get-ADComputer",
			Params: []ps.Param{{Name: "Identity", Kind: ps.String, Pos: 0}, {Name: "Filter", Kind: ps.String, Pos: -1},
				{Name: "LDAPFilter", Kind: ps.String, Pos: -1}, {Name: "Properties", Kind: ps.Strings, Pos: -1}, {Name: "SearchBase", Kind: ps.String, Pos: -1}}},
		run: func(x *cmdCtx, b ps.Bound) ([]any, error) {
			return getObjects(x, b, "computer", true, func(a *adCtx, o *obj) []ps.Prop {
				p := accountProps(o)
				return append(p[:1], append([]ps.Prop{{Name: "DNSHostName", Val: o.str("dNSHostName")}}, p[1:]...)...)
			})
		},
	}, {
		Cmdlet: ps.Cmdlet{Name: "Get-ADUser",
			Params: []ps.Param{{Name: "Identity", Kind: ps.String, Pos: 0}, {Name: "Filter", Kind: ps.String, Pos: -1},
				{Name: "LDAPFilter", Kind: ps.String, Pos: -1}, {Name: "Properties", Kind: ps.Strings, Pos: -1}, {Name: "SearchBase", Kind: ps.String, Pos: -1}}},
		run: func(x *cmdCtx, b ps.Bound) ([]any, error) {
			return getObjects(x, b, "user", false, func(a *adCtx, o *obj) []ps.Prop {
				p := accountProps(o)
				return []ps.Prop{p[0], p[1], {Name: "GivenName", Val: o.str("givenName")}, p[2], p[3], p[4], p[5], p[6], {Name: "Surname", Val: o.str("sn")}, p[7]}
			})
		},
	}, {
		Cmdlet: ps.Cmdlet{Name: "New-ADComputer",
			Params: []ps.Param{{Name: "Name", Kind: ps.String, Pos: 0, Mandatory: true}, {Name: "SamAccountName", Kind: ps.String, Pos: -1},
				{Name: "DNSHostName", Kind: ps.String, Pos: -1}, {Name: "Path", Kind: ps.String, Pos: -1}, {Name: "Enabled", Kind: ps.Bool, Pos: -1},
				{Name: "PassThru", Kind: ps.Switch, Pos: -1}}},
		run: func(x *cmdCtx, b ps.Bound) ([]any, error) {
			return nil, x.do(func(a *adCtx) error {
				return a.newAccount(b, "computer", "CN=Computers,"+a.d.DomainDN(), true)
			})
		},
	}, {
		Cmdlet: ps.Cmdlet{Name: "New-ADUser",
			Params: []ps.Param{{Name: "Name", Kind: ps.String, Pos: 0, Mandatory: true}, {Name: "SamAccountName", Kind: ps.String, Pos: -1},
				{Name: "Path", Kind: ps.String, Pos: -1}, {Name: "Enabled", Kind: ps.Bool, Pos: -1}, {Name: "PassThru", Kind: ps.Switch, Pos: -1},
				{Name: "Description", Kind: ps.String, Pos: -1}}},
		run: func(x *cmdCtx, b ps.Bound) ([]any, error) {
			return nil, x.do(func(a *adCtx) error {
				return a.newAccount(b, "user", "CN=Users,"+a.d.DomainDN(), false)
			})
		},
	}}
}

// memberCmdlets are Add-/Remove-/Get-ADGroupMember and Add-/Remove-/Get-ADPrincipalGroupMembership.
func memberCmdlets() []*cmdletDef {
	memberCmd := func(name string, add, principalSide bool) *cmdletDef {
		second := "Members"
		if principalSide {
			second = "MemberOf"
		}
		return &cmdletDef{
			Cmdlet: ps.Cmdlet{Name: name,
				Params: []ps.Param{{Name: "Identity", Kind: ps.String, Pos: 0, Mandatory: true}, {Name: second, Kind: ps.Strings, Pos: 1, Mandatory: true}, {Name: "PassThru", Kind: ps.Switch, Pos: -1}}},
			run: func(x *cmdCtx, b ps.Bound) ([]any, error) {
				return nil, x.do(func(a *adCtx) error { return a.changeMembers(b, second, add, principalSide) })
			},
		}
	}
	return []*cmdletDef{
		memberCmd("Add-ADGroupMember", true, false),
		memberCmd("Remove-ADGroupMember", false, false),
		memberCmd("Add-ADPrincipalGroupMembership", true, true),
		memberCmd("Remove-ADPrincipalGroupMembership", false, true),
		{
			Cmdlet: ps.Cmdlet{Name: "Get-ADGroupMember",
				Params: []ps.Param{{Name: "Identity", Kind: ps.String, Pos: 0, Mandatory: true}, {Name: "Recursive", Kind: ps.Switch, Pos: -1}}},
			run: getGroupMembers,
		},
		{
			Cmdlet: ps.Cmdlet{Name: "Get-ADPrincipalGroupMembership",
				Params: []ps.Param{{Name: "Identity", Kind: ps.String, Pos: 0, Mandatory: true}}},
			run: getPrincipalGroups,
		},
	}
}

func getPrincipalGroups(x *cmdCtx, b ps.Bound) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		o, err := a.find(b.Str("Identity"), "", false)
		if err != nil {
			return err
		}
		dns := o.strs("memberOf")
		sort.Strings(dns)
		for _, dn := range dns {
			g, err := a.find(dn, "group", false)
			if err != nil {
				continue
			}
			out = append(out, &ps.Object{Props: lowerProps(groupProps(g))})
		}
		return nil
	})
	return out, err
}

// lowerProps: ADPrincipal results of the *-Membership and *-Member cmdlets print
// distinguishedName, name and objectClass/objectGUID in lower camel case.
func lowerProps(p []ps.Prop) []ps.Prop {
	out := append([]ps.Prop(nil), p...)
	for i := range out {
		switch out[i].Name {
		case "DistinguishedName", "Name", "ObjectClass", "ObjectGUID":
			out[i].Name = strings.ToLower(out[i].Name[:1]) + out[i].Name[1:]
		}
	}
	return out
}

func newGroup(x *cmdCtx, b ps.Bound) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		name := b.Str("Name")
		path := b.Str("Path")
		if path == "" {
			path = "CN=Users," + a.d.DomainDN()
		}
		gt := map[string]int64{"Global": 2, "DomainLocal": 4, "Universal": 8}[b.Str("GroupScope")]
		if b.Str("GroupCategory") != "Distribution" {
			gt |= 0x80000000
		}
		sam := b.Str("SamAccountName")
		if sam == "" {
			sam = name
		}
		dn := "CN=" + escapeRDN(name) + "," + path
		attrs := []fakead.Attribute{attr("objectClass", "group"), attr("sAMAccountName", sam),
			attr("groupType", strconv.FormatInt(int64(int32(uint32(gt))), 10))}
		if d := b.Str("Description"); d != "" {
			attrs = append(attrs, attr("description", d))
		}
		if m := b.Str("ManagedBy"); m != "" {
			o, err := a.find(m, "", false)
			if err != nil {
				return err
			}
			attrs = append(attrs, attr("managedBy", o.dn))
		}
		if h, ok := b["OtherAttributes"].(*ps.Hashtable); ok {
			attrs = append(attrs, hashAttrs(h)...)
		}
		if err := adError(a.d.Add(a.now, a.c, dn, attrs), "group"); err != nil {
			return err
		}
		if b.On("PassThru") {
			o, err := a.find(dn, "", false)
			if err != nil {
				return err
			}
			out = append(out, &ps.Object{Props: groupProps(o)})
		}
		return nil
	})
	return out, err
}

func (a *adCtx) newAccount(b ps.Bound, class, defPath string, computer bool) error {
	name := b.Str("Name")
	sam := b.Str("SamAccountName")
	if sam == "" {
		sam = name
	}
	if computer && !strings.HasSuffix(sam, "$") {
		sam += "$"
	}
	path := b.Str("Path")
	if path == "" {
		path = defPath
	}
	attrs := []fakead.Attribute{attr("objectClass", class), attr("sAMAccountName", sam)}
	if h := b.Str("DNSHostName"); h != "" {
		attrs = append(attrs, attr("dNSHostName", h))
	}
	if d := b.Str("Description"); d != "" {
		attrs = append(attrs, attr("description", d))
	}
	return adError(a.d.Add(a.now, a.c, "CN="+escapeRDN(name)+","+path, attrs), "account")
}

// changeMembers adds or removes members: Add-ADGroupMember (group, members) or
// Add-ADPrincipalGroupMembership (principal, groups). Adding a member already there and
// removing one not there are no-ops, as the module's permissive modify makes them.
// Divergence: the module sends one modify with the permissive-modify control; the model has no
// controls, so members already present (or already absent) are filtered out first.
func (a *adCtx) changeMembers(b ps.Bound, second string, add, principalSide bool) error {
	type pair struct{ group, member *obj }
	var pairs []pair
	if principalSide {
		p, err := a.find(b.Str("Identity"), "", false)
		if err != nil {
			return err
		}
		for _, g := range b.Strs(second) {
			gobj, err := a.find(g, "group", false)
			if err != nil {
				return err
			}
			pairs = append(pairs, pair{gobj, p})
		}
	} else {
		g, err := a.find(b.Str("Identity"), "group", false)
		if err != nil {
			return err
		}
		ms, err := a.principals(b.Strs(second))
		if err != nil {
			return err
		}
		for _, m := range ms {
			pairs = append(pairs, pair{g, m})
		}
	}
	for _, p := range pairs {
		present := false
		for _, m := range p.group.strs("member") {
			if strings.EqualFold(m, p.member.dn) {
				present = true
			}
		}
		if present == add {
			continue
		}
		op := fakead.ModAdd
		if !add {
			op = fakead.ModDelete
		}
		if err := adError(a.d.Modify(a.now, a.c, p.group.dn, []fakead.Modification{{Op: op, Attr: attr("member", p.member.dn)}}), ""); err != nil {
			return err
		}
	}
	return nil
}

func getGroupMembers(x *cmdCtx, b ps.Bound) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		g, err := a.find(b.Str("Identity"), "group", false)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		var members []*obj
		var walk func(g *obj) error
		walk = func(g *obj) error {
			for _, dn := range g.strs("member") {
				if seen[strings.ToLower(dn)] {
					continue
				}
				seen[strings.ToLower(dn)] = true
				m, err := a.find(dn, "", false)
				if err != nil {
					continue
				}
				if b.On("Recursive") && hasClass(m, "group") {
					if err := walk(m); err != nil {
						return err
					}
					continue
				}
				members = append(members, m)
			}
			return nil
		}
		if err := walk(g); err != nil {
			return err
		}
		sort.Slice(members, func(i, j int) bool {
			return strings.ToLower(members[i].str("name")) < strings.ToLower(members[j].str("name"))
		})
		for _, m := range members {
			out = append(out, &ps.Object{Props: []ps.Prop{
				{Name: "distinguishedName", Val: m.dn}, {Name: "name", Val: m.str("name")}, {Name: "objectClass", Val: m.lastClass()},
				{Name: "objectGUID", Val: m.guid()}, {Name: "SamAccountName", Val: m.str("sAMAccountName")}, {Name: "SID", Val: m.sid()},
			}})
		}
		return nil
	})
	return out, err
}
