package migrate

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/ad"
)

// AD attribute and class names are package ad's (ad.AttrXxx, exact lDAPDisplayNames).
const (
	UACWorkstationTrust     = 0x1000  // WORKSTATION_TRUST_ACCOUNT: what New-ADServiceAccount sets
	UACTrustedForDelegation = 0x80000 // TRUSTED_FOR_DELEGATION
	UACAccountDisable       = 0x2     // ACCOUNTDISABLE
	// SupportedEncTypesAES is RC4 | AES128 | AES256 (28), the AD module's default for a gMSA.
	SupportedEncTypesAES = 28
	// DefaultPasswordInterval is the AD module's msDS-ManagedPasswordInterval (days).
	DefaultPasswordInterval = 30
	// groupTypeGlobalSecurity is a global security group (ADS_GROUP_TYPE_GLOBAL_GROUP | SECURITY_ENABLED).
	groupTypeGlobalSecurity = "-2147483646"
)

// Endpoint is how to reach one domain controller.
type Endpoint struct {
	Addr     string      // host:port, "dc1.contoso.com:636"
	LDAPS    bool        // TLS from the first byte (port 636)
	StartTLS bool        // plain LDAP upgraded with StartTLS
	TLS      *tls.Config // roots and server name for LDAPS / StartTLS
}

// Credentials are a name and password. Name is what the DC accepts for a simple bind: a DN,
// user@domain or DOMAIN\user.
type Credentials struct {
	Name     string
	Password string `json:"-"`
}

// dirConn is one bound LDAP connection to one DC.
type dirConn struct {
	c    *ldap.Conn
	addr string
	dse  rootDSE
}

type rootDSE struct {
	CurrentTime time.Time
	DefaultNC   string
	ConfigNC    string
	SchemaNC    string
	DNSHostName string
	DCLevel     int // domainControllerFunctionality
}

// dial connects and binds, then reads the rootDSE.
func dial(ep Endpoint, cred Credentials) (*dirConn, error) {
	scheme := "ldap://"
	if ep.LDAPS {
		scheme = "ldaps://"
	}
	var opts []ldap.DialOpt
	if ep.TLS != nil {
		opts = append(opts, ldap.DialWithTLSConfig(ep.TLS))
	}
	c, err := ldap.DialURL(scheme+ep.Addr, opts...)
	if err != nil {
		return nil, &DirError{Op: "connect", DC: ep.Addr, Err: err}
	}
	if ep.StartTLS && !ep.LDAPS {
		if err := c.StartTLS(ep.TLS); err != nil {
			c.Close()
			return nil, &DirError{Op: "StartTLS", DC: ep.Addr, Err: err}
		}
	}
	if err := c.Bind(cred.Name, cred.Password); err != nil {
		c.Close()
		return nil, &DirError{Op: "bind", DN: cred.Name, DC: ep.Addr, Err: err}
	}
	d := &dirConn{c: c, addr: ep.Addr}
	if err := d.readRootDSE(); err != nil {
		c.Close()
		return nil, err
	}
	return d, nil
}

func (d *dirConn) Close() { d.c.Close() }

func (d *dirConn) search(base string, scope int, filter string, attrs ...string) ([]*ldap.Entry, error) {
	req := ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
	res, err := d.c.Search(req)
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil, nil
		}
		return nil, &DirError{Op: "search", DN: base, DC: d.addr, Err: err}
	}
	return res.Entries, nil
}

func (d *dirConn) readRootDSE() error {
	es, err := d.search("", ldap.ScopeBaseObject, "(objectClass=*)", "currentTime", "defaultNamingContext",
		"configurationNamingContext", "schemaNamingContext", "dnsHostName", "domainControllerFunctionality")
	if err != nil {
		return err
	}
	if len(es) != 1 {
		return &DirError{Op: "search", DN: "rootDSE", DC: d.addr, Err: errors.New("no rootDSE")}
	}
	e := es[0]
	t, err := ad.ParseGeneralizedTime(e.GetAttributeValue("currentTime"))
	if err != nil {
		return &DirError{Op: "search", DN: "rootDSE", DC: d.addr, Err: fmt.Errorf("currentTime: %w", err)}
	}
	lvl, _ := strconv.Atoi(e.GetAttributeValue("domainControllerFunctionality"))
	d.dse = rootDSE{CurrentTime: t, DefaultNC: e.GetAttributeValue("defaultNamingContext"),
		ConfigNC: e.GetAttributeValue("configurationNamingContext"), SchemaNC: e.GetAttributeValue("schemaNamingContext"),
		DNSHostName: e.GetAttributeValue("dnsHostName"), DCLevel: lvl}
	return nil
}

// fileTime converts an LDAP LargeInteger FILETIME string to a time.
func fileTime(s string) (time.Time, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("not a FILETIME: %q", s)
	}
	return ad.FileTime(v).Time(), nil
}

// rootKey is what the engine reads of one msKds-ProvRootKey.
type rootKey struct {
	ID       string
	UseStart time.Time
	Created  time.Time
}

// RootKeyContainer is the DN of the root-key container below the configuration NC.
func rootKeyContainer(configNC string) string {
	return "CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services," + configNC
}

func (d *dirConn) rootKeys() ([]rootKey, error) {
	es, err := d.search(rootKeyContainer(d.dse.ConfigNC), ldap.ScopeSingleLevel, "(objectClass="+ad.ClassKdsProvRootKey+")",
		"cn", ad.AttrKdsUseStartTime, ad.AttrKdsCreateTime)
	if err != nil {
		return nil, err
	}
	var out []rootKey
	for _, e := range es {
		us, err1 := fileTime(e.GetAttributeValue(ad.AttrKdsUseStartTime))
		ct, err2 := fileTime(e.GetAttributeValue(ad.AttrKdsCreateTime))
		if err1 != nil || err2 != nil {
			continue // unreadable: not usable either
		}
		out = append(out, rootKey{ID: e.GetAttributeValue("cn"), UseStart: us, Created: ct})
	}
	return out, nil
}

func (d *dirConn) schemaVersion() (int, error) {
	es, err := d.search(d.dse.SchemaNC, ldap.ScopeBaseObject, "(objectClass=*)", ad.AttrObjectVersion)
	if err != nil {
		return 0, err
	}
	if len(es) == 0 {
		return 0, &DirError{Op: "search", DN: d.dse.SchemaNC, DC: d.addr, Err: errors.New("schema NC not found")}
	}
	return strconv.Atoi(es[0].GetAttributeValue(ad.AttrObjectVersion))
}

// dcOSVersions returns the operatingSystemVersion of each DC account.
func (d *dirConn) dcOSVersions() (map[string]string, error) {
	es, err := d.search("OU=Domain Controllers,"+d.dse.DefaultNC, ldap.ScopeWholeSubtree, "(objectClass=computer)",
		ad.AttrDNSHostName, ad.AttrOperatingSystemVersion, "cn")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range es {
		out[e.GetAttributeValue("cn")] = e.GetAttributeValue(ad.AttrOperatingSystemVersion)
	}
	return out, nil
}

// domainSID reads the domain's objectSid.
func (d *dirConn) domainSID() (ad.SID, error) {
	es, err := d.search(d.dse.DefaultNC, ldap.ScopeBaseObject, "(objectClass=*)", ad.AttrObjectSID)
	if err != nil {
		return ad.SID{}, err
	}
	if len(es) == 0 {
		return ad.SID{}, &DirError{Op: "search", DN: d.dse.DefaultNC, DC: d.addr, Err: errors.New("domain head not found")}
	}
	s, err := ad.SIDFromBytes(es[0].GetRawAttributeValue(ad.AttrObjectSID))
	if err != nil {
		return ad.SID{}, &DirError{Op: "search", DN: d.dse.DefaultNC, DC: d.addr, Err: fmt.Errorf("objectSid: %w", err)}
	}
	return s, nil
}

// whoAmI returns the DN of the bound account (RFC 4532; "dn:..." or AD's "u:DOMAIN\name").
func (d *dirConn) whoAmI() (string, error) {
	res, err := d.c.WhoAmI(nil)
	if err != nil {
		return "", &DirError{Op: "WhoAmI", DC: d.addr, Err: err}
	}
	id := res.AuthzID
	switch {
	case strings.HasPrefix(id, "dn:"):
		return id[3:], nil
	case strings.HasPrefix(id, "u:"):
		name := id[2:]
		if i := strings.LastIndex(name, `\`); i >= 0 {
			name = name[i+1:]
		}
		o, err := d.findSAM(name)
		if err != nil {
			return "", err
		}
		if o == nil {
			return "", &DirError{Op: "WhoAmI", DN: id, DC: d.addr, Err: errors.New("bound account not found")}
		}
		return o.DN, nil
	}
	return "", &DirError{Op: "WhoAmI", DC: d.addr, Err: fmt.Errorf("anonymous or unknown authzId %q", id)}
}

// tokenGroups returns the transitive group SIDs of dn (AD computes them on a base search).
func (d *dirConn) tokenGroups(dn string) ([]ad.SID, error) {
	es, err := d.search(dn, ldap.ScopeBaseObject, "(objectClass=*)", ad.AttrTokenGroups)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	var out []ad.SID
	for _, v := range es[0].GetRawAttributeValues(ad.AttrTokenGroups) {
		if s, err := ad.SIDFromBytes(v); err == nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// object is what the engine reads of an account or group.
type object struct {
	DN         string
	SID        ad.SID
	SAM        string
	DNSHost    string
	UAC        int64
	SPNs       []string
	DelegateTo []string
	Members    []string
	Membership []ad.SID // msDS-GroupMSAMembership principals
	IsGMSA     bool
	GroupType  int64 // groupType (groups)
	// objectClasses are the object's classes, lower case.
	objectClasses []string
	Interval      int // msDS-ManagedPasswordInterval in days (gMSAs; 0: not set, which means 30)
}

var objectAttrs = []string{ad.AttrSAMAccountName, ad.AttrObjectSID, ad.AttrDNSHostName, ad.AttrUserAccountControl, ad.AttrServicePrincipalName, ad.AttrAllowedToDelegateTo,
	ad.AttrMember, ad.AttrGroupMSAMembership, "objectClass", "groupType", ad.AttrManagedPasswordInterval}

func (d *dirConn) findOne(filter string) (*object, error) {
	es, err := d.search(d.dse.DefaultNC, ldap.ScopeWholeSubtree, filter, objectAttrs...)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, nil
	}
	if len(es) > 1 {
		return nil, &DirError{Op: "search", DN: d.dse.DefaultNC, DC: d.addr, Err: fmt.Errorf("%d objects match %s, want one", len(es), filter)}
	}
	e := es[0]
	o := &object{DN: e.DN, SAM: e.GetAttributeValue(ad.AttrSAMAccountName), DNSHost: e.GetAttributeValue(ad.AttrDNSHostName),
		SPNs: e.GetAttributeValues(ad.AttrServicePrincipalName), DelegateTo: e.GetAttributeValues(ad.AttrAllowedToDelegateTo),
		Members: e.GetAttributeValues(ad.AttrMember)}
	o.UAC, _ = strconv.ParseInt(e.GetAttributeValue(ad.AttrUserAccountControl), 10, 64)
	o.GroupType, _ = strconv.ParseInt(e.GetAttributeValue("groupType"), 10, 64)
	o.Interval, _ = strconv.Atoi(e.GetAttributeValue(ad.AttrManagedPasswordInterval))
	if raw := e.GetRawAttributeValue(ad.AttrObjectSID); len(raw) > 0 {
		o.SID, _ = ad.SIDFromBytes(raw)
	}
	for _, c := range e.GetAttributeValues("objectClass") {
		o.objectClasses = append(o.objectClasses, strings.ToLower(c))
		if strings.EqualFold(c, ad.ClassGroupManagedServiceAccount) {
			o.IsGMSA = true
		}
	}
	if raw := e.GetRawAttributeValue(ad.AttrGroupMSAMembership); len(raw) > 0 {
		if sd, err := ad.ParseSecurityDescriptor(raw); err == nil {
			o.Membership = sd.AllowedSIDs()
		}
	}
	return o, nil
}

func (d *dirConn) findSAM(sam string) (*object, error) {
	return d.findOne("(sAMAccountName=" + ldap.EscapeFilter(sam) + ")")
}

func (d *dirConn) findComputer(dnsName string) (*object, error) {
	return d.findOne("(&(objectClass=computer)(dNSHostName=" + ldap.EscapeFilter(dnsName) + "))")
}

func (d *dirConn) add(dn string, attrs map[string][]string, order []string) error {
	req := ldap.NewAddRequest(dn, nil)
	for _, name := range order {
		req.Attribute(name, attrs[name])
	}
	if err := d.c.Add(req); err != nil {
		return &DirError{Op: "add", DN: dn, DC: d.addr, Err: err}
	}
	return nil
}

func (d *dirConn) modify(dn string, fn func(*ldap.ModifyRequest)) error {
	req := ldap.NewModifyRequest(dn, nil)
	fn(req)
	if len(req.Changes) == 0 {
		return nil
	}
	if err := d.c.Modify(req); err != nil {
		return &DirError{Op: "modify", DN: dn, DC: d.addr, Err: err}
	}
	return nil
}

// hasString reports whether vals holds v, case-insensitively (DNs, SPNs).
func hasString(vals []string, v string) bool {
	for _, x := range vals {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// spnHolders returns the accounts that hold spn, sorted by DN.
// Divergence: AD checks uniqueness forest-wide (a global catalog search on port 3268); the engine
// searches the domain it is bound to, which is the forest in a single-domain MIM estate.
func (d *dirConn) spnHolders(spn string) ([]object, error) {
	es, err := d.search(d.dse.DefaultNC, ldap.ScopeWholeSubtree, "(servicePrincipalName="+ldap.EscapeFilter(spn)+")", ad.AttrSAMAccountName)
	if err != nil {
		return nil, err
	}
	var out []object
	for _, e := range es {
		out = append(out, object{DN: e.DN, SAM: e.GetAttributeValue(ad.AttrSAMAccountName)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DN < out[j].DN })
	return out, nil
}
