package fakead

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gmsasim/gmsasim/ad"
)

// Account control bits ([MS-ADTS] 2.2.16) and sAMAccountType values ([MS-SAMR] 2.2.1.9).
const (
	UACAccountDisable        = 0x2
	UACPasswdNotReqd         = 0x20
	UACNormalAccount         = 0x200
	UACWorkstationTrust      = 0x1000
	UACServerTrust           = 0x2000
	UACDontExpirePassword    = 0x10000
	UACTrustedForDelegation  = 0x80000
	samNormalUserAccount     = 0x30000000
	samMachineAccount        = 0x30000001
	samGroupObject           = 0x10000000
	samNonSecurityGroup      = 0x10000001
	samAliasObject           = 0x20000000
	samNonSecurityAlias      = 0x20000001
	groupTypeGlobalSecurity  = -2147483646
	groupTypeSecurityEnabled = -2147483648
	groupTypeDomainLocal     = 0x4
	groupTypeBuiltinLocal    = 0x1
)

// Attributes only the directory itself writes; a client sending them on add is refused.
// Divergence: AD checks this through systemOnly plus per-attribute SAM rules; we list them.
var generatedAttrs = map[string]bool{
	"objectguid": true, "objectsid": true, "usncreated": true, "usnchanged": true, "whencreated": true,
	"whenchanged": true, "memberof": true, "isdeleted": true, "samaccounttype": true, "name": true,
	"supplementalcredentials": true, "lastknownparent": true, "objectcategory": false,
}

// Add creates an entry ([MS-ADTS] 3.1.1.5.2).
func (d *Directory) Add(now time.Time, c Caller, dnStr string, attrs []Attribute) error {
	const op = "add"
	dn, err := ParseDN(dnStr)
	if err != nil || dn.IsZero() {
		return errInvalidDN(op, dnStr)
	}
	if c.Anonymous() {
		return opErr(OperationsError, op, dnStr, diagMustBind)
	}
	if x := d.lookup(dn); x != nil {
		return opErr(EntryAlreadyExists, op, dnStr, diagEntryExists)
	}
	parent := d.lookup(dn.Parent())
	if parent == nil || parent.deleted {
		return errNoSuchObject(op, dnStr, d.bestMatch(dn))
	}
	e, pw, err := d.buildEntry(op, dnStr, dn, attrs, c)
	if err != nil {
		return err
	}
	if err := d.checkCreate(c, parent, e); err != nil {
		return err
	}
	gm, err := d.checkGMSAAdd(now, c, e) // gMSA and KDS root-key rules (gmsa.go)
	if err != nil {
		return err
	}
	usn := d.nextUSN()
	if err := d.fillDefaults(now, e, c, usn); err != nil {
		d.usn-- // nothing was written
		return err
	}
	if err := d.checkContent(op, dnStr, e); err != nil {
		d.usn--
		return err
	}
	if err := d.checkUnique(op, dnStr, e); err != nil {
		d.usn--
		return err
	}
	if gm != nil {
		if err := d.finishGMSAAdd(now, e, gm, usn); err != nil {
			d.usn--
			return err
		}
	}
	d.insert(e)
	if pw != nil {
		d.storePassword(e, *pw, now, usn)
	}
	return nil
}

// bestMatch is the deepest existing ancestor of dn, for noSuchObject.
//
// It walks down from the root rather than up from dn: an entry's parent exists (naming-context
// heads aside), so the existing ancestors of dn are a run of its shorter suffixes, and the walk
// stops at the first missing one after a hit, or at the directory's greatest depth. The cost is
// bounded by the depth of the directory, not by the length of dn.
func (d *Directory) bestMatch(dn DN) string {
	var best *entry
	for i := len(dn) - 1; i >= 1 && len(dn)-i <= d.maxDepth; i-- {
		e := d.lookup(dn[i:])
		if e == nil {
			if best != nil {
				break
			}
			continue
		}
		if !e.deleted {
			best = e
		}
	}
	if best == nil {
		return ""
	}
	return best.dn.String()
}

// buildEntry resolves and validates the attributes of an add, returning the entry (not yet
// inserted) and a password sent as unicodePwd.
func (d *Directory) buildEntry(op, dnStr string, dn DN, attrs []Attribute, c Caller) (*entry, *string, error) {
	e := &entry{dn: dn}
	var pw *string
	for _, in := range attrs {
		t := d.schema.Attr(in.Name)
		if t == nil || !d.attrAvailable(t) {
			return nil, nil, errUndefinedAttr(op, dnStr, in.Name)
		}
		if t == d.at.unicodePwd {
			p, err := d.decodePassword(op, dnStr, c, in.Values)
			if err != nil {
				return nil, nil, err
			}
			pw = &p
			continue
		}
		if !c.System && (generatedAttrs[t.lower] || t.IsBackLink() || t.Constructed()) {
			return nil, nil, errConstraint(op, dnStr, t)
		}
		if t == d.at.dn {
			continue // AD accepts distinguishedName on add and uses the request's DN
		}
		a := e.get(t)
		if a == nil {
			a = &attr{t: t}
			e.attrs = append(e.attrs, a)
		}
		for _, v := range in.Values {
			raw, norm, err := canonical(t, v)
			if err != nil {
				return nil, nil, errSyntaxValue(op, dnStr, t)
			}
			if t == d.at.objectClass {
				cl := d.schema.Class(string(v))
				if cl == nil || !d.classAvailable(cl) {
					return nil, nil, errObjClass(op, dnStr, fmt.Sprintf("unknown objectClass %q", v))
				}
				raw, norm = []byte(cl.Name), cl.lower
			}
			if a.has(norm) >= 0 {
				return nil, nil, errValueExists(op, dnStr, t)
			}
			a.vals = append(a.vals, value{raw: raw, norm: norm})
		}
		if len(a.vals) == 0 {
			return nil, nil, errConstraint(op, dnStr, t)
		}
		if !c.System {
			if err := d.checkLinkTargets(op, dnStr, t, a.vals); err != nil {
				return nil, nil, err
			}
		}
		if t.SingleValued && len(a.vals) > 1 {
			return nil, nil, errSingleValue(op, dnStr, t)
		}
	}
	if err := d.resolveClasses(op, dnStr, e); err != nil {
		return nil, nil, err
	}
	// The RDN attribute must agree with the DN; AD fills it in when it is absent.
	rdn := dn.RDN()
	rt := d.schema.Attr(rdn.Attr)
	if rt == nil {
		return nil, nil, &Error{Code: NamingViolation, Op: op, DN: dnStr, Diag: fmt.Sprintf(diagNamingViol, d.bestMatch(dn))}
	}
	if utf8.RuneCountInString(rdn.Value) >= MaxRDNLength {
		return nil, nil, &Error{Code: NamingViolation, Op: op, DN: dnStr, Diag: fmt.Sprintf(diagNamingViol, d.bestMatch(dn)),
			Err: fmt.Errorf("the RDN value has %d characters; it must be less than %d", utf8.RuneCountInString(rdn.Value), MaxRDNLength)}
	}
	if a := e.get(rt); a != nil {
		if a.has(foldCase(rdn.Value)) < 0 && a.has(rdn.Value) < 0 {
			return nil, nil, &Error{Code: NamingViolation, Op: op, DN: dnStr, Diag: fmt.Sprintf(diagNamingViol, d.bestMatch(dn)),
				Err: fmt.Errorf("%s does not match the RDN", rt.Name)}
		}
	}
	return e, pw, nil
}

// Divergence: possSuperiors (which classes may contain which) is not enforced, and DN-valued
// attributes other than forward links may name objects that do not exist.

// resolveClasses sets e.class and rewrites objectClass to the full chain plus auxiliary classes.
func (d *Directory) resolveClasses(op, dnStr string, e *entry) error {
	oc := e.get(d.at.objectClass)
	if oc == nil {
		return errObjClass(op, dnStr, "objectClass missing")
	}
	var structural *Class
	var aux []*Class
	for _, v := range oc.vals {
		cl := d.schema.Class(v.norm)
		switch cl.Category {
		case objectClassAuxiliary:
			aux = append(aux, cl)
		case objectClassAbstract:
			// top and other abstract classes name the chain; they are implied.
		default:
			if structural == nil || inChain(cl, structural) {
				structural = cl
			} else if !inChain(structural, cl) {
				return errObjClass(op, dnStr, fmt.Sprintf("unrelated structural classes %s and %s", structural.Name, cl.Name))
			}
		}
	}
	if structural == nil {
		return errObjClass(op, dnStr, "no structural objectClass")
	}
	e.class = structural
	var vals []value
	for _, x := range structural.chain {
		vals = append(vals, value{raw: []byte(x.Name), norm: x.lower})
	}
	for _, x := range aux {
		if !containsNorm(vals, x.lower) {
			vals = append(vals, value{raw: []byte(x.Name), norm: x.lower})
		}
	}
	oc.vals = vals
	return nil
}

// inChain reports whether sup is in c's superclass chain (c itself included).
func inChain(c, sup *Class) bool {
	for _, x := range c.chain {
		if x == sup {
			return true
		}
	}
	return false
}

func containsNorm(vs []value, n string) bool {
	for _, v := range vs {
		if v.norm == n {
			return true
		}
	}
	return false
}

func (d *Directory) isClass(e *entry, name string) bool {
	if e.class == nil {
		return false
	}
	cl := d.schema.Class(name)
	return cl != nil && inChain(e.class, cl)
}

func (d *Directory) isSecurityPrincipal(e *entry) bool {
	return d.isClass(e, "user") || d.isClass(e, "group")
}

// fillDefaults adds what AD generates on add: name, RDN attribute, distinguishedName, objectGUID,
// objectSid and the SAM defaults for users, computers and groups, times and USNs.
func (d *Directory) fillDefaults(now time.Time, e *entry, c Caller, usn uint64) error {
	rdn := e.dn.RDN()
	if rt := d.schema.Attr(rdn.Attr); rt != nil && e.get(rt) == nil {
		d.putString(e, rt, now, usn, rdn.Value)
	}
	d.putString(e, d.at.name, now, usn, rdn.Value)
	if e.key == "" {
		e.key = dnKey(e.dn)
	}
	d.setValues(e, d.at.dn, []value{{raw: []byte(e.dn.String()), norm: e.key}})
	if g := e.first(d.at.objectGUID); g != nil {
		e.guid, _ = ad.GUIDFromWire(g)
	}
	if e.guid.IsZero() {
		if d.ids == nil {
			return errUnwilling("add", e.dn.String(), "replica has no id source (imported replica: call SetIDSource)")
		}
		e.guid = d.ids.NewGUID()
		d.put(e, d.at.objectGUID, now, usn, e.guid[:])
	}
	setIfAbsent := func(t *AttrType, v string) {
		if e.get(t) == nil {
			d.putString(e, t, now, usn, v)
		}
	}
	setIfAbsent(d.at.instanceType, "4")
	if e.class.DefaultObjectCategory != "" {
		setIfAbsent(d.at.objectCategory, "CN="+e.class.DefaultObjectCategory+","+d.dom.schemaDN.String())
	}
	d.putString(e, d.at.whenCreated, now, usn, d.genTime(now))
	d.putString(e, d.at.uSNCreated, now, usn, itoa(int64(usn)))
	d.touch(e, now, usn)
	// Stamp every client-supplied attribute as written now.
	for _, a := range e.attrs {
		if a.meta.Version == 0 {
			d.stamp(a, now, usn)
		}
	}
	if !d.isSecurityPrincipal(e) {
		return nil
	}
	return d.principalDefaults(now, e, usn)
}

// principalDefaults gives users, computers and groups their objectSid from this DC's RID pool and
// the SAM attributes AD sets (sAMAccountType, userAccountControl, primaryGroupID, ...).
func (d *Directory) principalDefaults(now time.Time, e *entry, usn uint64) error {
	setIfAbsent := func(t *AttrType, v string) {
		if e.get(t) == nil {
			d.putString(e, t, now, usn, v)
		}
	}
	if e.get(d.at.objectSid) == nil {
		rid, err := d.allocRID()
		if err != nil {
			return err
		}
		d.put(e, d.at.objectSid, now, usn, d.dom.DomainSID.WithRID(rid).Bytes())
	}
	if e.get(d.at.sAMAccountName) == nil {
		sid, _ := ad.SIDFromBytes(e.first(d.at.objectSid))
		d.putString(e, d.at.sAMAccountName, now, usn, generatedSAMName(sid.RID(), e.guid))
	}
	if d.isClass(e, "group") {
		setIfAbsent(d.at.groupType, itoa(groupTypeGlobalSecurity))
		gt, _ := strconv.ParseInt(e.firstString(d.at.groupType), 10, 64)
		d.putString(e, d.at.sAMAccountType, now, usn, itoa(groupSAMType(gt)))
		return nil
	}
	uac := int64(UACNormalAccount | UACAccountDisable | UACPasswdNotReqd)
	pg := "513"
	switch {
	case d.isClass(e, ad.ClassGroupManagedServiceAccount):
		uac, pg = UACWorkstationTrust, "515"
	case d.isClass(e, "computer"):
		uac, pg = UACWorkstationTrust|UACPasswdNotReqd, "515"
	}
	setIfAbsent(d.at.userAccountControl, itoa(uac))
	uac, _ = strconv.ParseInt(e.firstString(d.at.userAccountControl), 10, 64)
	if uac&UACServerTrust != 0 {
		pg = "516"
	}
	samType := int64(samNormalUserAccount)
	if uac&(UACWorkstationTrust|UACServerTrust) != 0 {
		samType = samMachineAccount
	}
	d.putString(e, d.at.sAMAccountType, now, usn, itoa(samType))
	setIfAbsent(d.at.primaryGroupID, pg)
	setIfAbsent(d.at.pwdLastSet, "0")
	setIfAbsent(d.at.accountExpires, "9223372036854775807")
	for _, n := range []string{"badPwdCount", "badPasswordTime", "lastLogon", "lastLogoff", "logonCount", "codePage", "countryCode"} {
		setIfAbsent(d.schema.Attr(n), "0")
	}
	return nil
}

func groupSAMType(gt int64) int64 {
	sec := gt&0x80000000 != 0 || gt < 0
	local := gt&(groupTypeDomainLocal|groupTypeBuiltinLocal) != 0
	switch {
	case local && sec:
		return samAliasObject
	case local:
		return samNonSecurityAlias
	case sec:
		return samGroupObject
	}
	return samNonSecurityGroup
}

// generatedSAMName is the name AD invents for a principal added without sAMAccountName.
// Divergence: AD's form is "$" + 6 + "-" + 12 random characters; ours derives them from the RID
// and the GUID, so it is unique and stable for a seed.
func generatedSAMName(rid uint32, g ad.GUID) string {
	s := strings.ToUpper(strings.ReplaceAll(g.String(), "-", ""))
	return fmt.Sprintf("$%06X-%s", rid, s[len(s)-12:])
}

// allocRID hands out the next RID of this DC's pool.
func (d *Directory) allocRID() (uint32, error) {
	if d.ridNext == 0 || d.ridNext >= d.ridEnd {
		return 0, &Error{Code: UnwillingToPerform, Op: "add",
			Diag: "00002191: SvcErr: DSID-031A1236, problem 5003 (WILL_NOT_PERFORM), data 0 (ERROR_DS_RID_POOL_DEPLETED)"}
	}
	r := d.ridNext
	d.ridNext++
	return r, nil
}

// checkContent enforces must/may-contain and single-valuedness.
func (d *Directory) checkContent(op, dnStr string, e *entry) error {
	aux := d.auxClasses(e)
	for _, a := range e.attrs {
		if len(a.vals) == 0 {
			continue
		}
		if a.t.SingleValued && len(a.vals) > 1 {
			return errSingleValue(op, dnStr, a.t)
		}
		if e.class.Allows(a.t) {
			continue
		}
		ok := false
		for _, x := range aux {
			if x.Allows(a.t) {
				ok = true
				break
			}
		}
		if !ok {
			return errNotInClass(op, dnStr, e.class, a.t)
		}
	}
	for _, m := range e.class.MustAttrs() {
		if m == d.at.nTSecurityDescriptor {
			// Divergence: security descriptors are not modelled; rules live in access.go.
			continue
		}
		if a := e.get(m); a == nil || len(a.vals) == 0 {
			return errObjClass(op, dnStr, fmt.Sprintf("%s must contain %s", e.class.Name, m.Name))
		}
	}
	return nil
}

func (d *Directory) auxClasses(e *entry) []*Class {
	var out []*Class
	if oc := e.get(d.at.objectClass); oc != nil {
		for _, v := range oc.vals {
			if cl := d.schema.Class(v.norm); cl != nil && cl.Category == objectClassAuxiliary {
				out = append(out, cl)
			}
		}
	}
	return out
}

// checkUnique enforces AD's uniqueness of sAMAccountName (domain), userPrincipalName and
// servicePrincipalName (forest, Windows Server 2012 R2 and later) for a new entry.
func (d *Directory) checkUnique(op, dnStr string, e *entry) error {
	for _, t := range []*AttrType{d.at.sAMAccountName, d.at.userPrincipalName, d.at.servicePrincipalName} {
		if a := e.get(t); a != nil {
			if err := d.checkUniqueValues(op, dnStr, e, t, a.vals); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkUniqueValues checks vals of t (one of the unique attributes) against every other object.
func (d *Directory) checkUniqueValues(op, dnStr string, e *entry, t *AttrType, vals []value) error {
	if t != d.at.sAMAccountName && t != d.at.userPrincipalName && t != d.at.servicePrincipalName {
		return nil
	}
	for _, v := range vals {
		set, _ := d.lookupSet(t, v.norm)
		for _, o := range set {
			if o == e || o.deleted {
				continue
			}
			switch t {
			case d.at.sAMAccountName:
				return opErr(EntryAlreadyExists, op, dnStr, "00000524: UpdErr: DSID-031A11E2, problem 6005 (ENTRY_EXISTS), data 0")
			case d.at.userPrincipalName:
				return attErr(ConstraintViolation, op, dnStr, 0x21C8, 1005, "CONSTRAINT_ATT_TYPE", t)
			default:
				return attErr(ConstraintViolation, op, dnStr, 0x21C7, 1005, "CONSTRAINT_ATT_TYPE", t)
			}
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// schema2012 are the classes and attributes the Windows Server 2012 schema (objectVersion 52)
// added for gMSAs and the KDS; a forest at a lower version does not know them.
var schema2012 = map[string]bool{
	"msds-groupmanagedserviceaccount": true, "mskds-provrootkey": true, "mskds-provserverconfiguration": true,
	"msds-groupmsamembership": true, "msds-managedpassword": true, "msds-managedpasswordid": true,
	"msds-managedpasswordpreviousid": true, "msds-managedpasswordinterval": true,
	"mskds-createtime": true, "mskds-rootkeydata": true, "mskds-privatekeylength": true,
	"mskds-publickeylength": true, "mskds-secretagreementalgorithmid": true, "mskds-kdfalgorithmid": true,
	"mskds-usestarttime": true, "mskds-domainid": true, "mskds-version": true, "mskds-kdfparam": true,
	"mskds-secretagreementparam": true,
}

// Divergence: the schema is the reference's (Windows Server 2012 R2, objectVersion 69) whatever
// the configured version; below 52 only the gMSA/KDS classes and attributes are withdrawn, and at
// 87+ the 2016+ additions are absent.
func (d *Directory) classAvailable(c *Class) bool {
	return d.dom.SchemaVersion == 0 || d.dom.SchemaVersion >= 52 || !schema2012[c.lower]
}

func (d *Directory) attrAvailable(a *AttrType) bool {
	return d.dom.SchemaVersion == 0 || d.dom.SchemaVersion >= 52 || !schema2012[a.lower]
}

// checkLinkTargets enforces that forward-link values (member, managedBy, ...) name existing
// objects, as AD does.
func (d *Directory) checkLinkTargets(op, dnStr string, t *AttrType, vals []value) error {
	if !t.IsForwardLink() || t.Syntax != SynDN {
		return nil
	}
	for _, v := range vals {
		if x := d.byKey[v.norm]; x == nil || x.deleted {
			target, _ := ParseDN(string(v.raw))
			return errNoSuchObject(op, dnStr, d.bestMatch(target))
		}
	}
	return nil
}
