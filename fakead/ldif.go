package fakead

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// The export format: an RFC 2849 content file. The first record (dn "") holds the replica's own
// state as x-gmsasim-* attributes; then every object, tombstones included, parents before children
// and siblings by DN key, attributes by name, each followed by x-gmsasim-meta lines carrying the
// replication metadata ("<attr> <version> <originating invocationId> <originating time RFC 3339>
// <originating USN> <local USN>"). Secrets appear only as stored: unicodePwd holds the NT hash,
// supplementalCredentials the Kerberos keys; never a plaintext password.
const (
	ldifFormat   = "x-gmsasim-format"
	ldifMeta     = "x-gmsasim-meta"
	ldifDeleted  = "x-gmsasim-deleted"
	ldifFormatV1 = "gmsasim-replica-1"
)

// ExportLDIF writes the whole replica as LDIF, deterministically ordered; ImportLDIF reads it back,
// and export(import(x)) == x byte for byte.
//
// The last export is kept (exportMemo) and written again while the replica's highest USN and its
// state record are unchanged: a migration saves the world before and after every step, and half
// of those saves follow no write at all. Every change to an entry takes a USN, and what is not an
// entry (RID pool, grants, invocation id) is in the state record.
func (d *Directory) ExportLDIF(w io.Writer) error {
	var st bytes.Buffer
	state := d.stateRecord()
	if err := WriteLDIF(&st, state); err != nil {
		return err
	}
	if m := d.exportMemo; m != nil && m.usn == d.usn && m.state == st.String() {
		_, err := w.Write(m.text)
		return err
	}
	var out bytes.Buffer
	if err := d.exportLDIF(&out, state); err != nil {
		return err
	}
	d.exportMemo = &ldifExport{usn: d.usn, state: st.String(), text: out.Bytes()}
	_, err := w.Write(out.Bytes())
	return err
}

// ldifExport is a replica's last LDIF export and what it was made from.
type ldifExport struct {
	usn   uint64
	state string
	text  []byte
}

func (d *Directory) exportLDIF(w io.Writer, state LDIFRecord) error {
	recs := []LDIFRecord{state}
	var roots []*entry
	for _, e := range d.all {
		if e != nil && e.parent == nil {
			roots = append(roots, e)
		}
	}
	sort.Slice(roots, func(i, j int) bool {
		if roots[i].depth != roots[j].depth {
			return roots[i].depth < roots[j].depth
		}
		return roots[i].key < roots[j].key
	})
	var walk func(e *entry)
	walk = func(e *entry) {
		recs = append(recs, d.entryRecord(e))
		for _, c := range e.sortedChildren() {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return WriteLDIF(w, recs...)
}

func sattr(name string, vals ...string) Attribute {
	a := Attribute{Name: name}
	for _, v := range vals {
		a.Values = append(a.Values, []byte(v))
	}
	return a
}

func (d *Directory) stateRecord() LDIFRecord {
	var dcs []string
	for _, dc := range d.dom.DCs {
		dcs = append(dcs, dc.Name+" "+dc.OS)
	}
	attrs := []Attribute{
		sattr(ldifFormat, ldifFormatV1),
		sattr("x-gmsasim-dnsName", d.dom.DNSName),
		sattr("x-gmsasim-netbiosName", d.dom.NetBIOSName),
		sattr("x-gmsasim-domainSID", d.dom.DomainSID.String()),
		sattr("x-gmsasim-schemaVersion", itoa(int64(d.dom.SchemaVersion))),
		sattr("x-gmsasim-dc", dcs...),
		sattr("x-gmsasim-dcIndex", itoa(int64(d.dcIdx))),
		sattr("x-gmsasim-invocationId", d.invocationID.String()),
		sattr("x-gmsasim-usn", strconv.FormatUint(d.usn, 10)),
		sattr("x-gmsasim-rid", fmt.Sprintf("%d %d", d.ridNext, d.ridEnd)),
	}
	var keys []string
	for k := range d.grants {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var gs []string
	for _, k := range keys {
		for _, g := range d.grants[k] {
			gs = append(gs, fmt.Sprintf("%d %s %s %s", g.Rights, g.SID, strings.Join(g.Classes, ","), k))
		}
	}
	if len(gs) > 0 {
		attrs = append(attrs, sattr("x-gmsasim-grant", gs...))
	}
	return LDIFRecord{DN: "", Attrs: attrs}
}

func (d *Directory) entryRecord(e *entry) LDIFRecord {
	r := LDIFRecord{DN: e.dn.String()}
	attrs := e.sortedAttrs()
	var metas []string
	for _, a := range attrs {
		if len(a.vals) > 0 {
			r.Attrs = append(r.Attrs, Attribute{Name: a.t.Name, Values: a.rawValues()})
		}
		if a.meta.Version > 0 {
			metas = append(metas, fmt.Sprintf("%s %d %s %s %d %d", a.t.Name, a.meta.Version, a.meta.OrigDSA,
				a.meta.OrigTime.UTC().Format(time.RFC3339Nano), a.meta.OrigUSN, a.meta.LocalUSN))
		}
	}
	if e.deleted {
		r.Attrs = append(r.Attrs, sattr(ldifDeleted, "TRUE"))
	}
	if len(metas) > 0 {
		r.Attrs = append(r.Attrs, sattr(ldifMeta, metas...))
	}
	return r
}

// ImportLDIF builds a replica from an LDIF export. Constructed-attribute hooks are not part of
// the export: register them again on the imported replica.
func ImportLDIF(r io.Reader) (*Directory, error) {
	recs, err := ReadLDIF(r)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if len(recs) == 0 || recs[0].DN != "" {
		return nil, fmt.Errorf("import: the first record must be the replica state (dn \"\")")
	}
	s, err := LoadSchema()
	if err != nil {
		return nil, err
	}
	st := recordValues(recs[0])
	if first(st, ldifFormat) != ldifFormatV1 {
		return nil, fmt.Errorf("import: line %d: %s is %q, want %q", recs[0].Line, ldifFormat, first(st, ldifFormat), ldifFormatV1)
	}
	d, err := stateFromRecord(s, st)
	if err != nil {
		return nil, fmt.Errorf("import: line %d: %w", recs[0].Line, err)
	}
	for _, rec := range recs[1:] {
		if err := d.importEntry(rec); err != nil {
			return nil, fmt.Errorf("import: line %d: %s: %w", rec.Line, rec.DN, err)
		}
	}
	return d, nil
}

func stateFromRecord(s *Schema, st map[string][]string) (*Directory, error) {
	dom := domainInfo{keys: fakekds.NewKeyMemo()}
	dom.DNSName, dom.NetBIOSName = first(st, "x-gmsasim-dnsname"), first(st, "x-gmsasim-netbiosname")
	sid, err := ad.ParseSID(first(st, "x-gmsasim-domainsid"))
	if err != nil {
		return nil, err
	}
	dom.DomainSID = sid
	if dom.SchemaVersion, err = strconv.Atoi(first(st, "x-gmsasim-schemaversion")); err != nil {
		return nil, fmt.Errorf("schema version: %w", err)
	}
	for _, v := range st["x-gmsasim-dc"] {
		name, os, _ := strings.Cut(v, " ")
		dom.DCs = append(dom.DCs, DCConfig{Name: name, OS: os})
	}
	if dom.DNSName == "" || strings.Contains(dom.DNSName, ",") {
		return nil, fmt.Errorf("bad DNS name %q", dom.DNSName)
	}
	for _, label := range strings.Split(dom.DNSName, ".") {
		if label == "" {
			return nil, fmt.Errorf("bad DNS name %q", dom.DNSName)
		}
		dom.domainDN = append(dom.domainDN, RDN{Attr: "DC", Value: label})
	}
	dom.configDN = dom.domainDN.Child("CN", "Configuration")
	dom.schemaDN = dom.configDN.Child("CN", "Schema")
	idx, err := strconv.Atoi(first(st, "x-gmsasim-dcindex"))
	if err != nil || idx < 0 || idx >= len(dom.DCs) {
		return nil, fmt.Errorf("dc index %q", first(st, "x-gmsasim-dcindex"))
	}
	d := newDirectory(s, dom, idx, nil)
	if d.invocationID, err = ad.ParseGUID(first(st, "x-gmsasim-invocationid")); err != nil {
		return nil, err
	}
	if d.usn, err = strconv.ParseUint(first(st, "x-gmsasim-usn"), 10, 64); err != nil {
		return nil, fmt.Errorf("usn: %w", err)
	}
	if _, err := fmt.Sscanf(first(st, "x-gmsasim-rid"), "%d %d", &d.ridNext, &d.ridEnd); err != nil {
		return nil, fmt.Errorf("rid pool: %w", err)
	}
	for _, g := range st["x-gmsasim-grant"] {
		parts := strings.SplitN(g, " ", 4)
		if len(parts) != 4 {
			return nil, fmt.Errorf("grant %q", g)
		}
		rights, err := strconv.Atoi(parts[0])
		if err != nil {
			return nil, fmt.Errorf("grant %q", g)
		}
		gr := grant{SID: parts[1], Rights: Right(rights)}
		if parts[2] != "" {
			gr.Classes = strings.Split(parts[2], ",")
		}
		d.grants[parts[3]] = append(d.grants[parts[3]], gr)
	}
	return d, nil
}

func (d *Directory) importEntry(rec LDIFRecord) error {
	dn, err := ParseDN(rec.DN)
	if err != nil {
		return err
	}
	if dn.IsZero() {
		return fmt.Errorf("empty DN")
	}
	if d.lookup(dn) != nil {
		return fmt.Errorf("duplicate entry")
	}
	isHead := dn.Equal(d.dom.domainDN) || dn.Equal(d.dom.schemaDN)
	if !isHead && d.lookup(dn.Parent()) == nil {
		return fmt.Errorf("parent not defined before the entry")
	}
	e := &entry{dn: dn}
	metas := map[*AttrType]AttrMeta{}
	for _, a := range rec.Attrs {
		switch strings.ToLower(a.Name) {
		case ldifDeleted:
			e.deleted = true
			continue
		case ldifMeta:
			for _, v := range a.Values {
				t, m, err := d.parseMeta(string(v))
				if err != nil {
					return err
				}
				metas[t] = m
			}
			continue
		}
		t := d.schema.Attr(a.Name)
		if t == nil {
			return fmt.Errorf("attribute %q is not in the schema", a.Name)
		}
		if e.get(t) != nil {
			return fmt.Errorf("attribute %s appears twice", t.Name)
		}
		at := &attr{t: t}
		for _, v := range a.Values {
			raw, norm, err := canonical(t, v)
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			if !bytes.Equal(raw, v) {
				return fmt.Errorf("%s: value %q is not in canonical form", t.Name, v)
			}
			if t == d.at.objectClass {
				cl := d.schema.Class(string(v))
				if cl == nil {
					return fmt.Errorf("unknown objectClass %q", v)
				}
				norm = cl.lower
			}
			at.vals = append(at.vals, value{raw: raw, norm: norm})
		}
		e.attrs = append(e.attrs, at)
	}
	for t, m := range metas {
		a := e.get(t)
		if a == nil {
			a = &attr{t: t}
			e.attrs = append(e.attrs, a)
		}
		a.meta = m
	}
	g := e.first(d.at.objectGUID)
	if g == nil {
		return fmt.Errorf("objectGUID missing")
	}
	if e.guid, err = ad.GUIDFromWire(g); err != nil {
		return err
	}
	if d.byGUID[e.guid] != nil {
		return fmt.Errorf("objectGUID %s used twice", e.guid)
	}
	if oc := e.get(d.at.objectClass); oc != nil {
		for _, v := range oc.vals {
			if cl := d.schema.Class(v.norm); cl != nil && cl.Category != objectClassAuxiliary && cl.Category != objectClassAbstract {
				if e.class == nil || inChain(cl, e.class) {
					e.class = cl
				}
			}
		}
	}
	if e.class == nil {
		return fmt.Errorf("no structural objectClass")
	}
	d.insert(e)
	return nil
}

func (d *Directory) parseMeta(s string) (*AttrType, AttrMeta, error) {
	var m AttrMeta
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, m, fmt.Errorf("%s %q: want 6 fields", ldifMeta, s)
	}
	t := d.schema.Attr(f[0])
	if t == nil {
		return nil, m, fmt.Errorf("%s: attribute %q is not in the schema", ldifMeta, f[0])
	}
	v, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil || v == 0 {
		return nil, m, fmt.Errorf("%s %q: version", ldifMeta, s)
	}
	m.Version = uint32(v)
	if m.OrigDSA, err = ad.ParseGUID(f[2]); err != nil {
		return nil, m, err
	}
	if m.OrigTime, err = time.Parse(time.RFC3339Nano, f[3]); err != nil {
		return nil, m, err
	}
	m.OrigTime = m.OrigTime.UTC()
	if m.OrigTime.Format(time.RFC3339Nano) != f[3] {
		return nil, m, fmt.Errorf("%s %q: time not canonical", ldifMeta, s)
	}
	if m.OrigUSN, err = strconv.ParseUint(f[4], 10, 64); err != nil {
		return nil, m, err
	}
	if m.LocalUSN, err = strconv.ParseUint(f[5], 10, 64); err != nil {
		return nil, m, err
	}
	return t, m, nil
}
