package scenarios

import (
	"sort"
	"strconv"
	"strings"

	"github.com/gmsasim/gmsasim/fakead"
)

// Groups, computers and users, as the AD module does them.

var (
	scopeEnum    = []string{"DomainLocal", "Global", "Universal"}
	categoryEnum = []string{"Distribution", "Security"}
)

// groupCmdlets are the group, computer and user cmdlets, and Remove-ADObject.
func groupCmdlets() []*cmdletDef {
	return []*cmdletDef{{
		name: "New-ADGroup",
		params: []paramDef{
			{name: "Name", kind: pString, pos: 0, mandatory: true},
			{name: "GroupScope", kind: pEnum, pos: 1, mandatory: true, enumType: "Microsoft.ActiveDirectory.Management.ADGroupScope", enum: scopeEnum},
			{name: "Description", kind: pString, pos: -1},
			{name: "DisplayName", kind: pString, pos: -1},
			{name: "GroupCategory", kind: pEnum, pos: -1, enumType: "Microsoft.ActiveDirectory.Management.ADGroupCategory", enum: categoryEnum},
			{name: "ManagedBy", kind: pString, pos: -1},
			{name: "OtherAttributes", kind: pHash, pos: -1},
			{name: "PassThru", kind: pSwitch, pos: -1},
			{name: "Path", kind: pString, pos: -1},
			{name: "SamAccountName", kind: pString, pos: -1},
		},
		run: newGroup,
	}, {
		name:   "Remove-ADObject",
		params: []paramDef{{name: "Identity", kind: pString, pos: 0, mandatory: true}, {name: "Recursive", kind: pSwitch, pos: -1}},
		run: func(x *cmdCtx, b bound) ([]any, error) {
			return nil, removeObject(x, b.str("Identity"), "", false)
		},
	}, {
		name: "Set-ADGroup",
		params: []paramDef{{name: "Identity", kind: pString, pos: 0, mandatory: true}, {name: "Add", kind: pHash, pos: -1},
			{name: "Clear", kind: pStrings, pos: -1}, {name: "Description", kind: pString, pos: -1}, {name: "Remove", kind: pHash, pos: -1},
			{name: "Replace", kind: pHash, pos: -1}, {name: "SamAccountName", kind: pString, pos: -1}},
		run: func(x *cmdCtx, b bound) ([]any, error) {
			return nil, x.do(func(a *adCtx) error {
				g, err := a.find(b.str("Identity"), "group", false)
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
		name:   "Remove-ADGroup",
		params: []paramDef{{name: "Identity", kind: pString, pos: 0, mandatory: true}},
		run: func(x *cmdCtx, b bound) ([]any, error) {
			return nil, removeObject(x, b.str("Identity"), "group", false)
		},
	}, {
		name: "Get-ADGroup",
		params: []paramDef{{name: "Identity", kind: pString, pos: 0}, {name: "Filter", kind: pString, pos: -1},
			{name: "LDAPFilter", kind: pString, pos: -1}, {name: "Properties", kind: pStrings, pos: -1}, {name: "SearchBase", kind: pString, pos: -1}},
		run: func(x *cmdCtx, b bound) ([]any, error) {
			return getObjects(x, b, "group", false, func(a *adCtx, o *obj) []psProp { return groupProps(o) })
		},
	}, {
		name: "Get-ADComputer",
		params: []paramDef{{name: "Identity", kind: pString, pos: 0}, {name: "Filter", kind: pString, pos: -1},
			{name: "LDAPFilter", kind: pString, pos: -1}, {name: "Properties", kind: pStrings, pos: -1}, {name: "SearchBase", kind: pString, pos: -1}},
		run: func(x *cmdCtx, b bound) ([]any, error) {
			return getObjects(x, b, "computer", true, func(a *adCtx, o *obj) []psProp {
				p := accountProps(o)
				return append(p[:1], append([]psProp{{"DNSHostName", o.str("dNSHostName")}}, p[1:]...)...)
			})
		},
	}, {
		name: "Get-ADUser",
		params: []paramDef{{name: "Identity", kind: pString, pos: 0}, {name: "Filter", kind: pString, pos: -1},
			{name: "LDAPFilter", kind: pString, pos: -1}, {name: "Properties", kind: pStrings, pos: -1}, {name: "SearchBase", kind: pString, pos: -1}},
		run: func(x *cmdCtx, b bound) ([]any, error) {
			return getObjects(x, b, "user", false, func(a *adCtx, o *obj) []psProp {
				p := accountProps(o)
				return []psProp{p[0], p[1], {"GivenName", o.str("givenName")}, p[2], p[3], p[4], p[5], p[6], {"Surname", o.str("sn")}, p[7]}
			})
		},
	}, {
		name: "New-ADComputer",
		params: []paramDef{{name: "Name", kind: pString, pos: 0, mandatory: true}, {name: "SamAccountName", kind: pString, pos: -1},
			{name: "DNSHostName", kind: pString, pos: -1}, {name: "Path", kind: pString, pos: -1}, {name: "Enabled", kind: pBool, pos: -1},
			{name: "PassThru", kind: pSwitch, pos: -1}},
		run: func(x *cmdCtx, b bound) ([]any, error) {
			return nil, x.do(func(a *adCtx) error {
				return a.newAccount(b, "computer", "CN=Computers,"+a.d.DomainDN(), true)
			})
		},
	}, {
		name: "New-ADUser",
		params: []paramDef{{name: "Name", kind: pString, pos: 0, mandatory: true}, {name: "SamAccountName", kind: pString, pos: -1},
			{name: "Path", kind: pString, pos: -1}, {name: "Enabled", kind: pBool, pos: -1}, {name: "PassThru", kind: pSwitch, pos: -1},
			{name: "Description", kind: pString, pos: -1}},
		run: func(x *cmdCtx, b bound) ([]any, error) {
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
			name:   name,
			params: []paramDef{{name: "Identity", kind: pString, pos: 0, mandatory: true}, {name: second, kind: pStrings, pos: 1, mandatory: true}, {name: "PassThru", kind: pSwitch, pos: -1}},
			run: func(x *cmdCtx, b bound) ([]any, error) {
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
			name:   "Get-ADGroupMember",
			params: []paramDef{{name: "Identity", kind: pString, pos: 0, mandatory: true}, {name: "Recursive", kind: pSwitch, pos: -1}},
			run:    getGroupMembers,
		},
		{
			name:   "Get-ADPrincipalGroupMembership",
			params: []paramDef{{name: "Identity", kind: pString, pos: 0, mandatory: true}},
			run:    getPrincipalGroups,
		},
	}
}

func getPrincipalGroups(x *cmdCtx, b bound) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		o, err := a.find(b.str("Identity"), "", false)
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
			out = append(out, &psObject{props: lowerProps(groupProps(g))})
		}
		return nil
	})
	return out, err
}

// lowerProps: ADPrincipal results of the *-Membership and *-Member cmdlets print
// distinguishedName, name and objectClass/objectGUID in lower camel case.
func lowerProps(p []psProp) []psProp {
	out := append([]psProp(nil), p...)
	for i := range out {
		switch out[i].name {
		case "DistinguishedName", "Name", "ObjectClass", "ObjectGUID":
			out[i].name = strings.ToLower(out[i].name[:1]) + out[i].name[1:]
		}
	}
	return out
}

func newGroup(x *cmdCtx, b bound) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		name := b.str("Name")
		path := b.str("Path")
		if path == "" {
			path = "CN=Users," + a.d.DomainDN()
		}
		gt := map[string]int64{"Global": 2, "DomainLocal": 4, "Universal": 8}[b.str("GroupScope")]
		if b.str("GroupCategory") != "Distribution" {
			gt |= 0x80000000
		}
		sam := b.str("SamAccountName")
		if sam == "" {
			sam = name
		}
		dn := "CN=" + escapeRDN(name) + "," + path
		attrs := []fakead.Attribute{attr("objectClass", "group"), attr("sAMAccountName", sam),
			attr("groupType", strconv.FormatInt(int64(int32(uint32(gt))), 10))}
		if d := b.str("Description"); d != "" {
			attrs = append(attrs, attr("description", d))
		}
		if m := b.str("ManagedBy"); m != "" {
			o, err := a.find(m, "", false)
			if err != nil {
				return err
			}
			attrs = append(attrs, attr("managedBy", o.dn))
		}
		if h, ok := b["OtherAttributes"].(*psHash); ok {
			attrs = append(attrs, hashAttrs(h)...)
		}
		if err := adError(a.d.Add(a.now, a.c, dn, attrs), "group"); err != nil {
			return err
		}
		if b.on("PassThru") {
			o, err := a.find(dn, "", false)
			if err != nil {
				return err
			}
			out = append(out, &psObject{props: groupProps(o)})
		}
		return nil
	})
	return out, err
}

func (a *adCtx) newAccount(b bound, class, defPath string, computer bool) error {
	name := b.str("Name")
	sam := b.str("SamAccountName")
	if sam == "" {
		sam = name
	}
	if computer && !strings.HasSuffix(sam, "$") {
		sam += "$"
	}
	path := b.str("Path")
	if path == "" {
		path = defPath
	}
	attrs := []fakead.Attribute{attr("objectClass", class), attr("sAMAccountName", sam)}
	if h := b.str("DNSHostName"); h != "" {
		attrs = append(attrs, attr("dNSHostName", h))
	}
	if d := b.str("Description"); d != "" {
		attrs = append(attrs, attr("description", d))
	}
	return adError(a.d.Add(a.now, a.c, "CN="+escapeRDN(name)+","+path, attrs), "account")
}

// changeMembers adds or removes members: Add-ADGroupMember (group, members) or
// Add-ADPrincipalGroupMembership (principal, groups). Adding a member already there and
// removing one not there are no-ops, as the module's permissive modify makes them.
// Divergence: the module sends one modify with the permissive-modify control; the model has no
// controls, so members already present (or already absent) are filtered out first.
func (a *adCtx) changeMembers(b bound, second string, add, principalSide bool) error {
	type pair struct{ group, member *obj }
	var pairs []pair
	if principalSide {
		p, err := a.find(b.str("Identity"), "", false)
		if err != nil {
			return err
		}
		for _, g := range b.strs(second) {
			gobj, err := a.find(g, "group", false)
			if err != nil {
				return err
			}
			pairs = append(pairs, pair{gobj, p})
		}
	} else {
		g, err := a.find(b.str("Identity"), "group", false)
		if err != nil {
			return err
		}
		ms, err := a.principals(b.strs(second))
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

func getGroupMembers(x *cmdCtx, b bound) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		g, err := a.find(b.str("Identity"), "group", false)
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
				if b.on("Recursive") && hasClass(m, "group") {
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
			out = append(out, &psObject{props: []psProp{
				{"distinguishedName", m.dn}, {"name", m.str("name")}, {"objectClass", m.lastClass()},
				{"objectGUID", m.guid()}, {"SamAccountName", m.str("sAMAccountName")}, {"SID", m.sid()},
			}})
		}
		return nil
	})
	return out, err
}
