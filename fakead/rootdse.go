package fakead

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
)

// supportedControls are the controls the LDAP server (fakead/ldapsrv) implements: paged results,
// SD flags, server-side sort (request and response), domain scope. Divergence: a Windows Server 2016+ DC lists 38 controls (show deleted, DirSync, VLV, ...); only those that work are listed, so a client never picks
// a control the server then refuses with unavailableCriticalExtension.
var supportedControls = []string{"1.2.840.113556.1.4.319", "1.2.840.113556.1.4.801", "1.2.840.113556.1.4.473",
	"1.2.840.113556.1.4.474", "1.2.840.113556.1.4.1339"}

// supportedExtensions are the extended operations the LDAP server implements: StartTLS and WhoAmI.
// Divergence: a DC also lists fast concurrent bind (1.2.840.113556.1.4.1781), batch requests
// (1.2.840.113556.1.4.2212) and TTL refresh (1.3.6.1.4.1.1466.101.119.1).
var supportedExtensions = []string{"1.3.6.1.4.1.1466.20037", "1.3.6.1.4.1.4203.1.11.3"}

var supportedCapabilities = []string{"1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1670",
	"1.2.840.113556.1.4.1791", "1.2.840.113556.1.4.1935", "1.2.840.113556.1.4.2080", "1.2.840.113556.1.4.2237"}

// dcFunctionality maps a DC's OS to its msDS-Behavior-Version ([MS-ADTS] 6.1.4.2).
func dcFunctionality(os string) int {
	switch os {
	case "2008R2":
		return 4
	case "2012":
		return 5
	case "2012R2":
		return 6
	case "2016", "2019", "2022":
		return 7
	case "2025":
		return 10
	}
	return 7
}

// domainFunctionality is the lowest DC level of the domain (the level a fresh domain is raised to).
func (d *Directory) domainFunctionality() int {
	lvl := 0
	for i, dc := range d.dom.DCs {
		if f := dcFunctionality(dc.OS); i == 0 || f < lvl {
			lvl = f
		}
	}
	if lvl == 0 {
		lvl = 7
	}
	return lvl
}

func (d *Directory) serverDN(dc DCConfig) DN {
	return d.dom.configDN.Child("CN", "Sites").Child("CN", "Default-First-Site-Name").Child("CN", "Servers").Child("CN", dc.Name)
}

// DNSHostName is this DC's DNS name, "dc1.contoso.com".
func (d *Directory) DNSHostName() string {
	return strings.ToLower(d.dc.Name) + "." + strings.ToLower(d.dom.DNSName)
}

func (d *Directory) subschemaDN() DN { return d.dom.schemaDN.Child("CN", "Aggregate") }

// rootDSE is the rootDSE as a Windows DC answers it.
func (d *Directory) rootDSE(now time.Time) []Attribute {
	s := func(name string, vals ...string) Attribute {
		a := Attribute{Name: name}
		for _, v := range vals {
			a.Values = append(a.Values, []byte(v))
		}
		return a
	}
	dom, cfg, sch := d.dom.domainDN.String(), d.dom.configDN.String(), d.dom.schemaDN.String()
	srv := d.serverDN(d.dc)
	fl := fmt.Sprint(d.domainFunctionality())
	return []Attribute{
		s("currentTime", ad.GeneralizedTime(now)),
		s("subschemaSubentry", d.subschemaDN().String()),
		s("dsServiceName", srv.Child("CN", "NTDS Settings").String()),
		// Divergence: no DomainDnsZones/ForestDnsZones application partitions.
		s("namingContexts", dom, cfg, sch),
		s("defaultNamingContext", dom),
		s("schemaNamingContext", sch),
		s("configurationNamingContext", cfg),
		s("rootDomainNamingContext", dom),
		s("supportedControl", supportedControls...),
		s("supportedLDAPVersion", "3", "2"),
		s("supportedLDAPPolicies", "MaxPoolThreads", "MaxPercentDirSyncRequests", "MaxDatagramRecv",
			"MaxReceiveBuffer", "InitRecvTimeout", "MaxConnections", "MaxConnIdleTime", "MaxPageSize",
			"MaxBatchReturnMessages", "MaxQueryDuration", "MaxDirSyncDuration", "MaxTempTableSize",
			"MaxResultSetSize", "MinResultSets", "MaxResultSetsPerConn", "MaxNotificationPerConn", "MaxValRange",
			"MaxValRangeTransitive", "ThreadMemoryLimit", "SystemMemoryLimitPercent"),
		s("highestCommittedUSN", fmt.Sprint(d.usn)),
		// Divergence: a DC also offers EXTERNAL and DIGEST-MD5; only the Kerberos mechanisms work here.
		s("supportedSASLMechanisms", "GSSAPI", "GSS-SPNEGO"),
		s("supportedExtension", supportedExtensions...),
		s("dnsHostName", d.DNSHostName()),
		s("ldapServiceName", strings.ToLower(d.dom.DNSName)+":"+strings.ToLower(d.dc.Name)+"$@"+strings.ToUpper(d.dom.DNSName)),
		s("serverName", srv.String()),
		s("supportedCapabilities", supportedCapabilities...),
		s("isSynchronized", "TRUE"),
		s("isGlobalCatalogReady", "TRUE"),
		s("domainFunctionality", fl),
		s("forestFunctionality", fl),
		s("domainControllerFunctionality", fmt.Sprint(dcFunctionality(d.dc.OS))),
	}
}

// subschemaAttrs is the subschema entry ([RFC 4512] 4.2, [MS-ADTS] 3.1.1.3.1.1.4) as AD
// publishes it: attributeTypes and objectClasses in RFC 4512 form.
func (d *Directory) subschemaAttrs() []Attribute {
	s := d.schema
	at := Attribute{Name: "attributeTypes"}
	for _, a := range s.Attrs() {
		at.Values = append(at.Values, []byte(attributeTypeDescription(a)))
	}
	oc := Attribute{Name: "objectClasses"}
	for _, c := range s.Classes() {
		oc.Values = append(oc.Values, []byte(objectClassDescription(c)))
	}
	return []Attribute{
		{Name: "objectClass", Values: [][]byte{[]byte("top"), []byte("subSchema")}},
		{Name: "cn", Values: [][]byte{[]byte("Aggregate")}},
		{Name: "name", Values: [][]byte{[]byte("Aggregate")}},
		{Name: "distinguishedName", Values: [][]byte{[]byte(d.subschemaDN().String())}},
		{Name: "objectCategory", Values: [][]byte{[]byte("CN=SubSchema," + d.dom.schemaDN.String())}},
		{Name: "modifyTimeStamp", Values: [][]byte{[]byte(d.schemaTimestamp())}},
		{Name: "createTimeStamp", Values: [][]byte{[]byte(d.schemaTimestamp())}},
		at, oc,
	}
}

// ldapSyntaxOID is the RFC syntax AD publishes for each attributeSyntax/oMSyntax pair.
func ldapSyntaxOID(a *AttrType) string {
	switch a.AttributeSyntax {
	case "2.5.5.1":
		return "1.3.6.1.4.1.1466.115.121.1.12"
	case "2.5.5.2":
		return "1.3.6.1.4.1.1466.115.121.1.38"
	case "2.5.5.3":
		return "1.2.840.113556.1.4.1362"
	case "2.5.5.4":
		return "1.2.840.113556.1.4.905"
	case "2.5.5.5":
		if a.OMSyntax == 22 {
			return "1.3.6.1.4.1.1466.115.121.1.26"
		}
		return "1.3.6.1.4.1.1466.115.121.1.44"
	case "2.5.5.6":
		return "1.3.6.1.4.1.1466.115.121.1.36"
	case "2.5.5.7":
		return "1.2.840.113556.1.4.903"
	case "2.5.5.8":
		return "1.3.6.1.4.1.1466.115.121.1.7"
	case "2.5.5.9":
		return "1.3.6.1.4.1.1466.115.121.1.27"
	case "2.5.5.10":
		return "1.3.6.1.4.1.1466.115.121.1.40"
	case "2.5.5.11":
		if a.OMSyntax == 23 {
			return "1.3.6.1.4.1.1466.115.121.1.53"
		}
		return "1.3.6.1.4.1.1466.115.121.1.24"
	case "2.5.5.12":
		return "1.3.6.1.4.1.1466.115.121.1.15"
	case "2.5.5.13":
		return "1.3.6.1.4.1.1466.115.121.1.43"
	case "2.5.5.14":
		return "1.2.840.113556.1.4.904"
	case "2.5.5.15":
		return "1.2.840.113556.1.4.907"
	case "2.5.5.16":
		return "1.2.840.113556.1.4.906"
	case "2.5.5.17":
		return "1.3.6.1.4.1.1466.115.121.1.40"
	}
	return "1.3.6.1.4.1.1466.115.121.1.15"
}

func attributeTypeDescription(a *AttrType) string {
	var b strings.Builder
	fmt.Fprintf(&b, "( %s NAME '%s' SYNTAX '%s'", a.OID, a.Name, ldapSyntaxOID(a))
	if a.SingleValued {
		b.WriteString(" SINGLE-VALUE")
	}
	if a.SystemOnly || a.Constructed() {
		b.WriteString(" NO-USER-MODIFICATION")
	}
	b.WriteString(" )")
	return b.String()
}

func objectClassDescription(c *Class) string {
	var b strings.Builder
	fmt.Fprintf(&b, "( %s NAME '%s'", c.OID, c.Name)
	if c.super != nil && c.super != c {
		fmt.Fprintf(&b, " SUP %s", c.super.Name)
	}
	switch c.Category {
	case objectClassAbstract:
		b.WriteString(" ABSTRACT")
	case objectClassAuxiliary:
		b.WriteString(" AUXILIARY")
	default:
		b.WriteString(" STRUCTURAL")
	}
	list := func(kw string, as []*AttrType) {
		if len(as) == 0 {
			return
		}
		names := make([]string, 0, len(as))
		for _, a := range as {
			names = append(names, a.Name)
		}
		sort.Strings(names)
		names = dedupe(names)
		if len(names) == 1 {
			fmt.Fprintf(&b, " %s %s", kw, names[0])
			return
		}
		fmt.Fprintf(&b, " %s (%s )", kw, " "+strings.Join(names, " $ "))
	}
	list("MUST", c.Must)
	list("MAY", c.May)
	b.WriteString(" )")
	return b.String()
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// schemaTimestamp is the schema head's whenChanged (the subschema's modifyTimeStamp).
func (d *Directory) schemaTimestamp() string {
	if e := d.lookup(d.dom.schemaDN); e != nil {
		if v := e.first(d.at.whenChanged); v != nil {
			return string(v)
		}
	}
	return "20000101000000.0Z"
}
