package fakead

import (
	"strings"

	"github.com/gmsasim/gmsasim/ad"
)

// Validated writes ([MS-ADTS] 3.1.1.5.3.1.1.2 and 3.1.1.5.3.1.1.4): a computer holds, on its own
// object, the Validated-DNS-Host-Name, Validated-MS-DS-Additional-DNS-Host-Name and Validated-SPN
// rights, not a plain write right. A value it writes through them must name the computer itself;
// otherwise the write needs RIGHT_DS_WRITE_PROPERTY, which it lacks, and fails with
// insufficientAccessRights. Owners, administrators, Account Operators and explicit grants write
// without these constraints.

// checkValidatedWrites checks, for a caller writing its own computer object through the
// self-write rights, every dNSHostName, msDS-AdditionalDnsHostName and servicePrincipalName value
// the modify adds. Values it removes need no check.
func (d *Directory) checkValidatedWrites(c Caller, e *entry, p *modPlan) error {
	if d.writesWithoutValidation(c, e) || !d.isClass(e, "computer") {
		return nil
	}
	sam := strings.TrimSuffix(strings.ToLower(e.firstString(d.at.sAMAccountName)), "$")
	final := func(name string) []string {
		t := d.schema.Attr(name)
		if t == nil {
			return nil
		}
		vals := e.stringValues(t)
		if w, ok := p.work[t]; ok {
			vals = vals[:0:0]
			for _, v := range w {
				vals = append(vals, string(v.raw))
			}
		}
		return vals
	}
	added := func(name string) []string {
		t := d.schema.Attr(name)
		if t == nil || !p.changed[t] {
			return nil
		}
		var out []string
		for _, v := range p.work[t] {
			if a := e.get(t); a == nil || a.has(v.norm) < 0 {
				out = append(out, string(v.raw))
			}
		}
		return out
	}
	dnStr := e.dn.String()
	for _, attr := range []string{ad.AttrDNSHostName, ad.AttrAdditionalDNSHostName} {
		for _, v := range added(attr) {
			if !d.validHostDNSName(v, sam) {
				return errAccess("modify", dnStr, "validated write to "+attr+": "+v+
					" is not "+sam+" followed by the domain's DNS name or an allowed DNS suffix")
			}
		}
	}
	names := map[string]bool{sam: true}
	for _, attr := range []string{ad.AttrDNSHostName, ad.AttrAdditionalDNSHostName, ad.AttrAdditionalSAMAccountName} {
		for _, v := range final(attr) {
			names[strings.TrimSuffix(strings.ToLower(v), "$")] = true
		}
	}
	for _, spn := range added(ad.AttrServicePrincipalName) {
		if !spnNamesHost(spn, names) {
			return errAccess("modify", dnStr, "validated write to servicePrincipalName: "+spn+
				" does not name this computer (its host must be one of its own DNS or NetBIOS names)")
		}
	}
	return nil
}

// writesWithoutValidation reports whether c writes e's attributes through a real write right
// rather than the validated self-write rights.
func (d *Directory) writesWithoutValidation(c Caller, e *entry) bool {
	return c.System || d.isAdmin(c) || d.granted(c, e, e, RightWriteProperty) || (d.isAccountOp(c) && d.accountOpMay(e))
}

// validHostDNSName reports whether v is "<computer name>.<suffix>" with the computer's own name
// and the domain's DNS name (or one of the domain's msDS-AllowedDNSSuffixes) as suffix.
func (d *Directory) validHostDNSName(v, sam string) bool {
	host, suffix, ok := strings.Cut(strings.ToLower(strings.TrimSuffix(v, ".")), ".")
	if !ok || host != sam {
		return false
	}
	if suffix == strings.ToLower(d.dom.DNSName) {
		return true
	}
	if dom := d.lookup(d.dom.domainDN); dom != nil {
		if t := d.schema.Attr(ad.AttrAllowedDNSSuffixes); t != nil {
			for _, s := range dom.stringValues(t) {
				if strings.EqualFold(strings.TrimSuffix(s, "."), suffix) {
					return true
				}
			}
		}
	}
	return false
}

// spnNamesHost reports whether spn is a two-part SPN (class/host, with an optional numeric
// port and no instance name) whose host is one of names (lower case, no trailing "$").
func spnNamesHost(spn string, names map[string]bool) bool {
	class, rest, ok := strings.Cut(spn, "/")
	if !ok || class == "" || strings.Contains(rest, "/") {
		return false // three-part SPNs are for domain controller objects only
	}
	host, port, hasPort := strings.Cut(rest, ":")
	if hasPort {
		if port == "" {
			return false
		}
		for _, r := range port {
			if r < '0' || r > '9' {
				return false // ":instancename" is not allowed
			}
		}
	}
	return names[strings.ToLower(strings.TrimSuffix(host, "."))]
}
