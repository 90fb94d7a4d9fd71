package scenarios

import (
	"errors"
	"github.com/gmsasim/gmsasim/scenarios/ps"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
)

// adCtx is a cmdlet's view inside the world loop: the DC's replica, the time and the caller.
type adCtx struct {
	now time.Time
	d   *fakead.Directory
	c   fakead.Caller
	x   *cmdCtx
}

// do runs fn inside the world loop on the cmdlet's DC as the session's principal.
func (x *cmdCtx) do(fn func(a *adCtx) error) error {
	err := x.r.w.ExecOn(x.target, func(now time.Time, d *fakead.Directory) error {
		c, err := x.r.callerOn(d, x.as, true)
		if err != nil {
			return err
		}
		return fn(&adCtx{now: now, d: d, c: c, x: x})
	})
	return adError(err, "")
}

// unreachable is the AD module's message when the DC (its Web Services) cannot be reached.
const unreachable = "Unable to contact the server. This may be because this server does not exist, it is currently down, or it does not have the Active Directory Web Services running."

// adError turns a model error into the message the AD module prints. kind ("account", "group")
// picks the "already exists" wording.
func adError(err error, kind string) error {
	if err == nil {
		return nil
	}
	var pe *ps.Error
	var pf *PendingFeatureError
	if errors.As(err, &pe) || errors.As(err, &pf) {
		return err
	}
	if errors.Is(err, sim.ErrUnknownDC) {
		return ps.Errorf("%s", unreachable)
	}
	if errors.Is(err, fakekds.ErrNoRootKey) {
		return ps.Errorf("Key does not exist")
	}
	var fe *fakead.Error
	if !errors.As(err, &fe) {
		return ps.Errorf("%s", err.Error())
	}
	if strings.Contains(fe.Diag, "Key does not exist") {
		return ps.Errorf("Key does not exist")
	}
	switch fe.Code {
	case fakead.InsufficientAccessRights:
		return ps.Errorf("Access is denied")
	case fakead.Unavailable:
		return ps.Errorf("%s", unreachable)
	case fakead.EntryAlreadyExists:
		switch kind {
		case "group":
			return ps.Errorf("The specified group already exists")
		case "account":
			return ps.Errorf("The specified account already exists")
		}
		return ps.Errorf("The object already exists")
	case fakead.NoSuchObject:
		return ps.Errorf("Directory object not found")
	case fakead.ConstraintViolation:
		if kind == "account" && strings.Contains(strings.ToLower(fe.Diag), "samaccountname") {
			return ps.Errorf("The specified account already exists")
		}
		// The AD module prints FormatMessage of the extended error for the forest-wide uniqueness
		// checks of Windows Server 2012 R2 and later: "Set-ADServiceAccount : The operation failed
		// because SPN value provided for addition/modification is not unique forest-wide"
		// (MicrosoftDocs/windows-powershell-docs#246; the codes and texts are in the table of
		// windowsserverdocs' SPN-and-UPN-uniqueness.md, MicrosoftDocs/windowsserverdocs#6081).
		switch {
		case strings.HasPrefix(fe.Diag, "000021C7"):
			return ps.Errorf("The operation failed because SPN value provided for addition/modification is not unique forest-wide")
		case strings.HasPrefix(fe.Diag, "000021C8"):
			return ps.Errorf("The operation failed because UPN value provided for addition/modification is not unique forest-wide")
		}
		return ps.Errorf("A constraint violation occurred")
	case fakead.UnwillingToPerform:
		return ps.Errorf("The server is unwilling to process the request")
	case fakead.ObjectClassViolation:
		return ps.Errorf("The requested operation did not satisfy one or more constraints associated with the class of the object")
	case fakead.UndefinedAttributeType:
		return ps.Errorf("The specified directory service attribute or value does not exist")
	case fakead.InvalidAttributeSyntax:
		return ps.Errorf("The attribute syntax specified to the directory service is invalid")
	case fakead.AttributeOrValueExists:
		return ps.Errorf("The specified value already exists")
	case fakead.NoSuchAttribute:
		return ps.Errorf("The specified directory service attribute or value does not exist")
	case fakead.NotAllowedOnNonLeaf:
		return ps.Errorf("The operation cannot be performed because child objects exist. This operation can only be performed on a leaf object")
	case fakead.NamingViolation:
		return ps.Errorf("A naming violation occurred")
	}
	return ps.Errorf("%s", fe.Error())
}

// obj is a found directory object.
type obj struct {
	dn    string
	attrs map[string][][]byte // lower-case names
	names map[string]string   // lower-case → as the directory spells it
}

func (o *obj) str(name string) string {
	v := o.attrs[strings.ToLower(name)]
	if len(v) == 0 {
		return ""
	}
	return string(v[0])
}

func (o *obj) strs(name string) []string {
	var out []string
	for _, v := range o.attrs[strings.ToLower(name)] {
		out = append(out, string(v))
	}
	return out
}

func (o *obj) int(name string) int64 {
	n, _ := strconv.ParseInt(o.str(name), 10, 64)
	return n
}

func (o *obj) sid() string {
	s, err := ad.SIDFromBytes(o.attrs["objectsid"][0])
	if len(o.attrs["objectsid"]) == 0 || err != nil {
		return ""
	}
	return s.String()
}

func (o *obj) guid() string {
	v := o.attrs["objectguid"]
	if len(v) == 0 {
		return ""
	}
	g, err := ad.GUIDFromWire(v[0])
	if err != nil {
		return ""
	}
	return g.String()
}

func (o *obj) lastClass() string {
	cl := o.strs("objectClass")
	if len(cl) == 0 {
		return ""
	}
	return cl[len(cl)-1]
}

func toObj(e fakead.SearchEntry) *obj {
	o := &obj{dn: e.DN, attrs: map[string][][]byte{}, names: map[string]string{}}
	for _, a := range e.Attributes {
		o.attrs[strings.ToLower(a.Name)] = a.Values
		o.names[strings.ToLower(a.Name)] = a.Name
	}
	return o
}

// readAttrs are the attributes the AD cmdlets ask for when they read objects.
func readAttrs() []string {
	return []string{"*", "msDS-GroupMSAMembership", "msDS-ManagedPasswordInterval", "msDS-ManagedPasswordId",
		"msDS-SupportedEncryptionTypes", "objectGUID", "objectSid", "member", "memberOf", "servicePrincipalName",
		"dNSHostName", "userAccountControl", "groupType", "pwdLastSet", "msDS-AllowedToDelegateTo"}
}

func (a *adCtx) search(base string, scope fakead.Scope, f fakead.Filter) ([]*obj, error) {
	res, err := a.d.Search(a.now, a.c, &fakead.SearchRequest{BaseDN: base, Scope: scope, Filter: f, Attributes: readAttrs(), SDFlags: -1})
	if err != nil {
		return nil, err
	}
	out := make([]*obj, len(res))
	for i, e := range res {
		out[i] = toObj(e)
	}
	return out, nil
}

func eq(attr, val string) fakead.Filter { return fakead.FilterEquality{Attr: attr, Value: []byte(val)} }

// find resolves an AD module identity: a DN, a GUID, a SID or a sAMAccountName (with "$"
// appended as a fallback when dollar is set, as Get-ADComputer and Get-ADServiceAccount do).
func (a *adCtx) find(identity, class string, dollar bool) (*obj, error) {
	notFound := ps.Errorf("Cannot find an object with identity: '%s' under: '%s'.", identity, a.d.DomainDN())
	var f fakead.Filter
	switch {
	case identity == "":
		return nil, notFound
	case strings.Contains(identity, "=") && strings.Contains(identity, ","):
		res, err := a.search(identity, fakead.ScopeBase, fakead.FilterPresent{Attr: "objectClass"})
		if err != nil || len(res) == 0 {
			return nil, notFound
		}
		if class != "" && !hasClass(res[0], class) {
			return nil, notFound
		}
		return res[0], nil
	case strings.HasPrefix(strings.ToUpper(identity), "S-1-"):
		sid, err := ad.ParseSID(identity)
		if err != nil {
			return nil, notFound
		}
		f = fakead.FilterEquality{Attr: "objectSid", Value: sid.Bytes()}
	default:
		if g, err := ad.ParseGUID(identity); err == nil {
			f = fakead.FilterEquality{Attr: "objectGUID", Value: g[:]}
		} else if dollar && !strings.HasSuffix(identity, "$") {
			f = fakead.FilterOr{eq("sAMAccountName", identity), eq("sAMAccountName", identity+"$")}
		} else {
			f = eq("sAMAccountName", identity)
		}
	}
	if class != "" {
		f = fakead.FilterAnd{eq("objectClass", class), f}
	}
	res, err := a.search(a.d.DomainDN(), fakead.ScopeSub, f)
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, notFound
	}
	return res[0], nil
}

func hasClass(o *obj, class string) bool {
	for _, c := range o.strs("objectClass") {
		if strings.EqualFold(c, class) {
			return true
		}
	}
	return false
}

// principals resolves ADPrincipal identities (no "$" fallback: a computer is Host1$, the
// forgotten "$" is an error as on Windows).
func (a *adCtx) principals(ids []string) ([]*obj, error) {
	var out []*obj
	for _, id := range ids {
		o, err := a.find(id, "", false)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (a *adCtx) dnOfSID(sid string) string {
	o, err := a.find(sid, "", false)
	if err != nil {
		return sid
	}
	return o.dn
}

func attr(name string, vals ...string) fakead.Attribute {
	a := fakead.Attribute{Name: name}
	for _, v := range vals {
		a.Values = append(a.Values, []byte(v))
	}
	return a
}

// hashAttrs turns -OtherAttributes/-Add/-Replace @{...} into attributes.
func hashAttrs(h *ps.Hashtable) []fakead.Attribute {
	var out []fakead.Attribute
	for i, k := range h.Keys {
		var vals []string
		for _, v := range ps.Flatten(h.Vals[i]) {
			vals = append(vals, ps.ToString(v))
		}
		out = append(out, attr(k, vals...))
	}
	return out
}

// encType is a KerberosEncryptionType name and its msDS-SupportedEncryptionTypes bits.
type encType struct {
	name string
	bits int64
}

// encTypes are the KerberosEncryptionType names and their bits, in bit order.
func encTypes() []encType { return []encType{{"DES", 3}, {"RC4", 4}, {"AES128", 8}, {"AES256", 16}} }

func encBits(names []string) int64 {
	var n int64
	for _, x := range names {
		for _, e := range encTypes() {
			if strings.EqualFold(e.name, x) {
				n |= e.bits
			}
		}
	}
	return n
}

func encNames(bits int64) string {
	if bits == 0 {
		return "None"
	}
	var out []string
	for _, e := range encTypes() {
		if bits&e.bits == e.bits {
			out = append(out, e.name)
		}
	}
	return strings.Join(out, ", ")
}

// baseProps are the default properties of the AD module's objects.
func accountProps(o *obj, extra ...ps.Prop) []ps.Prop {
	uac := o.int("userAccountControl")
	p := []ps.Prop{
		{Name: "DistinguishedName", Val: o.dn},
		{Name: "Enabled", Val: uac&0x2 == 0},
		{Name: "Name", Val: o.str("name")},
		{Name: "ObjectClass", Val: o.lastClass()},
		{Name: "ObjectGUID", Val: o.guid()},
		{Name: "SamAccountName", Val: o.str("sAMAccountName")},
		{Name: "SID", Val: o.sid()},
		{Name: "UserPrincipalName", Val: o.str("userPrincipalName")},
	}
	return append(p, extra...)
}

func groupScope(gt int64) string {
	switch {
	case gt&4 != 0:
		return "DomainLocal"
	case gt&8 != 0:
		return "Universal"
	}
	return "Global"
}

func groupCategory(gt int64) string {
	if gt < 0 || gt&0x80000000 != 0 {
		return "Security"
	}
	return "Distribution"
}

func groupProps(o *obj) []ps.Prop {
	gt := o.int("groupType")
	return []ps.Prop{
		{Name: "DistinguishedName", Val: o.dn},
		{Name: "GroupCategory", Val: groupCategory(gt)},
		{Name: "GroupScope", Val: groupScope(gt)},
		{Name: "Name", Val: o.str("name")},
		{Name: "ObjectClass", Val: o.lastClass()},
		{Name: "ObjectGUID", Val: o.guid()},
		{Name: "SamAccountName", Val: o.str("sAMAccountName")},
		{Name: "SID", Val: o.sid()},
	}
}

// extendedProp is one -Properties name: the AD module's friendly names, else the LDAP attribute.
func (a *adCtx) extendedProp(o *obj, name string) ps.Prop {
	switch strings.ToLower(name) {
	case "principalsallowedtoretrievemanagedpassword":
		var dns []string
		if v := o.attrs["msds-groupmsamembership"]; len(v) > 0 {
			sids, err := parseGMSAMembershipSD(v[0])
			if err != nil {
				return ps.Prop{Name: "PrincipalsAllowedToRetrieveManagedPassword", Val: "(unreadable: " + err.Error() + ")"}
			}
			for _, s := range sids {
				dns = append(dns, a.dnOfSID(s))
			}
		}
		return ps.Prop{Name: "PrincipalsAllowedToRetrieveManagedPassword", Val: nonNil(dns)}
	case "serviceprincipalnames":
		return ps.Prop{Name: "ServicePrincipalNames", Val: nonNil(o.strs("servicePrincipalName"))}
	case "dnshostname":
		return ps.Prop{Name: "DNSHostName", Val: o.str("dNSHostName")}
	case "managedpasswordintervalindays":
		var v any
		if s := o.str("msDS-ManagedPasswordInterval"); s != "" {
			v = s
		}
		return ps.Prop{Name: "ManagedPasswordIntervalInDays", Val: v}
	case "kerberosencryptiontype":
		// An ADPropertyValueCollection: it prints in braces, "{RC4, AES128, AES256}", and an account
		// without msDS-SupportedEncryptionTypes has an empty one.
		if o.str("msDS-SupportedEncryptionTypes") == "" {
			return ps.Prop{Name: "KerberosEncryptionType", Val: []string{}}
		}
		return ps.Prop{Name: "KerberosEncryptionType", Val: strings.Split(encNames(o.int("msDS-SupportedEncryptionTypes")), ", ")}
	case "trustedfordelegation":
		return ps.Prop{Name: "TrustedForDelegation", Val: o.int("userAccountControl")&0x80000 != 0}
	case "memberof":
		return ps.Prop{Name: "MemberOf", Val: nonNil(o.strs("memberOf"))}
	case "members":
		return ps.Prop{Name: "Members", Val: nonNil(o.strs("member"))}
	case "passwordlastset":
		var v any
		if n := o.int("pwdLastSet"); n > 0 {
			v = ad.FileTime(n).Time()
		}
		return ps.Prop{Name: "PasswordLastSet", Val: v}
	}
	vals := o.attrs[strings.ToLower(name)]
	if len(vals) == 1 && isDateAttr(name) {
		// GeneralizedTime attributes are DateTime properties in the AD module: they print as dates
		// ("11/23/2026 2:00:00 PM"), not as "20261123140000.0Z".
		if t, err := ad.ParseGeneralizedTime(string(vals[0])); err == nil {
			return ps.Prop{Name: name, Val: t}
		}
	}
	switch {
	case len(vals) == 0:
		return ps.Prop{Name: name, Val: nil}
	case len(vals) == 1 && printableBytes(vals[0]):
		return ps.Prop{Name: name, Val: string(vals[0])}
	case len(vals) == 1:
		return ps.Prop{Name: name, Val: byteList(vals[0])}
	}
	var ss []string
	for _, v := range vals {
		if printableBytes(v) {
			ss = append(ss, string(v))
		} else {
			ss = append(ss, byteList(v))
		}
	}
	return ps.Prop{Name: name, Val: ss}
}

// isDateAttr reports a GeneralizedTime attribute the AD module turns into a DateTime.
func isDateAttr(name string) bool {
	switch strings.ToLower(name) {
	case "whencreated", "whenchanged", "createtimestamp", "modifytimestamp", "dscorepropagationdata":
		return true
	}
	return false
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func printableBytes(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// byteList prints a byte array as PowerShell's list view does: its first four values.
func byteList(b []byte) string {
	var parts []string
	for i, c := range b {
		if i == ps.EnumerationLimit {
			return "{" + strings.Join(parts, ", ") + "...}"
		}
		parts = append(parts, strconv.Itoa(int(c)))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// withProperties adds the requested -Properties and sorts as the AD module's objects print.
func (a *adCtx) withProperties(o *obj, base []ps.Prop, names []string) *ps.Object {
	props := append([]ps.Prop(nil), base...)
	have := map[string]bool{}
	for _, p := range props {
		have[strings.ToLower(p.Name)] = true
	}
	for _, n := range names {
		if n == "*" {
			// Every friendly property, then every attribute the caller may read.
			star := []string{"PrincipalsAllowedToRetrieveManagedPassword", "ServicePrincipalNames", "DNSHostName",
				"ManagedPasswordIntervalInDays", "KerberosEncryptionType", "TrustedForDelegation", "MemberOf", "PasswordLastSet"}
			for _, a := range slices.Sorted(maps.Keys(o.attrs)) {
				star = append(star, o.names[a])
			}
			for _, sn := range star {
				p := a.extendedProp(o, sn)
				if !have[strings.ToLower(p.Name)] {
					props = append(props, p)
					have[strings.ToLower(p.Name)] = true
				}
			}
			continue
		}
		p := a.extendedProp(o, n)
		if !have[strings.ToLower(p.Name)] {
			props = append(props, p)
			have[strings.ToLower(p.Name)] = true
		}
	}
	if len(names) > 0 {
		sort.SliceStable(props, func(i, j int) bool { return strings.ToLower(props[i].Name) < strings.ToLower(props[j].Name) })
	}
	return &ps.Object{Props: props}
}
