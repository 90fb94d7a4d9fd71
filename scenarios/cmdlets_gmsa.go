package scenarios

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gmsasim/gmsasim/fakead"
)

// The *-ADServiceAccount cmdlets, written as the AD module performs them: LDAP-style operations on
// the DC as the session's principal, so that the directory model's rules decide the outcome.

var kerbEnum = []string{"None", "DES", "RC4", "AES128", "AES256"}

const kerbEnumType = "Microsoft.ActiveDirectory.Management.ADKerberosEncryptionType"

// gmsaCmdlets are the *-ADServiceAccount cmdlets that act on the directory.
func gmsaCmdlets() []*cmdletDef {
	return []*cmdletDef{{
		name: "New-ADServiceAccount",
		params: []paramDef{
			{name: "Name", kind: pString, pos: 0, mandatory: true},
			// Not positional: the Group parameter set has only [-Name] by position.
			{name: "DNSHostName", kind: pString, pos: -1, mandatory: true},
			{name: "AccountExpirationDate", kind: pDate, pos: -1},
			{name: "Description", kind: pString, pos: -1},
			{name: "DisplayName", kind: pString, pos: -1},
			{name: "Enabled", kind: pBool, pos: -1},
			{name: "KerberosEncryptionType", kind: pEnumFlags, pos: -1, enumType: kerbEnumType, enum: kerbEnum},
			{name: "ManagedPasswordIntervalInDays", kind: pInt, pos: -1},
			{name: "OtherAttributes", kind: pHash, pos: -1},
			{name: "PassThru", kind: pSwitch, pos: -1},
			{name: "Path", kind: pString, pos: -1},
			{name: "PrincipalsAllowedToDelegateToAccount", kind: pStrings, pos: -1},
			{name: "PrincipalsAllowedToRetrieveManagedPassword", kind: pStrings, pos: -1},
			{name: "RestrictToOutboundAuthenticationOnly", kind: pSwitch, pos: -1},
			{name: "RestrictToSingleComputer", kind: pSwitch, pos: -1},
			{name: "SamAccountName", kind: pString, pos: -1},
			{name: "ServicePrincipalNames", kind: pStrings, pos: -1},
			{name: "TrustedForDelegation", kind: pBool, pos: -1},
		},
		optional: func(name string, b bound) bool {
			return name == "DNSHostName" && (b.on("RestrictToOutboundAuthenticationOnly") || b.on("RestrictToSingleComputer"))
		},
		run: newServiceAccount,
	}, {
		name: "Set-ADServiceAccount",
		params: []paramDef{
			{name: "Identity", kind: pString, pos: 0, mandatory: true},
			{name: "Add", kind: pHash, pos: -1},
			{name: "Clear", kind: pStrings, pos: -1},
			{name: "Description", kind: pString, pos: -1},
			{name: "DNSHostName", kind: pString, pos: -1},
			{name: "Enabled", kind: pBool, pos: -1},
			{name: "KerberosEncryptionType", kind: pEnumFlags, pos: -1, enumType: kerbEnumType, enum: kerbEnum},
			{name: "PassThru", kind: pSwitch, pos: -1},
			{name: "PrincipalsAllowedToDelegateToAccount", kind: pStrings, pos: -1},
			{name: "PrincipalsAllowedToRetrieveManagedPassword", kind: pStrings, pos: -1},
			{name: "Remove", kind: pHash, pos: -1},
			{name: "Replace", kind: pHash, pos: -1},
			{name: "SamAccountName", kind: pString, pos: -1},
			{name: "ServicePrincipalNames", kind: pHash, pos: -1},
			{name: "TrustedForDelegation", kind: pBool, pos: -1},
		},
		run: setServiceAccount,
	}, {
		name: "Get-ADServiceAccount",
		params: []paramDef{
			{name: "Identity", kind: pString, pos: 0},
			{name: "Filter", kind: pString, pos: -1},
			{name: "LDAPFilter", kind: pString, pos: -1},
			{name: "Properties", kind: pStrings, pos: -1},
			{name: "SearchBase", kind: pString, pos: -1},
		},
		run: func(x *cmdCtx, b bound) ([]any, error) {
			return getObjects(x, b, "msDS-GroupManagedServiceAccount", true, func(a *adCtx, o *obj) []psProp { return accountProps(o) })
		},
	}, {
		name:   "Remove-ADServiceAccount",
		params: []paramDef{{name: "Identity", kind: pString, pos: 0, mandatory: true}},
		run: func(x *cmdCtx, b bound) ([]any, error) {
			return nil, removeObject(x, b.str("Identity"), "msDS-GroupManagedServiceAccount", true)
		},
	}}
}

// hostCmdlets are the member-host cmdlets (hosts.go runs them): the binder needs only their
// parameters.
func hostCmdlets() []*cmdletDef {
	var out []*cmdletDef
	for _, n := range []string{"Install-ADServiceAccount", "Uninstall-ADServiceAccount", "Test-ADServiceAccount", "Reset-ADServiceAccountPassword"} {
		out = append(out, &cmdletDef{name: n, onHost: true, params: []paramDef{
			{name: "Identity", kind: pString, pos: 0, mandatory: true},
			{name: "AccountPassword", kind: pString, pos: -1},
			{name: "Force", kind: pSwitch, pos: -1},
			{name: "PromptForPassword", kind: pSwitch, pos: -1},
		}})
	}
	for _, n := range []string{"Restart-Computer", "Start-Service", "Stop-Service", "Restart-Service", "Get-Service", "sc", "klist", "Set-Date", "Restart-KdsService"} {
		out = append(out, &cmdletDef{name: n, onHost: true, params: []paramDef{{name: "Name", kind: pStrings, pos: 0}}})
	}
	return out
}

func newServiceAccount(x *cmdCtx, b bound) ([]any, error) {
	name := b.str("Name")
	sam := b.str("SamAccountName")
	if sam == "" {
		sam = name
	}
	if !strings.HasSuffix(sam, "$") {
		sam += "$"
	}
	class := "msDS-GroupManagedServiceAccount"
	if b.on("RestrictToSingleComputer") {
		class = "msDS-ManagedServiceAccount"
	}
	var out []any
	err := x.do(func(a *adCtx) error {
		path := b.str("Path")
		if path == "" {
			path = "CN=Managed Service Accounts," + a.d.DomainDN()
		}
		dn := "CN=" + escapeRDN(name) + "," + path
		attrs := []fakead.Attribute{
			attr("objectClass", class),
			attr("sAMAccountName", sam),
			attr("userAccountControl", strconv.Itoa(fakead.UACWorkstationTrust)),
		}
		if h := b.str("DNSHostName"); h != "" {
			attrs = append(attrs, attr("dNSHostName", h))
		}
		if class == "msDS-GroupManagedServiceAccount" {
			interval := int64(30)
			if b.has("ManagedPasswordIntervalInDays") {
				interval = b["ManagedPasswordIntervalInDays"].(int64)
			}
			// Divergence: the DC fills in 30 when the request has no interval; the module does it here.
			attrs = append(attrs, attr("msDS-ManagedPasswordInterval", strconv.FormatInt(interval, 10)))
		}
		enc := int64(28) // RC4, AES128, AES256
		if b.has("KerberosEncryptionType") {
			enc = encBits(b.strs("KerberosEncryptionType"))
		}
		attrs = append(attrs, attr("msDS-SupportedEncryptionTypes", strconv.FormatInt(enc, 10)))
		if ps := b.strs("PrincipalsAllowedToRetrieveManagedPassword"); len(ps) > 0 {
			sd, err := a.membershipSD(ps)
			if err != nil {
				return err
			}
			attrs = append(attrs, fakead.Attribute{Name: "msDS-GroupMSAMembership", Values: [][]byte{sd}})
		}
		if spns := b.strs("ServicePrincipalNames"); len(spns) > 0 {
			attrs = append(attrs, attr("servicePrincipalName", spns...))
		}
		if d := b.str("Description"); d != "" {
			attrs = append(attrs, attr("description", d))
		}
		if d := b.str("DisplayName"); d != "" {
			attrs = append(attrs, attr("displayName", d))
		}
		if h, ok := b["OtherAttributes"].(*psHash); ok {
			attrs = append(attrs, hashAttrs(h)...)
		}
		if v := a.schemaVersion(); class == "msDS-GroupManagedServiceAccount" && v > 0 && v < 52 {
			// Divergence: the text is the AD module's for an attribute the forest's schema does
			// not define (ADWS checks the request's attributes against the schema before the
			// add; msDS-ManagedPasswordInterval is the first 2012 attribute this request
			// carries). Not confirmed from a 2008 R2 forest; see
			// library/requirements-schema-47-refused.scn.
			return psErrf("The specified directory service attribute or value does not exist\nParameter name: msDS-ManagedPasswordInterval")
		}
		err := a.d.Add(a.now, a.c, dn, attrs)
		var fe *fakead.Error
		if errors.As(err, &fe) && fe.Code == fakead.UnwillingToPerform && fe.Err != nil &&
			strings.Contains(fe.Err.Error(), "no domain controller of Windows Server 2012") {
			// Divergence: with no Windows Server 2012 DC there is no KDS to compute the new
			// account's password id, and the simulator prints the error the module prints when the
			// KDS has no root key (seed 000). Not confirmed from a 2008 R2-only domain; see
			// library/requirements-no-2012-dc.scn.
			return psErrf("Key does not exist")
		}
		if err := adError(err, "account"); err != nil {
			return err
		}
		if b.on("TrustedForDelegation") {
			if err := a.setUAC(dn, 0x80000, true); err != nil {
				return err
			}
		}
		if b.has("Enabled") && !b.on("Enabled") {
			if err := a.setUAC(dn, 0x2, true); err != nil {
				return err
			}
		}
		if b.on("PassThru") {
			o, err := a.find(dn, "", false)
			if err != nil {
				return err
			}
			out = append(out, &psObject{props: accountProps(o)})
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

func setServiceAccount(x *cmdCtx, b bound) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		o, err := a.find(b.str("Identity"), "msDS-GroupManagedServiceAccount", true)
		if err != nil {
			return err
		}
		mods, err := a.commonMods(b)
		if err != nil {
			return err
		}
		if b.has("PrincipalsAllowedToRetrieveManagedPassword") {
			ids := b.strs("PrincipalsAllowedToRetrieveManagedPassword")
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
		if h, ok := b["ServicePrincipalNames"].(*psHash); ok {
			for i, k := range h.keys {
				var vals []string
				for _, v := range flatten(h.vals[i]) {
					vals = append(vals, psString(v))
				}
				op := map[string]fakead.ModOp{"add": fakead.ModAdd, "remove": fakead.ModDelete, "replace": fakead.ModReplace}
				m, ok := op[strings.ToLower(k)]
				if !ok {
					return psErrf("Cannot bind parameter 'ServicePrincipalNames'. The hashtable key '%s' is not valid: use Add, Remove or Replace.", k)
				}
				mods = append(mods, fakead.Modification{Op: m, Attr: attr("servicePrincipalName", vals...)})
			}
		}
		if b.has("KerberosEncryptionType") {
			mods = append(mods, fakead.Modification{Op: fakead.ModReplace, Attr: attr("msDS-SupportedEncryptionTypes", strconv.FormatInt(encBits(b.strs("KerberosEncryptionType")), 10))})
		}
		if len(mods) > 0 {
			if err := adError(a.d.Modify(a.now, a.c, o.dn, mods), ""); err != nil {
				return err
			}
		}
		if b.has("TrustedForDelegation") {
			if err := a.setUAC(o.dn, 0x80000, b.on("TrustedForDelegation")); err != nil {
				return err
			}
		}
		if b.has("Enabled") {
			if err := a.setUAC(o.dn, 0x2, !b.on("Enabled")); err != nil {
				return err
			}
		}
		if b.on("PassThru") {
			o, err = a.find(o.dn, "", false)
			if err != nil {
				return err
			}
			out = append(out, &psObject{props: accountProps(o)})
		}
		return nil
	})
	return out, err
}

// commonMods are the generic -Add/-Remove/-Replace/-Clear and simple string parameters.
func (a *adCtx) commonMods(b bound) ([]fakead.Modification, error) {
	var mods []fakead.Modification
	for _, p := range []struct {
		param string
		op    fakead.ModOp
	}{{"Add", fakead.ModAdd}, {"Remove", fakead.ModDelete}, {"Replace", fakead.ModReplace}} {
		if h, ok := b[p.param].(*psHash); ok {
			for _, at := range hashAttrs(h) {
				mods = append(mods, fakead.Modification{Op: p.op, Attr: at})
			}
		}
	}
	for _, c := range b.strs("Clear") {
		mods = append(mods, fakead.Modification{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: c}})
	}
	for _, p := range []struct{ param, attr string }{{"Description", "description"}, {"DNSHostName", "dNSHostName"}, {"SamAccountName", "sAMAccountName"}} {
		if b.has(p.param) {
			mods = append(mods, fakead.Modification{Op: fakead.ModReplace, Attr: attr(p.attr, b.str(p.param))})
		}
	}
	return mods, nil
}

// getObjects is Get-AD*: by identity, or -Filter * / -LDAPFilter.
func getObjects(x *cmdCtx, b bound, class string, dollar bool, props func(*adCtx, *obj) []psProp) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		var objs []*obj
		switch {
		case b.has("Identity"):
			o, err := a.find(b.str("Identity"), class, dollar)
			if err != nil {
				return err
			}
			objs = []*obj{o}
		case b.has("Filter") || b.has("LDAPFilter"):
			var f fakead.Filter = fakead.FilterEquality{Attr: "objectClass", Value: []byte(class)}
			if lf := b.str("LDAPFilter"); lf != "" {
				pf, err := fakead.ParseFilter(lf)
				if err != nil {
					return psErrf("The search filter cannot be recognized")
				}
				f = fakead.FilterAnd{f, pf}
			} else if strings.TrimSpace(b.str("Filter")) != "*" {
				// Divergence: -Filter's PowerShell expression language is not simulated; use -LDAPFilter.
				return psErrf("Error parsing query: '%s' (the simulator supports -Filter * and -LDAPFilter)", b.str("Filter"))
			}
			base := b.str("SearchBase")
			if base == "" {
				base = a.d.DomainDN()
			}
			res, err := a.search(base, fakead.ScopeSub, f)
			if err != nil {
				return adError(err, "")
			}
			objs = res
		default:
			return psErrf("Cannot process command because of one or more missing mandatory parameters: Identity.")
		}
		for _, o := range objs {
			out = append(out, a.withProperties(o, props(a, o), b.strs("Properties")))
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
