package fakead

import (
	"bytes"
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

//go:embed reference/domain.ldif
var domainLDIF []byte

//go:embed reference/configuration.ldif
var configurationLDIF []byte

// The reference data's own names, rewritten for each new domain.
const (
	refDomainDN  = "DC=contoso,DC=com"
	refDomainSID = "S-1-5-21-1099459271-708453596-1630147124"
)

// templateRecord is one pre-parsed reference object: its DN below the domain (RDNs left of
// DC=contoso,DC=com), its structural class and its attributes resolved against the schema, with
// values already canonical; values that name the reference domain are marked for rewriting.
type templateRecord struct {
	dn     string
	prefix DN // the RDNs left of the reference domain DN
	depth  int
	class  *Class
	attrs  []templateAttr
}

type templateAttr struct {
	t    *AttrType
	vals []templateValue
}

type templateValue struct {
	raw    []byte
	norm   string
	rename bool // mentions the reference domain, DC or SID: rewrite per domain
}

// loadTemplates parses the embedded reference data into templates, once per process: the
// result is immutable, shared by every domain built.
var loadTemplates = sync.OnceValues(parseTemplates)

// dropFromTemplate are attributes a fresh domain generates rather than copies.
var dropFromTemplate = map[string]bool{
	"objectguid": true, "whencreated": true, "whenchanged": true, "usncreated": true, "usnchanged": true,
	"distinguishedname": true, "name": true, "creationtime": true, "lastlogontimestamp": true,
	"oeminformation": true, "pwdlastset": true, "modifiedcount": true, "ntsecuritydescriptor": true,
	"operatingsystem": true, "operatingsystemversion": true, "msds-behavior-version": false,
}

// skipTemplateDN are Samba- or DC1-specific objects; a new domain makes its DCs' objects itself.
func skipTemplateDN(dn string) bool {
	l := strings.ToLower(dn)
	return strings.HasPrefix(l, "cn=dns-dc1,") || strings.Contains(l, "cn=dc1,ou=domain controllers") ||
		strings.Contains(l, "cn=dc1,cn=servers,") || strings.Contains(l, "cn=displayspecifiers,")
}

func parseTemplates() ([]templateRecord, error) {
	var templates []templateRecord
	s, err := LoadSchema()
	if err != nil {
		return nil, err
	}
	for _, src := range [][]byte{domainLDIF, configurationLDIF} {
		recs, err := ReadLDIF(bytes.NewReader(src))
		if err != nil {
			return nil, fmt.Errorf("reference data: %w", err)
		}
		for _, r := range recs {
			if skipTemplateDN(r.DN) {
				continue
			}
			dn, err := ParseDN(r.DN)
			if err != nil {
				return nil, fmt.Errorf("reference data: %s: %w", r.DN, err)
			}
			ref := MustParseDN(refDomainDN)
			if !dn.IsUnder(ref) {
				continue
			}
			tr := templateRecord{dn: r.DN, depth: len(dn), prefix: append(DN(nil), dn[:len(dn)-len(ref)]...)}
			for _, a := range r.Attrs {
				t := s.Attr(a.Name)
				if t == nil || dropFromTemplate[t.lower] || t.IsBackLink() {
					continue
				}
				ta := templateAttr{t: t}
				for _, v := range a.Values {
					raw, norm, err := canonical(t, v)
					if err != nil {
						return nil, fmt.Errorf("reference data: %s: %s: %w", r.DN, t.Name, err)
					}
					if t == s.Attr("objectClass") {
						if cl := s.Class(string(v)); cl != nil {
							raw, norm = []byte(cl.Name), cl.lower
						}
					}
					ta.vals = append(ta.vals, templateValue{raw: raw, norm: norm, rename: mentionsReference(t, raw)})
				}
				tr.attrs = append(tr.attrs, ta)
			}
			templates = append(templates, tr)
		}
	}
	sort.SliceStable(templates, func(i, j int) bool {
		if templates[i].depth != templates[j].depth {
			return templates[i].depth < templates[j].depth
		}
		return MustParseDN(templates[i].dn).Key() < MustParseDN(templates[j].dn).Key()
	})
	return templates, nil
}

// renamer rewrites the reference names (contoso, DC1, the reference domain SID) to a new domain's.
type renamer struct {
	pairs  []string // old, new, ... applied in order, case-insensitively
	exact  []string // old, new, ... applied afterwards, case-sensitively (NetBIOS name, DNS label)
	refSID ad.SID
	newSID ad.SID
}

func newRenamer(cfg DomainConfig, domainDN string, dc1 string, sid ad.SID) *renamer {
	return &renamer{
		pairs: []string{
			refDomainDN, domainDN,
			"CN=DC1,", "CN=" + dc1 + ",",
			"contoso.com", strings.ToLower(cfg.DNSName),
			"CN=CONTOSO,", "CN=" + cfg.NetBIOSName + ",",
		},
		exact:  []string{"CONTOSO", cfg.NetBIOSName, "contoso", strings.SplitN(cfg.DNSName, ".", 2)[0]},
		refSID: ad.MustParseSID(refDomainSID), newSID: sid,
	}
}

// textKey rewrites a normalised (lower-case) DN key.
func (r *renamer) textKey(s string) string {
	for i := 0; i+1 < len(r.pairs); i += 2 {
		s = replaceFold(s, r.pairs[i], strings.ToLower(r.pairs[i+1]))
	}
	for i := 0; i+1 < len(r.exact); i += 2 {
		s = replaceFold(s, r.exact[i], strings.ToLower(r.exact[i+1]))
	}
	return s
}

func (r *renamer) text(s string) string {
	for i := 0; i+1 < len(r.pairs); i += 2 {
		s = replaceFold(s, r.pairs[i], r.pairs[i+1])
	}
	for i := 0; i+1 < len(r.exact); i += 2 {
		s = strings.ReplaceAll(s, r.exact[i], r.exact[i+1])
	}
	return s
}

func replaceFold(s, old, new string) string {
	lo := strings.ToLower(old)
	ls := strings.ToLower(s)
	if !strings.Contains(ls, lo) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(ls, lo)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(new)
		s, ls = s[i+len(old):], ls[i+len(old):]
	}
}

func (r *renamer) value(t *AttrType, v []byte) []byte {
	switch t.Syntax {
	case SynSID:
		sid, err := ad.SIDFromBytes(v)
		if err == nil && sid.Equal(r.refSID) {
			return r.newSID.Bytes()
		}
		if err == nil && len(sid.SubAuthority) == 5 && sid.Domain().Equal(r.refSID) {
			return r.newSID.WithRID(sid.RID()).Bytes()
		}
		return v
	case SynOctet, SynSecurityDescriptor, SynBoolean, SynInteger, SynLargeInteger:
		return v
	}
	return []byte(r.text(string(v)))
}

// NewDomain builds a fresh domain as of now: one replica per DC in cfg.DCs, in that order, all
// holding identical data (the well-known containers, users and groups of ad-reference/domain.ldif,
// the configuration and schema partitions, every DC's computer account), each replica knowing which
// DC it belongs to (its own invocationId, RID pool, dnsHostName for the rootDSE).
func NewDomain(cfg DomainConfig, ids IDSource, now time.Time) ([]*Directory, error) {
	if len(cfg.DCs) == 0 {
		return nil, fmt.Errorf("new domain %q: at least one domain controller is needed", cfg.DNSName)
	}
	if cfg.DNSName == "" || cfg.NetBIOSName == "" {
		return nil, fmt.Errorf("new domain: DNS and NetBIOS names are required")
	}
	sid, err := ad.ParseSID(cfg.DomainSID)
	if err != nil || len(sid.SubAuthority) != 4 || sid.SubAuthority[0] != 21 {
		return nil, fmt.Errorf("new domain %q: domain SID %q: want S-1-5-21-a-b-c", cfg.DNSName, cfg.DomainSID)
	}
	s, err := LoadSchema()
	if err != nil {
		return nil, err
	}
	tmpl, err := loadTemplates()
	if err != nil {
		return nil, err
	}
	var domainDN DN
	for _, label := range strings.Split(cfg.DNSName, ".") {
		domainDN = append(domainDN, RDN{Attr: "DC", Value: label})
	}
	configDN := domainDN.Child("CN", "Configuration")
	dom := domainInfo{
		DNSName: cfg.DNSName, NetBIOSName: cfg.NetBIOSName, DomainSID: sid, SchemaVersion: cfg.SchemaVersion,
		DCs: withoutPasswords(cfg.DCs), domainDN: domainDN, configDN: configDN,
		schemaDN: configDN.Child("CN", "Schema"), keys: cfg.Keys,
	}
	if dom.keys == nil {
		dom.keys = fakekds.NewKeyMemo()
	}
	invocations := make([]ad.GUID, len(cfg.DCs))
	for i := range invocations {
		invocations[i] = ids.NewGUID()
	}
	d := newDirectory(s, dom, 0, ids)
	d.invocationID = invocations[0]
	b := &builder{d: d, now: now, rn: newRenamer(cfg, domainDN.String(), cfg.DCs[0].Name, sid)}
	for _, t := range tmpl {
		b.addTemplate(t)
	}
	if b.err != nil {
		return nil, b.err
	}
	b.addExtras(cfg, invocations)
	if b.err != nil {
		return nil, b.err
	}
	out := []*Directory{d}
	for i := 1; i < len(cfg.DCs); i++ {
		c := d.clone()
		c.dcIdx, c.dc, c.invocationID = i, dom.DCs[i], invocations[i]
		c.ridNext, c.ridEnd = ridPool(i)
		out = append(out, c)
	}
	d.ridNext, d.ridEnd = ridPool(0)
	return out, nil
}

// withoutPasswords copies the DCs' configuration without their passwords: a replica keeps only
// the keys derived from them, on the accounts.
func withoutPasswords(dcs []DCConfig) []DCConfig {
	out := append([]DCConfig(nil), dcs...)
	for i := range out {
		out[i].Password = ""
	}
	return out
}

// ridPoolSize is each DC's static RID pool: 64 DCs (serve --dcs' limit) × 10,000,000 stay inside
// AD's 2^30 RIDs, and one DC holds the 100,000-user scaling benchmark many times over.
const ridPoolSize = 10_000_000

// ridPool is DC i's RID range.
// Divergence: AD's RID master hands out pools of 500 on demand; each replica here owns a static
// pool of ridPoolSize so a DC never has to ask.
func ridPool(i int) (uint32, uint32) {
	start := uint32(1100 + ridPoolSize*i)
	return start, start + ridPoolSize
}

type builder struct {
	d   *Directory
	now time.Time
	rn  *renamer
	err error
}

func (b *builder) add(dn string, attrs []Attribute) {
	if b.err != nil {
		return
	}
	if err := b.d.Add(b.now, SystemCaller, dn, attrs); err != nil {
		b.err = fmt.Errorf("new domain: %s: %w", dn, err)
	}
}

// addTemplate builds one reference object directly (the reference data is known to satisfy the
// schema; TestBootstrapSatisfiesSchema checks it), rewriting only the values that name the
// reference domain.
func (b *builder) addTemplate(t templateRecord) {
	if b.err != nil {
		return
	}
	d := b.d
	dn := make(DN, 0, len(t.prefix)+len(d.dom.domainDN))
	for _, r := range t.prefix {
		if mentionsReferenceText(r.Value) {
			r.Value = b.rn.text(r.Value)
		}
		dn = append(dn, r)
	}
	dn = append(dn, d.dom.domainDN...)
	key := dnKey(dn)
	isHead := len(t.prefix) == 0 || dn.Equal(d.dom.configDN)
	if !isHead && d.byKey[parentKey(key)] == nil {
		return // orphan in the dump (its parent was not exported)
	}
	e := &entry{dn: dn, key: key, attrs: make([]*attr, 0, len(t.attrs)+8)}
	for _, ta := range t.attrs {
		a := &attr{t: ta.t, vals: make([]value, len(ta.vals))}
		for i, v := range ta.vals {
			if !v.rename {
				a.vals[i] = value{raw: v.raw, norm: v.norm}
				continue
			}
			if ta.t.Syntax == SynDN {
				// Rewrite the stored and the normalised form alike: no re-parsing.
				a.vals[i] = value{raw: []byte(b.rn.text(string(v.raw))), norm: b.rn.textKey(v.norm)}
				continue
			}
			raw := b.rn.value(ta.t, v.raw)
			c, n, err := canonical(ta.t, raw)
			if err != nil {
				c, n = raw, string(raw)
			}
			a.vals[i] = value{raw: c, norm: n}
		}
		e.attrs = append(e.attrs, a)
	}
	if err := d.resolveClasses("add", t.dn, e); err != nil {
		b.err = fmt.Errorf("new domain: %s: %w", t.dn, err)
		return
	}
	usn := d.nextUSN()
	if err := d.fillDefaults(b.now, e, SystemCaller, usn); err != nil {
		b.err = fmt.Errorf("new domain: %s: %w", t.dn, err)
		return
	}
	d.insert(e)
}

// mentionsReference reports whether a template value names the reference domain or DC.
func mentionsReference(t *AttrType, raw []byte) bool {
	switch t.Syntax {
	case SynSID:
		sid, err := ad.SIDFromBytes(raw)
		ref := ad.MustParseSID(refDomainSID)
		return err == nil && (sid.Equal(ref) || sid.Domain().Equal(ref))
	case SynOctet, SynSecurityDescriptor, SynBoolean, SynInteger, SynLargeInteger:
		return false
	}
	return mentionsReferenceText(string(raw))
}

func mentionsReferenceText(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "contoso") || strings.Contains(l, "dc1")
}

// addHead creates a naming-context head, which has no parent in this replica.
func (b *builder) addHead(dn DN, attrs []Attribute) {
	d := b.d
	e, _, err := d.buildEntry("add", dn.String(), dn, attrs, SystemCaller)
	if err != nil {
		b.err = err
		return
	}
	usn := d.nextUSN()
	if err := d.fillDefaults(b.now, e, SystemCaller, usn); err != nil {
		b.err = err
		return
	}
	d.insert(e)
}

func mkAttr(name string, vals ...string) Attribute {
	a := Attribute{Name: name}
	for _, v := range vals {
		a.Values = append(a.Values, []byte(v))
	}
	return a
}

// addExtras adds what the reference dump lacks or what is per DC: Deleted Objects, the schema
// head, the Group Key Distribution Service containers, the DCs' accounts and server objects, and
// the passwords.
func (b *builder) addExtras(cfg DomainConfig, invocations []ad.GUID) {
	d := b.d
	dom, conf := d.dom.domainDN.String(), d.dom.configDN.String()
	for _, nc := range []string{dom, conf} {
		if d.lookup(MustParseDN("CN=Deleted Objects,"+nc)) == nil {
			b.add("CN=Deleted Objects,"+nc, []Attribute{mkAttr("objectClass", "top", "container"),
				mkAttr("isDeleted", "TRUE"), mkAttr("showInAdvancedViewOnly", "TRUE"), mkAttr("systemFlags", "-1946157056"),
				mkAttr("isCriticalSystemObject", "TRUE")})
			if e := d.lookup(MustParseDN("CN=Deleted Objects," + nc)); e != nil {
				e.deleted = true // isDeleted: hidden from searches, like the tombstones it holds
			}
		}
	}
	schemaVersion := cfg.SchemaVersion
	if schemaVersion == 0 {
		schemaVersion = 88
	}
	if b.err == nil && d.lookup(d.dom.schemaDN) == nil {
		b.addHead(d.dom.schemaDN, []Attribute{mkAttr("objectClass", "top", "dMD"), mkAttr("cn", "Schema"),
			mkAttr("objectVersion", itoa(int64(schemaVersion))), mkAttr("instanceType", "13"),
			mkAttr("showInAdvancedViewOnly", "TRUE")})
	}
	if schemaVersion >= 52 {
		b.addGKDS(conf)
	}
	b.addDCs(cfg, invocations)
	if b.err != nil {
		return
	}
	b.setPasswords(cfg)
}

// addGKDS creates the Group Key Distribution Service containers (Windows Server 2012 schema).
func (b *builder) addGKDS(conf string) {
	gkds := "CN=Group Key Distribution Service,CN=Services," + conf
	b.add(gkds, []Attribute{mkAttr("objectClass", "top", "container"), mkAttr("showInAdvancedViewOnly", "TRUE")})
	b.add("CN=Master Root Keys,"+gkds, []Attribute{mkAttr("objectClass", "top", "container"), mkAttr("showInAdvancedViewOnly", "TRUE")})
	b.add("CN=Server Configuration,"+gkds, []Attribute{mkAttr("objectClass", "top", "container"), mkAttr("showInAdvancedViewOnly", "TRUE")})
	b.add("CN=Group Key Distribution Service Server Configuration,CN=Server Configuration,"+gkds, []Attribute{
		mkAttr("objectClass", "top", ad.ClassKdsProvServerConfiguration), mkAttr(ad.AttrKdsVersion, "1"),
		mkAttr(ad.AttrKdsKDFAlgorithmID, "SP800_108_CTR_HMAC"), mkAttr(ad.AttrKdsSecretAgreementAlgorithmID, "DH"),
		mkAttr(ad.AttrKdsPublicKeyLength, "2048"), mkAttr(ad.AttrKdsPrivateKeyLength, "512")})
}

// addDCs creates every DC's computer account, server and NTDS Settings objects and RID Set.
func (b *builder) addDCs(cfg DomainConfig, invocations []ad.GUID) {
	d := b.d
	dom, conf := d.dom.domainDN.String(), d.dom.configDN.String()
	servers := "CN=Servers,CN=Default-First-Site-Name,CN=Sites," + conf
	for i, dc := range cfg.DCs {
		host := strings.ToLower(dc.Name) + "." + strings.ToLower(cfg.DNSName)
		acct := "CN=" + dc.Name + ",OU=Domain Controllers," + dom
		b.add(acct, []Attribute{
			mkAttr("objectClass", "top", "person", "organizationalPerson", "user", "computer"),
			mkAttr("userAccountControl", itoa(UACServerTrust|UACTrustedForDelegation)),
			mkAttr("sAMAccountName", strings.ToUpper(dc.Name)+"$"), mkAttr("dNSHostName", host),
			mkAttr("objectSid", string(d.dom.DomainSID.WithRID(uint32(1000+i)).Bytes())),
			mkAttr("operatingSystem", osName(dc.OS)), mkAttr("operatingSystemVersion", osVersion(dc.OS)),
			mkAttr("primaryGroupID", "516"), mkAttr("isCriticalSystemObject", "TRUE"),
			mkAttr(ad.AttrSupportedEncryptionTypes, "28"),
			mkAttr("servicePrincipalName", dcSPNs(dc.Name, host, cfg, invocations[i])...),
		})
		if dc.Password != "" {
			// dcpromo sets the password in the same operation that creates the account: its keys
			// carry the account's creation USN (and kvno 1), and no later USN moves.
			if e := d.lookup(MustParseDN(acct)); e != nil {
				d.storePassword(e, dc.Password, b.now, d.usn)
			}
		}
		srv := "CN=" + dc.Name + "," + servers
		b.add(srv, []Attribute{mkAttr("objectClass", "top", "server"), mkAttr("dNSHostName", host),
			mkAttr("serverReference", acct), mkAttr("systemFlags", "1375731712")})
		b.add("CN=NTDS Settings,"+srv, []Attribute{mkAttr("objectClass", "top", "applicationSettings", "nTDSDSA"),
			mkAttr("invocationId", string(invocations[i][:])), mkAttr("options", "1"),
			mkAttr(ad.AttrBehaviorVersion, itoa(int64(dcFunctionality(dc.OS)))),
			mkAttr("hasMasterNCs", dom, conf, d.dom.schemaDN.String()), mkAttr("dMDLocation", d.dom.schemaDN.String()),
			mkAttr("systemFlags", "33554432")})
		lo, hi := ridPool(i)
		b.add("CN=RID Set,"+acct, []Attribute{mkAttr("objectClass", "top", "rIDSet"),
			mkAttr("rIDAllocationPool", itoa(int64(hi-1)<<32|int64(lo))), mkAttr("rIDPreviousAllocationPool", itoa(int64(hi-1)<<32|int64(lo))),
			mkAttr("rIDUsedPool", "0"), mkAttr("rIDNextRID", itoa(int64(lo)))})
	}
}

// dcSPNs are the servicePrincipalName values of a DC's account, as dcpromo registers them for a
// DC of a single-domain forest (the forest's DNS name is the domain's): host, ldap, the global
// catalog (GC/<fqdn>/<forest>), directory replication (the DRS RPC interface GUID
// E3514235-4B06-11D1-AB04-00C04FC2DCD2/<DSA GUID>/<domain>) and RestrictedKrbHost.
// Divergence: on a fresh DC the DSA GUID (the NTDS Settings objectGUID) equals the invocationId;
// here they are different GUIDs, and the replication SPN names the invocationId.
func dcSPNs(name, host string, cfg DomainConfig, invocation ad.GUID) []string {
	dns := strings.ToLower(cfg.DNSName)
	return []string{"HOST/" + name, "HOST/" + host, "ldap/" + host, "ldap/" + name,
		"ldap/" + host + "/" + dns, "ldap/" + host + "/" + cfg.NetBIOSName,
		"GC/" + host + "/" + dns, "HOST/" + host + "/" + cfg.NetBIOSName,
		"HOST/" + host + "/" + dns, "RestrictedKrbHost/" + name, "RestrictedKrbHost/" + host,
		"E3514235-4B06-11D1-AB04-00C04FC2DCD2/" + invocation.String() + "/" + dns}
}

// setPasswords sets Administrator's password and krbtgt's keys.
func (b *builder) setPasswords(cfg DomainConfig) {
	d := b.d
	dom := d.dom.domainDN.String()
	admin := "CN=Administrator,CN=Users," + dom
	if cfg.AdminPassword != "" {
		if e := d.lookup(MustParseDN(admin)); e != nil {
			d.storePassword(e, cfg.AdminPassword, b.now, d.nextUSN())
		}
	}
	if e := d.lookup(MustParseDN("CN=krbtgt,CN=Users," + dom)); e != nil {
		// krbtgt's password is random and never known: draw its keys directly instead of running
		// string-to-key on a random password (same distribution, none of the PBKDF2 cost).
		g1, g2, g3, g4 := d.ids.NewGUID(), d.ids.NewGUID(), d.ids.NewGUID(), d.ids.NewGUID()
		k := Keys{NTHash: g1[:], AES128: g2[:], AES256: append(g3[:], g4[:]...),
			Salt: KerberosSalt(d.dom.DNSName, "krbtgt", false)}
		d.storeKeys(e, k, b.now, d.nextUSN())
	}
}

func osName(os string) string {
	switch os {
	case "2008R2":
		return "Windows Server 2008 R2 Datacenter"
	case "2012":
		return "Windows Server 2012 Datacenter"
	case "2012R2":
		return "Windows Server 2012 R2 Datacenter"
	}
	return "Windows Server " + os + " Datacenter"
}

func osVersion(os string) string {
	switch os {
	case "2008R2":
		return "6.1 (7601)"
	case "2012":
		return "6.2 (9200)"
	case "2012R2":
		return "6.3 (9600)"
	case "2016":
		return "10.0 (14393)"
	case "2019":
		return "10.0 (17763)"
	case "2022":
		return "10.0 (20348)"
	case "2025":
		return "10.0 (26100)"
	}
	return "10.0"
}

// clone deep-copies the replica (entries, values, metadata, indexes) for another DC.
func (d *Directory) clone() *Directory {
	c := newDirectory(d.schema, d.dom, d.dcIdx, d.ids)
	c.invocationID, c.usn, c.ridNext, c.ridEnd = d.invocationID, d.usn, d.ridNext, d.ridEnd
	c.snc = d.snc
	for k, v := range d.grants {
		c.grants[k] = append([]grant(nil), v...)
	}
	for _, e := range d.all {
		if e == nil {
			continue
		}
		n := &entry{dn: append(DN(nil), e.dn...), guid: e.guid, class: e.class, deleted: e.deleted}
		n.attrs = make([]*attr, len(e.attrs))
		for i, a := range e.attrs {
			n.attrs[i] = &attr{t: a.t, vals: append([]value(nil), a.vals...), meta: a.meta}
		}
		c.insert(n)
	}
	return c
}
