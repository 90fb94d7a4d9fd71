package fakead

import (
	"fmt"
	"strings"

	"github.com/gmsasim/gmsasim/ad"
)

// Divergence: AD evaluates nTSecurityDescriptor ACLs ([MS-ADTS] 5.1.3); the model does not store
// security descriptors and implements the default rights of a fresh domain in code instead:
//   - Domain Admins, Enterprise Admins and Administrators may do anything in the domain partition
//     and the configuration partition; schema writes need Schema Admins or Enterprise Admins.
//   - Account Operators may create, modify and delete users, computers, groups, inetOrgPersons and
//     gMSAs outside OU=Domain Controllers, except protected objects (adminCount=1).
//   - A user may write a small set of its own attributes; a computer its dNSHostName and SPNs.
//   - A group's managedBy principal may change its member attribute.
//   - Explicit grants (Grant) give a SID rights on a container and everything below it.
//   - ms-DS-MachineAccountQuota is not modelled: a plain user cannot create computer accounts
//     (AD lets every authenticated user create ten in CN=Computers).
//   - Every authenticated caller may read every object and every attribute except the secret
//     ones (unicodePwd, supplementalCredentials, ...: never readable) and the confidential ones
//     (searchFlags fCONFIDENTIAL: msKds-RootKeyData, msFVE-RecoveryPassword, ...: Domain Admins,
//     Enterprise Admins and SYSTEM only); mayRead decides, for returned attributes, filters and
//     Compare alike. Constructed-attribute hooks do their own per-object checks
//     (msDS-ManagedPassword).

// searchFlagConfidential is fCONFIDENTIAL ([MS-ADTS] 2.2.10): reading the attribute needs
// RIGHT_DS_CONTROL_ACCESS on the object besides RIGHT_DS_READ_PROPERTY.
const searchFlagConfidential = 0x80

// mayRead reports whether c may read attribute t. It is the one place that decides readability:
// the attributes returned by a search, the filter a search evaluates and Compare all ask it. An
// attribute c may not read is treated as not existing at all ([MS-ADTS] 3.1.1.4.4: "the value is
// treated as 'does not exist' in the returned attributes and the LDAP filter"), so a filter
// item on it is FALSE, its negation TRUE, and Compare answers noSuchAttribute: the answer is the
// same whatever the stored value, and nothing about it can be learned.
// Divergence: AD checks RIGHT_DS_READ_PROPERTY (and control access for confidential attributes)
// against each object's security descriptor; the model has no per-object descriptors, so the
// decision depends on the caller and the attribute only.
func (d *Directory) mayRead(c Caller, t *AttrType) bool {
	if hiddenAttr(t) {
		return false // [MS-ADTS] 3.1.1.4.4: access is never granted, not even to SYSTEM
	}
	if t.SearchFlags&searchFlagConfidential != 0 {
		return d.isDomainAdminOrEA(c)
	}
	return true
}

// Right is a set of rights an explicit grant gives.
type Right int

// The rights a grant can give.
const (
	RightCreateChild   Right = 1 << iota // create objects of the grant's classes below the container
	RightDeleteChild                     // delete them
	RightWriteProperty                   // write any attribute of objects below the container
	RightWriteMember                     // write the member attribute of groups below the container
)

type grant struct {
	SID     string
	Rights  Right
	Classes []string // lower-case lDAPDisplayNames; empty means any class
}

// Grant gives sid the rights on the container dn and everything below it, for objects of the
// given classes (none: any class). It is the model's stand-in for an ACE added with dsacls.
// Divergence: grants are state of this replica only (not replicated); the world applies them to
// every DC.
func (d *Directory) Grant(dn, sid string, rights Right, classes ...string) error {
	x, err := ParseDN(dn)
	if err != nil {
		return errInvalidDN("grant", dn)
	}
	if d.lookup(x) == nil {
		return errNoSuchObject("grant", dn, d.bestMatch(x))
	}
	parsed, err := ad.ParseSID(sid)
	if err != nil {
		return &Error{Code: InvalidAttributeSyntax, Op: "grant", DN: dn, Err: err}
	}
	g := grant{SID: parsed.String(), Rights: rights}
	for _, c := range classes {
		g.Classes = append(g.Classes, strings.ToLower(c))
	}
	d.grants[dnKey(x)] = append(d.grants[dnKey(x)], g)
	return nil
}

func (d *Directory) hasSID(c Caller, sid string) bool {
	for _, s := range c.Token {
		if strings.EqualFold(s, sid) {
			return true
		}
	}
	return strings.EqualFold(c.SID, sid)
}

func (d *Directory) domRID(rid uint32) string { return d.dom.DomainSID.WithRID(rid).String() }

// Well-known RIDs and builtin SIDs.
const (
	ridAdministrator   = 500
	ridGuest           = 501
	ridKrbtgt          = 502
	ridDomainAdmins    = 512
	ridDomainUsers     = 513
	ridDomainGuests    = 514
	ridDomainComputers = 515
	ridDomainCtrls     = 516
	ridSchemaAdmins    = 518
	ridEnterpriseAdmin = 519
	sidAdministrators  = ad.SIDBuiltinAdministrators
	sidAccountOps      = "S-1-5-32-548"
	sidEveryone        = "S-1-1-0"
	sidAuthUsers       = ad.SIDAuthenticatedUsers
)

func (d *Directory) isAdmin(c Caller) bool {
	return c.System || d.hasSID(c, d.domRID(ridDomainAdmins)) || d.hasSID(c, d.domRID(ridEnterpriseAdmin)) ||
		d.hasSID(c, sidAdministrators)
}

func (d *Directory) isAccountOp(c Caller) bool { return d.hasSID(c, sidAccountOps) }

// accountOpClasses are the classes Account Operators manage.
var accountOpClasses = []string{"user", "computer", "group", "inetOrgPerson", ad.ClassGroupManagedServiceAccount, "contact"}

func (d *Directory) accountOpMay(e *entry) bool {
	if e.firstString(d.schema.Attr("adminCount")) == "1" || e.firstString(d.at.isCritical) == "TRUE" {
		return false
	}
	if d.isProtected(e) {
		return false
	}
	dcOU := d.dom.domainDN.Child("OU", "Domain Controllers")
	if e.dn.IsUnder(dcOU) || !e.dn.IsUnder(d.dom.domainDN) || e.dn.IsUnder(d.dom.configDN) {
		return false
	}
	for _, cl := range accountOpClasses {
		if d.isClass(e, cl) {
			return true
		}
	}
	return false
}

// granted reports whether an explicit grant on x or an ancestor gives c the right for e's class.
func (d *Directory) granted(c Caller, x *entry, e *entry, r Right) bool {
	for p := x; p != nil; p = p.parent {
		for _, g := range d.grants[p.key] {
			if g.Rights&r == 0 || !d.hasSID(c, g.SID) {
				continue
			}
			if len(g.Classes) == 0 {
				return true
			}
			for _, cl := range g.Classes {
				if d.isClass(e, cl) {
					return true
				}
			}
		}
	}
	return false
}

func (d *Directory) writeNCAllowed(c Caller, dn DN) bool {
	switch {
	case dn.IsUnder(d.dom.schemaDN):
		return c.System || d.hasSID(c, d.domRID(ridSchemaAdmins)) || d.hasSID(c, d.domRID(ridEnterpriseAdmin))
	case dn.IsUnder(d.dom.configDN):
		return d.isAdmin(c)
	}
	return false
}

func (d *Directory) checkCreate(c Caller, parent, e *entry) error {
	if c.System {
		return nil
	}
	if e.dn.IsUnder(d.dom.configDN) {
		if d.writeNCAllowed(c, e.dn) || d.granted(c, parent, e, RightCreateChild) {
			return nil
		}
		return errAccess("add", e.dn.String(), "configuration and schema writes need Enterprise Admins or Domain Admins")
	}
	if d.isAdmin(c) || d.granted(c, parent, e, RightCreateChild) {
		return nil
	}
	if d.isAccountOp(c) && d.accountOpMay(e) {
		return nil
	}
	return errAccess("add", e.dn.String(), fmt.Sprintf("%s may not create %s objects here", c.DN, e.class.Name))
}

func (d *Directory) checkDelete(c Caller, e *entry) error {
	if c.System {
		return nil
	}
	if e.dn.IsUnder(d.dom.configDN) {
		if d.writeNCAllowed(c, e.dn) || d.granted(c, e.parent, e, RightDeleteChild) {
			return nil
		}
		return errAccess("delete", e.dn.String(), "configuration and schema writes need Enterprise Admins or Domain Admins")
	}
	if d.isAdmin(c) || d.granted(c, e.parent, e, RightDeleteChild) || (d.isAccountOp(c) && d.accountOpMay(e)) {
		return nil
	}
	return errAccess("delete", e.dn.String(), "no delete right")
}

func (d *Directory) checkMove(c Caller, e, newParent *entry) error {
	if c.System {
		return nil
	}
	if e.dn.IsUnder(d.dom.configDN) {
		if d.writeNCAllowed(c, e.dn) {
			return nil
		}
		return errAccess("modifyDN", e.dn.String(), "configuration writes need Enterprise Admins or Domain Admins")
	}
	if d.isAdmin(c) || (d.isAccountOp(c) && d.accountOpMay(e)) {
		return nil
	}
	if d.granted(c, e.parent, e, RightDeleteChild) && d.granted(c, newParent, e, RightCreateChild) {
		return nil
	}
	return errAccess("modifyDN", e.dn.String(), "no rename/move right")
}

// selfWritable are the attributes a user may write on its own object (the "Personal Information",
// "Phone and Mail Options" and "Web Information" property sets granted to SELF).
var selfWritable = map[string]bool{
	"telephonenumber": true, "othertelephone": true, "homephone": true, "otherhomephone": true,
	"mobile": true, "othermobile": true, "pager": true, "otherpager": true, "facsimiletelephonenumber": true,
	"otherfacsimiletelephonenumber": true, "ipphone": true, "otheripphone": true, "streetaddress": true,
	"street": true, "l": true, "st": true, "postalcode": true, "postofficebox": true, "c": true, "co": true,
	"countrycode": true, "homepostaladdress": true, "postaladdress": true, "wwwhomepage": true, "url": true,
	"thumbnailphoto": true, "mail": false,
}

// computerSelfWritable are the validated writes a computer has on itself.
var computerSelfWritable = map[string]bool{
	"dnshostname": true, "serviceprincipalname": true, "msds-additionaldnshostname": true,
	"operatingsystem": true, "operatingsystemversion": true, "operatingsystemservicepack": true,
	"msds-supportedencryptiontypes": true,
}

func (d *Directory) checkModify(c Caller, e *entry, changed map[*AttrType]bool, password bool) error {
	if c.System {
		return nil
	}
	dnStr := e.dn.String()
	if e.dn.IsUnder(d.dom.configDN) {
		if d.writeNCAllowed(c, e.dn) || d.granted(c, e, e, RightWriteProperty) {
			return nil
		}
		return errAccess("modify", dnStr, "configuration and schema writes need Enterprise Admins or Domain Admins")
	}
	if d.writesWithoutValidation(c, e) {
		return nil
	}
	onlyMember := len(changed) == 1 && changed[d.at.member] && !password
	if onlyMember && d.isClass(e, "group") {
		if d.granted(c, e, e, RightWriteMember) {
			return nil
		}
		if mb := e.get(d.at.managedBy); mb != nil && len(mb.vals) > 0 && c.DN != "" {
			if cdn, err := ParseDN(c.DN); err == nil && mb.vals[0].norm == dnKey(cdn) {
				return nil
			}
			// managedBy naming a group: its members may change membership.
			if g := d.byKey[mb.vals[0].norm]; g != nil && g.get(d.at.objectSid) != nil {
				if sid, err := ad.SIDFromBytes(g.first(d.at.objectSid)); err == nil && d.hasSID(c, sid.String()) {
					return nil
				}
			}
		}
	}
	if cdn, err := ParseDN(c.DN); err == nil && dnKey(cdn) == e.key && !password {
		ok := true
		for t := range changed {
			if !selfWritable[t.lower] && !(d.isClass(e, "computer") && computerSelfWritable[t.lower]) {
				ok = false
			}
		}
		if ok {
			return nil
		}
	}
	return errAccess("modify", dnStr, "no write right on the object")
}

// protectedGroups are the groups whose members AdminSDHolder protects ([MS-ADTS] 3.1.1.6.1.2):
// Account Operators cannot manage them.
func (d *Directory) protectedGroups() map[string]bool {
	return map[string]bool{
		d.domRID(ridDomainAdmins): true, d.domRID(ridEnterpriseAdmin): true, d.domRID(ridSchemaAdmins): true,
		d.domRID(ridDomainCtrls): true, d.domRID(ridKrbtgt): true, d.domRID(ridAdministrator): true,
		sidAdministrators: true, sidAccountOps: true, "S-1-5-32-549": true, "S-1-5-32-550": true,
		"S-1-5-32-551": true, "S-1-5-32-552": true, d.domRID(521): true,
	}
}

// isProtected reports whether e is a protected group or a (transitive) member of one.
// Divergence: AD marks such objects with adminCount=1 when SDProp runs (hourly); the model
// decides at the time of the check.
func (d *Directory) isProtected(e *entry) bool {
	p := d.protectedGroups()
	if sid, err := ad.SIDFromBytes(e.first(d.at.objectSid)); err == nil && p[sid.String()] {
		return true
	}
	for _, g := range d.groupClosure(e) {
		if sid, err := ad.SIDFromBytes(g.first(d.at.objectSid)); err == nil && p[sid.String()] {
			return true
		}
	}
	return false
}
