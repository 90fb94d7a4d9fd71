package fakead

import (
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// Directory is one DC's replica of the directory. It is a pure state machine: no goroutines, no
// clock (now is an argument), no I/O except the io.Writer/io.Reader handed to LDIF export/import.
// It is not safe for concurrent use; the world serialises calls.
type Directory struct {
	schema *Schema
	dom    domainInfo
	dc     DCConfig
	dcIdx  int

	invocationID ad.GUID
	usn          uint64
	ridNext      uint32
	ridEnd       uint32

	byKey    map[string]*entry
	maxDepth int // the greatest depth (RDN count) any entry has had: bounds bestMatch
	byGUID   map[ad.GUID]*entry
	all      []*entry // creation order (tombstones stay: objects are never removed)
	seq      uint64
	idx      map[*AttrType]map[string]*entrySet

	grants map[string][]grant // container key → grants
	ids    IDSource
	kds    *kdsState // this DC's Key Distribution Service (kds.go), created on first use
	snc    *schemaNC // the schema partition's objects, built on first use, shared by the replicas (schemanc.go)

	exportMemo *ldifExport // the last ExportLDIF (ldif.go)

	at attrTypes // frequently used schema attributes

	tokens      map[*entry]cachedToken // tokenOf's cache, valid while the USN stands still
	lastTime    time.Time              // genTime's one-entry cache
	lastTimeStr string

	rotations []Rotation // lazy gMSA rotations not yet drained (managedpw.go)

	// changeLog lists, in USN order, the entries written at each USN since the log was built, so
	// ChangesSince costs in proportion to the changes, not to the directory (the world asks after
	// every operation). It is rebuilt from a full scan when changeLogOK is false (a new or
	// imported replica).
	changeLog   []changeRec
	changeLogOK bool
}

// changeRec says that e was written in the operation that allocated usn.
type changeRec struct {
	usn uint64
	e   *entry
}

// domainInfo is what every replica of the domain shares.
type domainInfo struct {
	DNSName       string
	NetBIOSName   string
	DomainSID     ad.SID
	SchemaVersion int
	DCs           []DCConfig
	domainDN      DN
	configDN      DN
	schemaDN      DN
	keys          *fakekds.KeyMemo // derived keys, shared by the replicas (and maybe other domains)
}

// attrTypes caches the schema attributes the model touches on every operation.
type attrTypes struct {
	objectClass, objectCategory, objectGUID, objectSid, name, cn, dn, instanceType       *AttrType
	whenCreated, whenChanged, uSNCreated, uSNChanged, sAMAccountName, sAMAccountType     *AttrType
	userPrincipalName, servicePrincipalName, userAccountControl, member, memberOf        *AttrType
	primaryGroupID, groupType, unicodePwd, supplementalCredentials, pwdLastSet           *AttrType
	isDeleted, lastKnownParent, managedBy, dNSHostName, objectVersion, isCritical        *AttrType
	tokenGroups, accountExpires, badPwdCount, nTSecurityDescriptor, msDSKeyVersionNumber *AttrType
}

func newAttrTypes(s *Schema) attrTypes {
	a := s.Attr
	return attrTypes{
		objectClass: a("objectClass"), objectCategory: a("objectCategory"), objectGUID: a("objectGUID"),
		objectSid: a("objectSid"), name: a("name"), cn: a("cn"), dn: a("distinguishedName"),
		instanceType: a("instanceType"), whenCreated: a("whenCreated"), whenChanged: a("whenChanged"),
		uSNCreated: a("uSNCreated"), uSNChanged: a("uSNChanged"), sAMAccountName: a("sAMAccountName"),
		sAMAccountType: a("sAMAccountType"), userPrincipalName: a("userPrincipalName"),
		servicePrincipalName: a("servicePrincipalName"), userAccountControl: a("userAccountControl"),
		member: a("member"), memberOf: a("memberOf"), primaryGroupID: a("primaryGroupID"),
		groupType: a("groupType"), unicodePwd: a("unicodePwd"), supplementalCredentials: a("supplementalCredentials"),
		pwdLastSet: a("pwdLastSet"), isDeleted: a("isDeleted"), lastKnownParent: a("lastKnownParent"),
		managedBy: a("managedBy"), dNSHostName: a("dNSHostName"), objectVersion: a("objectVersion"),
		isCritical: a("isCriticalSystemObject"), tokenGroups: a("tokenGroups"),
		accountExpires: a("accountExpires"), badPwdCount: a("badPwdCount"),
		nTSecurityDescriptor: a("nTSecurityDescriptor"), msDSKeyVersionNumber: a(ad.AttrKeyVersionNumber),
	}
}

func newDirectory(s *Schema, dom domainInfo, dcIdx int, ids IDSource) *Directory {
	d := &Directory{
		schema: s, dom: dom, dcIdx: dcIdx, ids: ids,
		byKey: map[string]*entry{}, byGUID: map[ad.GUID]*entry{},
		idx:    map[*AttrType]map[string]*entrySet{},
		grants: map[string][]grant{},
		at:     newAttrTypes(s),
		snc:    &schemaNC{},
	}
	if dcIdx >= 0 && dcIdx < len(dom.DCs) {
		d.dc = dom.DCs[dcIdx]
	}
	// Indexes: every attribute AD marks indexed plus the ones the brief names, and every forward
	// link (so memberOf and in-chain evaluation are look-ups).
	for _, a := range s.Attrs() {
		if a.Indexed() || a.IsForwardLink() {
			d.idx[a] = map[string]*entrySet{}
		}
	}
	for _, a := range []*AttrType{d.at.objectClass, d.at.objectCategory, d.at.objectGUID, d.at.objectSid,
		d.at.sAMAccountName, d.at.userPrincipalName, d.at.servicePrincipalName, d.at.dNSHostName} {
		d.idx[a] = map[string]*entrySet{}
	}
	return d
}

// SetIDSource sets where the replica gets new objectGUIDs (needed after ImportLDIF).
func (d *Directory) SetIDSource(ids IDSource) { d.ids = ids }

// Schema is the schema this replica uses (shared, read-only).
func (d *Directory) Schema() *Schema { return d.schema }

// DomainDN is the domain naming context, "DC=contoso,DC=com".
func (d *Directory) DomainDN() string { return d.dom.domainDN.String() }

// ConfigDN is the configuration naming context.
func (d *Directory) ConfigDN() string { return d.dom.configDN.String() }

// SchemaDN is the schema naming context.
func (d *Directory) SchemaDN() string { return d.dom.schemaDN.String() }

// DomainSID is the domain's SID.
func (d *Directory) DomainSID() ad.SID { return d.dom.DomainSID }

// DNSName is the domain's DNS name.
func (d *Directory) DNSName() string { return d.dom.DNSName }

// NetBIOSName is the domain's NetBIOS name.
func (d *Directory) NetBIOSName() string { return d.dom.NetBIOSName }

// DC is the domain controller this replica belongs to.
func (d *Directory) DC() DCConfig { return d.dc }

// InvocationID is this replica's invocationId (the originating-DC id in replication metadata).
func (d *Directory) InvocationID() ad.GUID { return d.invocationID }

// HighestUSN is this replica's highestCommittedUSN.
func (d *Directory) HighestUSN() uint64 { return d.usn }

func (d *Directory) nextUSN() uint64 {
	d.usn++
	return d.usn
}

// SetKeyMemo makes the replica derive accounts' keys through km (a restored world's, so that its
// replicas share the memo of the world they now belong to); nil derives every time.
func (d *Directory) SetKeyMemo(km *fakekds.KeyMemo) { d.dom.keys = km }

// lookup finds a live or deleted entry by DN string.
func (d *Directory) lookup(dn DN) *entry { return d.byKey[dnKey(dn)] }

// insert links e into the tree and the indexes. The parent must exist (except for NC heads).
func (d *Directory) insert(e *entry) {
	d.seq++
	e.seq = d.seq
	if e.key == "" {
		e.key = dnKey(e.dn)
	}
	e.depth = len(e.dn)
	d.maxDepth = max(d.maxDepth, e.depth)
	if p := d.byKey[parentKey(e.key)]; p != nil && len(e.dn) > 0 {
		e.parent = p
		if p.children == nil {
			p.children = map[*entry]struct{}{}
		}
		p.children[e] = struct{}{}
	}
	switch {
	case e.depth <= len(d.dom.schemaDN) && (e.dn.Equal(d.dom.domainDN) || e.dn.Equal(d.dom.configDN) || e.dn.Equal(d.dom.schemaDN)):
		e.nc = e
	case e.parent != nil:
		e.nc = e.parent.nc
	}
	d.byKey[e.key] = e
	if !e.guid.IsZero() {
		d.byGUID[e.guid] = e
	}
	d.all = append(d.all, e)
	for _, a := range e.attrs {
		d.indexAttr(e, a)
	}
}

func (d *Directory) indexAttr(e *entry, a *attr) {
	m := d.idx[a.t]
	if m == nil || e.seq == 0 { // not inserted yet: insert indexes it
		return
	}
	for _, v := range a.vals {
		s := m[v.norm]
		if s == nil {
			s = &entrySet{}
			m[v.norm] = s
		}
		s.add(e)
	}
}

func (d *Directory) unindexAttr(e *entry, a *attr) {
	m := d.idx[a.t]
	if m == nil || e.seq == 0 {
		return
	}
	for _, v := range a.vals {
		if s := m[v.norm]; s != nil {
			s.remove(e)
			if len(*s) == 0 {
				delete(m, v.norm)
			}
		}
	}
}

// setValues replaces the values of t on e, keeping indexes current. It does not touch metadata.
func (d *Directory) setValues(e *entry, t *AttrType, vals []value) *attr {
	a := e.get(t)
	if a == nil {
		a = &attr{t: t}
		e.attrs = append(e.attrs, a)
	} else {
		d.unindexAttr(e, a)
	}
	a.vals = vals
	a.raws = nil
	d.indexAttr(e, a)
	d.logChange(e)
	return a
}

// logChange records that e is being written by the current operation. Every write allocates its
// USN (nextUSN) before it changes values, so d.usn is that operation's USN.
func (d *Directory) logChange(e *entry) {
	if !d.changeLogOK {
		return
	}
	if n := len(d.changeLog); n > 0 && d.changeLog[n-1].e == e && d.changeLog[n-1].usn == d.usn {
		return
	}
	d.changeLog = append(d.changeLog, changeRec{usn: d.usn, e: e})
}

// stamp records an originating write of t at usn: version+1, this DC, now.
func (d *Directory) stamp(a *attr, now time.Time, usn uint64) {
	if a.t.SystemFlags&1 != 0 { // FLAG_ATTR_NOT_REPLICATED: no metadata
		return
	}
	a.meta = AttrMeta{Version: a.meta.Version + 1, OrigDSA: d.invocationID, OrigTime: now.UTC(), OrigUSN: usn, LocalUSN: usn}
	// stamp is called after the values were set, so the entry is already in the change log.
}

// put sets t's values on e from raw wire values (already validated) as an originating write.
func (d *Directory) put(e *entry, t *AttrType, now time.Time, usn uint64, raws ...[]byte) {
	vals := make([]value, 0, len(raws))
	for _, r := range raws {
		c, n, err := canonical(t, r)
		if err != nil {
			c, n = r, string(r)
		}
		vals = append(vals, value{raw: c, norm: n})
	}
	d.stamp(d.setValues(e, t, vals), now, usn)
}

func (d *Directory) putString(e *entry, t *AttrType, now time.Time, usn uint64, vs ...string) {
	raws := make([][]byte, len(vs))
	for i, v := range vs {
		raws[i] = []byte(v)
	}
	d.put(e, t, now, usn, raws...)
}

// touch updates whenChanged/uSNChanged (local, not replicated).
func (d *Directory) touch(e *entry, now time.Time, usn uint64) {
	d.putString(e, d.at.whenChanged, now, usn, d.genTime(now))
	d.putString(e, d.at.uSNChanged, now, usn, itoa(int64(usn)))
}

// lookupSet returns the entries whose attribute t has the normalised value norm.
func (d *Directory) lookupSet(t *AttrType, norm string) (entrySet, bool) {
	m, ok := d.idx[t]
	if !ok {
		return nil, false
	}
	if s := m[norm]; s != nil {
		return *s, true
	}
	return nil, true
}

// partitionOf returns the naming context head that holds dn.
func (d *Directory) partitionOf(dn DN) DN {
	switch {
	case dn.IsUnder(d.dom.schemaDN):
		return d.dom.schemaDN
	case dn.IsUnder(d.dom.configDN):
		return d.dom.configDN
	}
	return d.dom.domainDN
}

// parentKey is the key of the parent of the DN whose key is k (k with its first RDN removed).
func parentKey(k string) string {
	for i := 0; i < len(k); i++ {
		switch k[i] {
		case '\\':
			i++
		case ',':
			return k[i+1:]
		}
	}
	return ""
}

// genTime is GeneralizedTime(now), remembered for the next call with the same now (a batch of
// writes at one simulated instant formats it once).
func (d *Directory) genTime(now time.Time) string {
	if !now.Equal(d.lastTime) || d.lastTimeStr == "" {
		d.lastTime, d.lastTimeStr = now, ad.GeneralizedTime(now)
	}
	return d.lastTimeStr
}
