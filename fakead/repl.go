package fakead

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
)

// ChangesSince returns, for every object with an attribute whose local USN is > usn, the changed
// attributes with their values and replication metadata as they are now (AD's GetNCChanges).
// Objects come by depth, then in this replica's creation order, so parents precede children.
// Divergence: member (and every linked attribute) replicates as a whole attribute, as in a
// Windows 2000 forest, not value by value (link value replication).
func (d *Directory) ChangesSince(usn uint64) []ReplChange {
	var out []ReplChange
	for _, e := range d.changedEntries(usn) {
		var attrs []ReplAttr
		for _, a := range e.attrs {
			if a.meta.Version == 0 || a.meta.LocalUSN <= usn {
				continue
			}
			vals := copyValues(a.rawValues())
			if a.t.IsForwardLink() && a.t.Syntax == SynDN {
				// Links travel with their target's GUID (AD's extended DN form), so a target
				// renamed on one side is still found on the other.
				for i, v := range a.vals {
					if x := d.byKey[v.norm]; x != nil {
						vals[i] = []byte("<GUID=" + x.guid.String() + ">;" + string(v.raw))
					}
				}
			}
			attrs = append(attrs, ReplAttr{Name: a.t.Name, Values: vals, Meta: a.meta})
		}
		if len(attrs) == 0 {
			continue
		}
		sort.Slice(attrs, func(i, j int) bool { return strings.ToLower(attrs[i].Name) < strings.ToLower(attrs[j].Name) })
		ch := ReplChange{GUID: e.guid, DN: e.dn.String(), Attrs: attrs}
		if e.parent != nil {
			ch.ParentGUID = e.parent.guid
		}
		out = append(out, ch)
	}
	return out
}

// changedEntries returns the entries with an attribute whose local USN is above usn, parents
// before children even when an object was moved under a younger parent: by depth, then creation
// order within a depth. Candidates come from the change log, so the cost follows the number of
// writes since usn; the first call on a replica builds the log with one scan.
func (d *Directory) changedEntries(usn uint64) []*entry {
	if !d.changeLogOK {
		d.rebuildChangeLog()
	}
	i := sort.Search(len(d.changeLog), func(i int) bool { return d.changeLog[i].usn > usn })
	seen := make(map[*entry]struct{}, len(d.changeLog)-i)
	var es []*entry
	for _, r := range d.changeLog[i:] {
		if _, dup := seen[r.e]; dup {
			continue
		}
		seen[r.e] = struct{}{}
		// seq 0: an object whose add failed after its values were set; it never joined the
		// replica and must not replicate.
		if r.e.seq != 0 && r.e.changedSince(usn) {
			es = append(es, r.e)
		}
	}
	sort.Slice(es, func(a, b int) bool {
		if es[a].depth != es[b].depth {
			return es[a].depth < es[b].depth
		}
		return es[a].seq < es[b].seq
	})
	return es
}

// rebuildChangeLog lists every entry under the highest local USN of its attributes.
func (d *Directory) rebuildChangeLog() {
	d.changeLog = d.changeLog[:0]
	for _, e := range d.all {
		if e == nil {
			continue
		}
		var top uint64
		for _, a := range e.attrs {
			if a.meta.Version != 0 && a.meta.LocalUSN > top {
				top = a.meta.LocalUSN
			}
		}
		if top > 0 {
			d.changeLog = append(d.changeLog, changeRec{usn: top, e: e})
		}
	}
	sort.SliceStable(d.changeLog, func(i, j int) bool { return d.changeLog[i].usn < d.changeLog[j].usn })
	d.changeLogOK = true
}

func copyValues(vs [][]byte) [][]byte {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		out[i] = append([]byte(nil), v...)
	}
	return out
}

// newer reports whether metadata a wins over b: higher version, then later originating time, then
// higher originating invocationId ([MS-DRSR] 4.1.10.6.16 AttributeMetadataCompare).
func newer(a, b AttrMeta) bool {
	if a.Version != b.Version {
		return a.Version > b.Version
	}
	if !a.OrigTime.Equal(b.OrigTime) {
		return a.OrigTime.After(b.OrigTime)
	}
	return bytes.Compare(a.OrigDSA[:], b.OrigDSA[:]) > 0
}

// ApplyReplicated applies changes received from another DC, attribute by attribute, resolving
// conflicts as AD does (higher version, then later originating time, then higher originating DC
// invocationId). An attribute that wins gets a new local USN (so it propagates onwards); one that
// loses or is already present changes nothing.
//
// Linked attributes (member, managedBy, ...) are applied after every object of the batch, and
// values naming objects this replica does not have (deleted ones) are dropped, as AD drops links
// to deleted objects.
func (d *Directory) ApplyReplicated(now time.Time, changes []ReplChange) error {
	var links []ReplChange
	for _, ch := range changes {
		objs, lks := d.splitLinks(ch)
		if err := d.applyOne(now, objs); err != nil {
			return err
		}
		if len(lks.Attrs) > 0 {
			links = append(links, lks)
		}
	}
	for _, ch := range links {
		if d.byGUID[ch.GUID] == nil {
			continue
		}
		for i, a := range ch.Attrs {
			t := d.schema.Attr(a.Name)
			kept := a.Values[:0:0]
			for _, v := range a.Values {
				if x := d.linkTarget(v); x != nil && !x.deleted && t != nil {
					kept = append(kept, []byte(x.dnString()))
				}
			}
			ch.Attrs[i].Values = kept
		}
		if err := d.applyOne(now, ch); err != nil {
			return err
		}
	}
	return nil
}

// splitLinks separates the forward-link attributes of a change from the rest.
func (d *Directory) splitLinks(ch ReplChange) (objs, links ReplChange) {
	objs, links = ch, ch
	objs.Attrs, links.Attrs = nil, nil
	for _, a := range ch.Attrs {
		if t := d.schema.Attr(a.Name); t != nil && t.IsForwardLink() && t.Syntax == SynDN {
			links.Attrs = append(links.Attrs, a)
		} else {
			objs.Attrs = append(objs.Attrs, a)
		}
	}
	return objs, links
}

// replIn is one incoming attribute, decoded against the schema.
type replIn struct {
	t    *AttrType
	vals []value
	meta AttrMeta
}

func (d *Directory) decodeChange(ch ReplChange) ([]replIn, error) {
	ins := make([]replIn, 0, len(ch.Attrs))
	for _, a := range ch.Attrs {
		t := d.schema.Attr(a.Name)
		if t == nil {
			return nil, &Error{Code: UndefinedAttributeType, Op: "replicate", DN: ch.DN, Err: fmt.Errorf("attribute %q", a.Name)}
		}
		vals := make([]value, 0, len(a.Values))
		for _, v := range a.Values {
			raw, norm, err := canonical(t, v)
			if err != nil {
				raw, norm = append([]byte(nil), v...), string(v)
			}
			if t == d.at.objectClass {
				if cl := d.schema.Class(string(v)); cl != nil {
					norm = cl.lower
				}
			}
			vals = append(vals, value{raw: raw, norm: norm})
		}
		ins = append(ins, replIn{t: t, vals: vals, meta: a.Meta})
	}
	return ins, nil
}

func (d *Directory) applyOne(now time.Time, ch ReplChange) error {
	dn, err := ParseDN(ch.DN)
	if err != nil || dn.IsZero() {
		return &Error{Code: ProtocolError, Op: "replicate", DN: ch.DN, Err: fmt.Errorf("bad DN in change of %s", ch.GUID)}
	}
	ins, err := d.decodeChange(ch)
	if err != nil {
		return err
	}
	e := d.byGUID[ch.GUID]
	if e == nil {
		return d.applyNew(now, ch, dn, ins)
	}
	usn := uint64(0)
	nameWon := false
	wasDeleted := e.deleted
	for _, in := range ins {
		a := e.get(in.t)
		if a != nil && !newer(in.meta, a.meta) {
			continue
		}
		if usn == 0 {
			usn = d.nextUSN()
		}
		m := in.meta
		m.LocalUSN = usn
		d.setValues(e, in.t, in.vals).meta = m
		if in.t == d.at.name {
			nameWon = true
		}
	}
	if usn == 0 {
		return nil
	}
	if e.firstString(d.at.isDeleted) == "TRUE" && !wasDeleted {
		d.dropLinksTo(e)
		e.deleted = true
		d.rescueOrphans(now, e, usn)
	}
	d.relocate(now, e, ch, nameWon, usn)
	d.touch(e, now, usn)
	return nil
}

// applyNew creates an object this replica has not seen.
func (d *Directory) applyNew(now time.Time, ch ReplChange, dn DN, ins []replIn) error {
	e := &entry{guid: ch.GUID}
	for _, in := range ins {
		e.attrs = append(e.attrs, &attr{t: in.t, vals: in.vals, meta: in.meta})
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
		e.class = d.schema.Class("top")
	}
	e.deleted = e.firstString(d.at.isDeleted) == "TRUE"
	e.dn = d.placement(ch, dn, e.deleted)
	if d.lookup(e.dn.Parent()) == nil {
		return &Error{Code: NoSuchObject, Op: "replicate", DN: ch.DN, Err: fmt.Errorf("parent of %s not replicated yet", ch.GUID)}
	}
	usn := d.nextUSN()
	for _, a := range e.attrs {
		a.meta.LocalUSN = usn
	}
	if x := d.lookup(e.dn); x != nil {
		d.resolveNameConflict(now, e, x, usn)
	}
	// objectGUID and distinguishedName are not replicated attributes (the GUID travels in the
	// object's header, the DN is derived): set them locally.
	d.put(e, d.at.objectGUID, now, usn, ch.GUID[:])
	d.putString(e, d.at.dn, now, usn, e.dn.String())
	d.putString(e, d.at.uSNCreated, now, usn, itoa(int64(usn)))
	d.touch(e, now, usn)
	d.insert(e)
	if e.deleted {
		d.dropLinksTo(e)
	}
	return nil
}

// relocate puts e where its replicated state says: the RDN is the "name" value; the parent is the
// one that came with the winning "name" (AD replicates the parent with the RDN); a tombstone lives
// in Deleted Objects under a mangled name. A tombstone whose live name won a concurrent rename is
// mangled again as an originating write, so every replica converges on the deleted form.
func (d *Directory) relocate(now time.Time, e *entry, ch ReplChange, nameWon bool, usn uint64) {
	name := e.firstString(d.at.name)
	if name == "" {
		return
	}
	parent := e.parent
	if nameWon {
		if p := d.byGUID[ch.ParentGUID]; p != nil && !ch.ParentGUID.IsZero() {
			parent = p
			if p.deleted && !e.deleted {
				if lf := d.lookup(d.lostAndFound(p.dn)); lf != nil {
					parent = lf
				}
			}
		}
	}
	if e.deleted {
		if !strings.Contains(name, "\nDEL:") {
			name = strings.SplitN(name, "\n", 2)[0] + "\nDEL:" + e.guid.String()
			d.putString(e, d.at.name, now, usn, name)
			if rt := d.schema.Attr(e.dn.RDN().Attr); rt != nil && rt != d.at.name {
				d.putString(e, rt, now, usn, name)
			}
		}
		if del := d.lookup(d.partitionOf(e.dn).Child("CN", "Deleted Objects")); del != nil {
			parent = del
		}
	}
	if parent == nil {
		return
	}
	target := parent.dn.Child(e.dn.RDN().Attr, name)
	if dnKey(target) == e.key {
		return
	}
	if x := d.lookup(target); x != nil && x != e {
		// Two objects want one DN: the loser of the name metadata comparison is mangled.
		rdnAttr := e.dn.RDN().Attr
		if d.nameLoser(e, x) == e {
			name = fmt.Sprintf("%s\nCNF:%s", name, e.guid)
			target = parent.dn.Child(rdnAttr, name)
			d.putString(e, d.at.name, now, usn, name)
		} else {
			xn := fmt.Sprintf("%s\nCNF:%s", x.dn.RDN().Value, x.guid)
			d.move(x, x.dn.Parent().Child(x.dn.RDN().Attr, xn))
			d.putString(x, d.at.name, now, usn, xn)
			if rt := d.schema.Attr(x.dn.RDN().Attr); rt != nil && rt != d.at.name {
				d.putString(x, rt, now, usn, xn)
			}
			d.touch(x, now, usn)
		}
	}
	d.move(e, target)
	if rt := d.schema.Attr(e.dn.RDN().Attr); rt != nil && rt != d.at.name {
		if a := e.get(rt); a != nil && (len(a.vals) != 1 || string(a.vals[0].raw) != name) {
			meta := a.meta
			d.setValues(e, rt, []value{{raw: []byte(name), norm: foldCase(name)}}).meta = meta
		}
	}
}

func (d *Directory) lostAndFound(dn DN) DN {
	nc := d.partitionOf(dn)
	if nc.Equal(d.dom.configDN) {
		return nc.Child("CN", "LostAndFoundConfig")
	}
	return nc.Child("CN", "LostAndFound")
}

func metaOf(ch ReplChange, name string) AttrMeta {
	for _, a := range ch.Attrs {
		if strings.EqualFold(a.Name, name) {
			return a.Meta
		}
	}
	return AttrMeta{}
}

// placement is where a replicated object goes: under its parent (found by GUID, so a parent
// renamed here is followed) with the RDN of the source.
// An object whose parent was deleted here goes to the naming context's CN=LostAndFound, as AD
// does with orphans.
func (d *Directory) placement(ch ReplChange, dn DN, isDeleted bool) DN {
	for _, a := range ch.Attrs {
		if strings.EqualFold(a.Name, "isDeleted") && len(a.Values) == 1 && string(a.Values[0]) == "TRUE" {
			isDeleted = true
		}
	}
	if p := d.byGUID[ch.ParentGUID]; p != nil && !ch.ParentGUID.IsZero() {
		if p.deleted && !isDeleted {
			lf := d.partitionOf(p.dn).Child("CN", "LostAndFound")
			if d.partitionOf(p.dn).Equal(d.dom.configDN) {
				lf = d.dom.configDN.Child("CN", "LostAndFoundConfig")
			}
			if d.lookup(lf) != nil {
				return lf.Child(dn.RDN().Attr, dn.RDN().Value)
			}
		}
		return p.dn.Child(dn.RDN().Attr, dn.RDN().Value)
	}
	return dn
}

// resolveNameConflict handles two objects with one DN ([MS-ADTS] 3.1.1.1.15 name conflicts): the
// one whose name metadata loses is renamed "<rdn>\0ACNF:<objectGUID>" as an originating write.
// incoming is not inserted yet (its dn is the contested one); existing is.
func (d *Directory) resolveNameConflict(now time.Time, incoming, existing *entry, usn uint64) {
	var im, em AttrMeta
	if a := incoming.get(d.at.name); a != nil {
		im = a.meta
	}
	if a := existing.get(d.at.name); a != nil {
		em = a.meta
	}
	_, _ = im, em
	loser := d.nameLoser(incoming, existing)
	rdn := incoming.dn.RDN()
	mangled := fmt.Sprintf("%s\nCNF:%s", rdn.Value, loser.guid)
	newDN := incoming.dn.Parent().Child(rdn.Attr, mangled)
	if loser == existing {
		d.move(existing, newDN)
	} else {
		incoming.dn = newDN
	}
	d.putString(loser, d.at.name, now, usn, mangled)
	if rt := d.schema.Attr(rdn.Attr); rt != nil {
		d.putString(loser, rt, now, usn, mangled)
	}
	d.putString(loser, d.at.dn, now, usn, newDN.String())
}

// Digest is a hash of everything replication must make equal on every DC: objects by GUID, their
// DNs, and every replicated attribute's values and metadata except the local USN. After
// quiescence all replicas of a domain have the same Digest.
func (d *Directory) Digest() string {
	h := sha256.New()
	for _, line := range d.digestLines() {
		h.Write([]byte(line))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// DigestDiff lists the lines on which two replicas' digests differ (for failure messages).
func DigestDiff(a, b *Directory) []string {
	la, lb := a.digestLines(), b.digestLines()
	ma := map[string]bool{}
	for _, l := range la {
		ma[l] = true
	}
	mb := map[string]bool{}
	for _, l := range lb {
		mb[l] = true
	}
	var out []string
	for _, l := range la {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range lb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	return out
}

func (d *Directory) digestLines() []string {
	es := make([]*entry, 0, len(d.byGUID))
	for _, e := range d.byGUID {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool { return bytes.Compare(es[i].guid[:], es[j].guid[:]) < 0 })
	var out []string
	var b strings.Builder
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s dn=%s deleted=%v", e.guid, e.key, e.deleted))
		for _, a := range e.sortedAttrs() {
			if a.meta.Version == 0 {
				continue
			}
			b.Reset()
			fmt.Fprintf(&b, "%s %s v=%d t=%d dsa=%s ousn=%d", e.guid, a.t.Name, a.meta.Version,
				a.meta.OrigTime.UnixNano(), a.meta.OrigDSA, a.meta.OrigUSN)
			for _, v := range a.vals {
				b.WriteString(" " + hex.EncodeToString(v.raw))
			}
			out = append(out, b.String())
		}
	}
	return out
}

// rescueOrphans moves the live children of an object deleted by replication to LostAndFound, as an
// originating write, so every replica ends up with them there.
func (d *Directory) rescueOrphans(now time.Time, e *entry, usn uint64) {
	nc := d.partitionOf(e.dn)
	lf := nc.Child("CN", "LostAndFound")
	if nc.Equal(d.dom.configDN) {
		lf = nc.Child("CN", "LostAndFoundConfig")
	}
	if d.lookup(lf) == nil {
		return
	}
	var kids []*entry
	for c := range e.children {
		if !c.deleted {
			kids = append(kids, c)
		}
	}
	sort.Slice(kids, func(i, j int) bool { return kids[i].key < kids[j].key })
	for _, c := range kids {
		rdn := c.dn.RDN()
		d.move(c, lf.Child(rdn.Attr, rdn.Value))
		d.putString(c, d.at.name, now, usn, rdn.Value)
		d.touch(c, now, usn)
	}
}

// nameLoser is the object that gives up a contested DN: the one whose "name" metadata is older.
func (d *Directory) nameLoser(a, b *entry) *entry {
	var am, bm AttrMeta
	if x := a.get(d.at.name); x != nil {
		am = x.meta
	}
	if x := b.get(d.at.name); x != nil {
		bm = x.meta
	}
	if newer(am, bm) {
		return b
	}
	return a
}

// linkTarget resolves a replicated link value: "<GUID=...>;DN" by GUID, a plain DN by name.
func (d *Directory) linkTarget(v []byte) *entry {
	s := string(v)
	if strings.HasPrefix(s, "<GUID=") {
		end := strings.Index(s, ">;")
		if end < 0 {
			return nil
		}
		g, err := ad.ParseGUID(s[len("<GUID="):end])
		if err != nil {
			return nil
		}
		if x := d.byGUID[g]; x != nil {
			return x
		}
		s = s[end+2:]
	}
	dn, err := ParseDN(s)
	if err != nil {
		return nil
	}
	return d.byKey[dnKey(dn)]
}

// changedSince reports whether any attribute of e has a local USN above usn.
func (e *entry) changedSince(usn uint64) bool {
	for _, a := range e.attrs {
		if a.meta.Version != 0 && a.meta.LocalUSN > usn {
			return true
		}
	}
	return false
}
