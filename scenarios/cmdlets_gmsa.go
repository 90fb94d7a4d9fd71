package scenarios

import (
	"errors"
	"github.com/gmsasim/gmsasim/scenarios/ps"
	"github.com/gmsasim/gmsasim/sim"
	"strconv"
	"strings"

	"github.com/gmsasim/gmsasim/fakead"
)

// The *-ADServiceAccount cmdlets, written as the AD module performs them: LDAP-style operations on
// the DC as the session's principal, so that the directory model's rules decide the outcome.

// kerbEnum are ADKerberosEncryptionType's names, in value order.
func kerbEnum() []string { return []string{"None", "DES", "RC4", "AES128", "AES256"} }

const kerbEnumType = "Microsoft.ActiveDirectory.Management.ADKerberosEncryptionType"

// gmsaCmdlets are the *-ADServiceAccount cmdlets that act on the directory.
func gmsaCmdlets() []*cmdletDef {
	return []*cmdletDef{{
		Cmdlet: ps.Cmdlet{Name: "New-ADServiceAccount",
			Params: []ps.Param{
				{Name: "Name", Kind: ps.String, Pos: 0, Mandatory: true},
				// Not positional: the Group parameter set has only [-Name] by position.
				{Name: "DNSHostName", Kind: ps.String, Pos: -1, Mandatory: true},
				{Name: "AccountExpirationDate", Kind: ps.Date, Pos: -1},
				{Name: "Description", Kind: ps.String, Pos: -1},
				{Name: "DisplayName", Kind: ps.String, Pos: -1},
				{Name: "Enabled", Kind: ps.Bool, Pos: -1},
				{Name: "KerberosEncryptionType", Kind: ps.EnumFlags, Pos: -1, EnumType: kerbEnumType, Enum: kerbEnum()},
				{Name: "ManagedPasswordIntervalInDays", Kind: ps.Int, Pos: -1},
				{Name: "OtherAttributes", Kind: ps.Hash, Pos: -1},
				{Name: "PassThru", Kind: ps.Switch, Pos: -1},
				{Name: "Path", Kind: ps.String, Pos: -1},
				{Name: "PrincipalsAllowedToDelegateToAccount", Kind: ps.Strings, Pos: -1},
				{Name: "PrincipalsAllowedToRetrieveManagedPassword", Kind: ps.Strings, Pos: -1},
				{Name: "RestrictToOutboundAuthenticationOnly", Kind: ps.Switch, Pos: -1},
				{Name: "RestrictToSingleComputer", Kind: ps.Switch, Pos: -1},
				{Name: "SamAccountName", Kind: ps.String, Pos: -1},
				{Name: "ServicePrincipalNames", Kind: ps.Strings, Pos: -1},
				{Name: "TrustedForDelegation", Kind: ps.Bool, Pos: -1},
			},
			Optional: func(name string, b ps.Bound) bool {
				return name == "DNSHostName" && (b.On("RestrictToOutboundAuthenticationOnly") || b.On("RestrictToSingleComputer"))
			}},
		run: newServiceAccount,
	}, {
		Cmdlet: ps.Cmdlet{Name: "Set-ADServiceAccount",
			Params: []ps.Param{
				{Name: "Identity", Kind: ps.String, Pos: 0, Mandatory: true},
				{Name: "Add", Kind: ps.Hash, Pos: -1},
				{Name: "Clear", Kind: ps.Strings, Pos: -1},
				{Name: "Description", Kind: ps.String, Pos: -1},
				{Name: "DNSHostName", Kind: ps.String, Pos: -1},
				{Name: "Enabled", Kind: ps.Bool, Pos: -1},
				{Name: "KerberosEncryptionType", Kind: ps.EnumFlags, Pos: -1, EnumType: kerbEnumType, Enum: kerbEnum()},
				{Name: "PassThru", Kind: ps.Switch, Pos: -1},
				{Name: "PrincipalsAllowedToDelegateToAccount", Kind: ps.Strings, Pos: -1},
				{Name: "PrincipalsAllowedToRetrieveManagedPassword", Kind: ps.Strings, Pos: -1},
				{Name: "Remove", Kind: ps.Hash, Pos: -1},
				{Name: "Replace", Kind: ps.Hash, Pos: -1},
				{Name: "SamAccountName", Kind: ps.String, Pos: -1},
				{Name: "ServicePrincipalNames", Kind: ps.Hash, Pos: -1},
				{Name: "TrustedForDelegation", Kind: ps.Bool, Pos: -1},
			}},
		run: setServiceAccount,
	}, {
		Cmdlet: ps.Cmdlet{Name: "Get-ADServiceAccount",
			Params: []ps.Param{
				{Name: "Identity", Kind: ps.String, Pos: 0},
				{Name: "Filter", Kind: ps.String, Pos: -1},
				{Name: "LDAPFilter", Kind: ps.String, Pos: -1},
				{Name: "Properties", Kind: ps.Strings, Pos: -1},
				{Name: "SearchBase", Kind: ps.String, Pos: -1},
			}},
		run: func(x *cmdCtx, b ps.Bound) ([]any, error) {
			return getObjects(x, b, "msDS-GroupManagedServiceAccount", true, func(a *adCtx, o *obj) []ps.Prop { return accountProps(o) })
		},
	}, {
		Cmdlet: ps.Cmdlet{Name: "Remove-ADServiceAccount",
			Params: []ps.Param{{Name: "Identity", Kind: ps.String, Pos: 0, Mandatory: true}}},
		run: func(x *cmdCtx, b ps.Bound) ([]any, error) {
			return nil, removeObject(x, b.Str("Identity"), "msDS-GroupManagedServiceAccount", true)
		},
	}}
}

// hostCmdlets are the member-host cmdlets (hosts.go runs them): the binder needs only their
// parameters.
func hostCmdlets() []*cmdletDef {
	var out []*cmdletDef
	for _, n := range []string{"Install-ADServiceAccount", "Uninstall-ADServiceAccount", "Test-ADServiceAccount", "Reset-ADServiceAccountPassword"} {
		out = append(out, &cmdletDef{onHost: true, Cmdlet: ps.Cmdlet{Name: n, Params: []ps.Param{
			{Name: "Identity", Kind: ps.String, Pos: 0, Mandatory: true},
			{Name: "AccountPassword", Kind: ps.String, Pos: -1},
			{Name: "Force", Kind: ps.Switch, Pos: -1},
			{Name: "PromptForPassword", Kind: ps.Switch, Pos: -1},
		}}})
	}
	for _, n := range []string{"Restart-Computer", "Start-Service", "Stop-Service", "Restart-Service", "Get-Service", "sc", "klist", "nltest", "appcmd", "schtasks", "Set-Date", "Restart-KdsService"} {
		out = append(out, &cmdletDef{onHost: true, Cmdlet: ps.Cmdlet{Name: n, Params: []ps.Param{{Name: "Name", Kind: ps.Strings, Pos: 0}}}})
	}
	return out
}

func newServiceAccount(x *cmdCtx, b ps.Bound) ([]any, error) {
	name := b.Str("Name")
	sam := b.Str("SamAccountName")
	if sam == "" {
		sam = name
	}
	if !strings.HasSuffix(sam, "$") {
		sam += "$"
	}
	class := "msDS-GroupManagedServiceAccount"
	if b.On("RestrictToSingleComputer") {
		class = "msDS-ManagedServiceAccount"
	}
	var out []any
	err := x.do(func(a *adCtx) error {
		path := b.Str("Path")
		if path == "" {
			path = "CN=Managed Service Accounts," + a.d.DomainDN()
		}
		dn := "CN=" + escapeRDN(name) + "," + path
		spec := sim.GMSASpec{Name: name, SAMAccountName: sam, DNSHostName: b.Str("DNSHostName"), SPNs: b.Strs("ServicePrincipalNames")}
		if b.Has("ManagedPasswordIntervalInDays") {
			spec.IntervalDays = int(b["ManagedPasswordIntervalInDays"].(int64))
		}
		if b.Has("KerberosEncryptionType") {
			spec.EncryptionTypes = int(encBits(b.Strs("KerberosEncryptionType")))
			if spec.EncryptionTypes == 0 {
				spec.EncryptionTypes = sim.EncNone
			}
		}
		var sd []byte
		if ps := b.Strs("PrincipalsAllowedToRetrieveManagedPassword"); len(ps) > 0 {
			var err error
			if sd, err = a.membershipSD(ps); err != nil {
				return err
			}
		}
		attrs := sim.ServiceAccountAttributes(spec, class == "msDS-ManagedServiceAccount", sd)
		if d := b.Str("Description"); d != "" {
			attrs = append(attrs, attr("description", d))
		}
		if d := b.Str("DisplayName"); d != "" {
			attrs = append(attrs, attr("displayName", d))
		}
		if h, ok := b["OtherAttributes"].(*ps.Hashtable); ok {
			attrs = append(attrs, hashAttrs(h)...)
		}
		if v := a.schemaVersion(); class == "msDS-GroupManagedServiceAccount" && v > 0 && v < 52 {
			// Divergence: the text is the AD module's for an attribute the forest's schema does
			// not define (ADWS checks the request's attributes against the schema before the
			// add; msDS-ManagedPasswordInterval is the first 2012 attribute this request
			// carries). Not confirmed from a 2008 R2 forest; see
			// library/requirements-schema-47-refused.scn.
			return ps.Errorf("The specified directory service attribute or value does not exist\nParameter name: msDS-ManagedPasswordInterval")
		}
		err := a.d.Add(a.now, a.c, dn, attrs)
		var fe *fakead.Error
		if errors.As(err, &fe) && fe.Code == fakead.UnwillingToPerform && fe.Err != nil &&
			strings.Contains(fe.Err.Error(), "no domain controller of Windows Server 2012") {
			// Divergence: with no Windows Server 2012 DC there is no KDS to compute the new
			// account's password id, and the simulator prints the error the module prints when the
			// KDS has no root key (seed 000). Not confirmed from a 2008 R2-only domain; see
			// library/requirements-no-2012-dc.scn.
			return ps.Errorf("Key does not exist")
		}
		if err := adError(err, "account"); err != nil {
			return err
		}
		if b.On("TrustedForDelegation") {
			if err := a.setUAC(dn, 0x80000, true); err != nil {
				return err
			}
		}
		if b.Has("Enabled") && !b.On("Enabled") {
			if err := a.setUAC(dn, 0x2, true); err != nil {
				return err
			}
		}
		if b.On("PassThru") {
			o, err := a.find(dn, "", false)
			if err != nil {
				return err
			}
			out = append(out, &ps.Object{Props: accountProps(o)})
		}
		return nil
	})
	return out, err
}

// schemaVersion is the forest schema's objectVersion as this DC reads it (0 when unreadable).
func (a *adCtx) schemaVersion() int {
	res, err := a.d.Search(a.now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: a.d.SchemaDN(),
		Scope: fakead.ScopeBase, Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: []string{"objectVersion"}})
	if err != nil || len(res) == 0 {
		return 0
	}
	for _, at := range res[0].Attributes {
		if strings.EqualFold(at.Name, "objectVersion") && len(at.Values) > 0 {
			n, _ := strconv.Atoi(string(at.Values[0]))
			return n
		}
	}
	return 0
}

// membershipSD resolves principals to SIDs and builds msDS-GroupMSAMembership.
func (a *adCtx) membershipSD(ids []string) ([]byte, error) {
	ps, err := a.principals(ids)
	if err != nil {
		return nil, err
	}
	var sids []string
	for _, p := range ps {
		sids = append(sids, p.sid())
	}
	return buildGMSAMembershipSD(sids)
}

func (a *adCtx) setUAC(dn string, bit int64, on bool) error {
	o, err := a.find(dn, "", false)
	if err != nil {
		return err
	}
	uac := o.int("userAccountControl")
	if on {
		uac |= bit
	} else {
		uac &^= bit
	}
	return adError(a.d.Modify(a.now, a.c, dn, []fakead.Modification{{Op: fakead.ModReplace, Attr: attr("userAccountControl", strconv.FormatInt(uac, 10))}}), "")
}

func setServiceAccount(x *cmdCtx, b ps.Bound) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		o, err := a.find(b.Str("Identity"), "msDS-GroupManagedServiceAccount", true)
		if err != nil {
			return err
		}
		mods, err := a.commonMods(b)
		if err != nil {
			return err
		}
		if b.Has("PrincipalsAllowedToRetrieveManagedPassword") {
			ids := b.Strs("PrincipalsAllowedToRetrieveManagedPassword")
			if len(ids) == 0 {
				mods = append(mods, fakead.Modification{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: "msDS-GroupMSAMembership"}})
			} else {
				sd, err := a.membershipSD(ids)
				if err != nil {
					return err
				}
				mods = append(mods, fakead.Modification{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: "msDS-GroupMSAMembership", Values: [][]byte{sd}}})
			}
		}
		if h, ok := b["ServicePrincipalNames"].(*ps.Hashtable); ok {
			for i, k := range h.Keys {
				var vals []string
				for _, v := range ps.Flatten(h.Vals[i]) {
					vals = append(vals, ps.ToString(v))
				}
				op := map[string]fakead.ModOp{"add": fakead.ModAdd, "remove": fakead.ModDelete, "replace": fakead.ModReplace}
				m, ok := op[strings.ToLower(k)]
				if !ok {
					return ps.Errorf("Cannot bind parameter 'ServicePrincipalNames'. The hashtable key '%s' is not valid: use Add, Remove or Replace.", k)
				}
				mods = append(mods, fakead.Modification{Op: m, Attr: attr("servicePrincipalName", vals...)})
			}
		}
		if b.Has("KerberosEncryptionType") {
			mods = append(mods, fakead.Modification{Op: fakead.ModReplace, Attr: attr("msDS-SupportedEncryptionTypes", strconv.FormatInt(encBits(b.Strs("KerberosEncryptionType")), 10))})
		}
		if len(mods) > 0 {
			if err := adError(a.d.Modify(a.now, a.c, o.dn, mods), ""); err != nil {
				return err
			}
		}
		if b.Has("TrustedForDelegation") {
			if err := a.setUAC(o.dn, 0x80000, b.On("TrustedForDelegation")); err != nil {
				return err
			}
		}
		if b.Has("Enabled") {
			if err := a.setUAC(o.dn, 0x2, !b.On("Enabled")); err != nil {
				return err
			}
		}
		if b.On("PassThru") {
			o, err = a.find(o.dn, "", false)
			if err != nil {
				return err
			}
			out = append(out, &ps.Object{Props: accountProps(o)})
		}
		return nil
	})
	return out, err
}

// commonMods are the generic -Add/-Remove/-Replace/-Clear and simple string parameters.
func (a *adCtx) commonMods(b ps.Bound) ([]fakead.Modification, error) {
	var mods []fakead.Modification
	for _, p := range []struct {
		param string
		op    fakead.ModOp
	}{{"Add", fakead.ModAdd}, {"Remove", fakead.ModDelete}, {"Replace", fakead.ModReplace}} {
		if h, ok := b[p.param].(*ps.Hashtable); ok {
			for _, at := range hashAttrs(h) {
				mods = append(mods, fakead.Modification{Op: p.op, Attr: at})
			}
		}
	}
	for _, c := range b.Strs("Clear") {
		mods = append(mods, fakead.Modification{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: c}})
	}
	for _, p := range []struct{ param, attr string }{{"Description", "description"}, {"DNSHostName", "dNSHostName"}, {"SamAccountName", "sAMAccountName"}} {
		if b.Has(p.param) {
			mods = append(mods, fakead.Modification{Op: fakead.ModReplace, Attr: attr(p.attr, b.Str(p.param))})
		}
	}
	return mods, nil
}

// getObjects is Get-AD*: by identity, or -Filter * / -LDAPFilter.
func getObjects(x *cmdCtx, b ps.Bound, class string, dollar bool, props func(*adCtx, *obj) []ps.Prop) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		var objs []*obj
		switch {
		case b.Has("Identity"):
			o, err := a.find(b.Str("Identity"), class, dollar)
			if err != nil {
				return err
			}
			objs = []*obj{o}
		case b.Has("Filter") || b.Has("LDAPFilter"):
			var f fakead.Filter = fakead.FilterEquality{Attr: "objectClass", Value: []byte(class)}
			if lf := b.Str("LDAPFilter"); lf != "" {
				pf, err := fakead.ParseFilter(lf)
				if err != nil {
					return ps.Errorf("The search filter cannot be recognized")
				}
				f = fakead.FilterAnd{f, pf}
			} else if strings.TrimSpace(b.Str("Filter")) != "*" {
				// Divergence: -Filter's PowerShell expression language is not simulated; use -LDAPFilter.
				return ps.Errorf("Error parsing query: '%s' (the simulator supports -Filter * and -LDAPFilter)", b.Str("Filter"))
			}
			base := b.Str("SearchBase")
			if base == "" {
				base = a.d.DomainDN()
			}
			res, err := a.search(base, fakead.ScopeSub, f)
			if err != nil {
				return adError(err, "")
			}
			objs = res
		default:
			return ps.Errorf("Cannot process command because of one or more missing mandatory parameters: Identity.")
		}
		for _, o := range objs {
			out = append(out, a.withProperties(o, props(a, o), b.Strs("Properties")))
		}
		return nil
	})
	return out, err
}

// removeObject is Remove-AD*.
// Divergence: Remove-* asks "Are you sure you want to perform this action?" (ConfirmImpact High);
// a transcript has no console, so it runs as if confirmed (-Confirm:$false).
func removeObject(x *cmdCtx, identity, class string, dollar bool) error {
	return x.do(func(a *adCtx) error {
		o, err := a.find(identity, class, dollar)
		if err != nil {
			return err
		}
		return adError(a.d.Delete(a.now, a.c, o.dn), "")
	})
}

// escapeRDN escapes an RDN value ([MS-ADTS]/RFC 4514 special characters).
func escapeRDN(v string) string {
	var b strings.Builder
	for i, r := range v {
		if strings.ContainsRune(",+\"\\<>;=", r) || (i == 0 && (r == '#' || r == ' ')) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
