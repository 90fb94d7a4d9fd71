package fakead

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Delete turns a leaf object into a tombstone ([MS-ADTS] 3.1.1.5.5): isDeleted=TRUE, renamed to
// "<name>\0ADEL:<guid>" under the naming context's CN=Deleted Objects, every attribute stripped
// except those the schema marks preserve-on-delete (searchFlags 0x8) and the few AD always keeps.
// The tombstone replicates like any other change.
// Divergence: no recycle bin and no garbage collection of tombstones.
func (d *Directory) Delete(now time.Time, c Caller, dnStr string) error {
	const op = "delete"
	dn, err := ParseDN(dnStr)
	if err != nil {
		return errInvalidDN(op, dnStr)
	}
	if c.Anonymous() {
		return opErr(OperationsError, op, dnStr, diagMustBind)
	}
	e := d.lookup(dn)
	if e == nil || e.deleted {
		return errNoSuchObject(op, dnStr, d.bestMatch(dn))
	}
	for ch := range e.children {
		if !ch.deleted {
			return opErr(NotAllowedOnNonLeaf, op, dnStr, diagNonLeaf)
		}
	}
	if err := d.checkDelete(c, e); err != nil {
		return err
	}
	if e.firstString(d.at.isCritical) == "TRUE" && !c.System {
		return errUnwilling(op, dnStr, "critical system object")
	}
	usn := d.nextUSN()
	d.tombstone(e, now, usn)
	return nil
}

// keptOnDelete lists attributes a tombstone keeps besides the preserve-on-delete ones.
var keptOnDelete = map[string]bool{
	"objectguid": true, "objectsid": true, "objectclass": true, "name": true, "isdeleted": true,
	"lastknownparent": true, "instancetype": true, "distinguishedname": true, "usncreated": true,
	"usnchanged": true, "whencreated": true, "whenchanged": true, "samaccountname": true,
	"samaccounttype": true, "usercontrol": true,
}

// tombstone strips and moves e as an originating write at usn.
func (d *Directory) tombstone(e *entry, now time.Time, usn uint64) {
	parentDN := e.dn.Parent()
	for _, a := range append([]*attr(nil), e.attrs...) {
		if keptOnDelete[a.t.lower] || a.t.SearchFlags&0x8 != 0 || len(a.vals) == 0 {
			continue
		}
		d.stamp(d.setValues(e, a.t, nil), now, usn)
	}
	d.putString(e, d.at.isDeleted, now, usn, "TRUE")
	d.putString(e, d.at.lastKnownParent, now, usn, parentDN.String())
	newName := fmt.Sprintf("%s\nDEL:%s", e.dn.RDN().Value, e.guid)
	d.putString(e, d.at.name, now, usn, newName)
	d.markDeleted(e, now, usn, newName)
}

// markDeleted moves e under Deleted Objects with its mangled RDN, drops the links that pointed at
// it, and hides it from searches. It does not originate metadata (used by replication too).
func (d *Directory) markDeleted(e *entry, now time.Time, usn uint64, newName string) {
	nc := d.partitionOf(e.dn)
	delDN := nc.Child("CN", "Deleted Objects")
	newDN := delDN.Child(e.dn.RDN().Attr, newName)
	d.dropLinksTo(e)
	e.deleted = true
	d.move(e, newDN)
	if rt := d.schema.Attr(e.dn.RDN().Attr); rt != nil {
		if a := e.get(rt); a != nil {
			d.setValues(e, rt, []value{{raw: []byte(newName), norm: foldCase(newName)}}).meta = e.get(d.at.name).meta
		}
	}
	d.touch(e, now, usn)
}

// dropLinksTo removes forward-link values that name e (member of groups and the like).
// Divergence: AD removes them as part of the deletion on every DC without new metadata (link value
// replication); we do the same locally, so the referring attribute's metadata is left as it was.
func (d *Directory) dropLinksTo(e *entry) {
	for t, m := range d.idx {
		if !t.IsForwardLink() {
			continue
		}
		set := m[e.key]
		if set == nil {
			continue
		}
		for _, src := range append(entrySet(nil), *set...) {
			a := src.get(t)
			if a == nil {
				continue
			}
			if i := a.has(e.key); i >= 0 {
				vals := append(append([]value(nil), a.vals[:i]...), a.vals[i+1:]...)
				meta := a.meta
				d.setValues(src, t, vals).meta = meta
			}
		}
	}
}

// move re-keys e and its whole subtree to newDN, and rewrites forward links that name them.
func (d *Directory) move(e *entry, newDN DN) {
	oldLen := len(e.dn)
	var walk func(x *entry)
	var moved []*entry
	walk = func(x *entry) {
		moved = append(moved, x)
		for ch := range x.children {
			walk(ch)
		}
	}
	walk(e)
	if e.parent != nil {
		delete(e.parent.children, e)
	}
	for _, x := range moved {
		oldKey := x.key
		nd := append(append(DN{}, x.dn[:len(x.dn)-oldLen]...), newDN...)
		delete(d.byKey, oldKey)
		x.dn = nd
		x.str = ""
		x.key = dnKey(nd)
		x.depth = len(nd)
		d.maxDepth = max(d.maxDepth, x.depth)
		d.byKey[x.key] = x
		if a := x.get(d.at.dn); a != nil {
			meta := a.meta
			s := nd.String()
			d.setValues(x, d.at.dn, []value{{raw: []byte(s), norm: x.key}}).meta = meta
		}
		d.rewriteLinks(oldKey, x)
	}
	if p := d.byKey[dnKey(newDN.Parent())]; p != nil {
		e.parent = p
		if p.children == nil {
			p.children = map[*entry]struct{}{}
		}
		p.children[e] = struct{}{}
	} else {
		e.parent = nil
	}
}

// rewriteLinks points forward-link values naming oldKey at x's new DN (AD stores links by GUID,
// so a rename never breaks them). Metadata is left alone, as in AD.
func (d *Directory) rewriteLinks(oldKey string, x *entry) {
	for t, m := range d.idx {
		if t.Syntax != SynDN {
			continue
		}
		set := m[oldKey]
		if set == nil {
			continue
		}
		for _, src := range append(entrySet(nil), *set...) {
			a := src.get(t)
			if a == nil {
				continue
			}
			vals := append([]value(nil), a.vals...)
			for i := range vals {
				if vals[i].norm == oldKey {
					vals[i] = value{raw: []byte(x.dn.String()), norm: x.key}
				}
			}
			meta := a.meta
			d.setValues(src, t, vals).meta = meta
		}
	}
}

// ModifyDN renames and/or moves an entry ([MS-ADTS] 3.1.1.5.4).
func (d *Directory) ModifyDN(now time.Time, c Caller, dnStr, newRDN string, deleteOldRDN bool, newSuperior string) error {
	const op = "modifyDN"
	dn, err := ParseDN(dnStr)
	if err != nil || dn.IsZero() {
		return errInvalidDN(op, dnStr)
	}
	if c.Anonymous() {
		return opErr(OperationsError, op, dnStr, diagMustBind)
	}
	e := d.lookup(dn)
	if e == nil || e.deleted {
		return errNoSuchObject(op, dnStr, d.bestMatch(dn))
	}
	rdnDN, err := ParseDN(newRDN)
	if err != nil || len(rdnDN) != 1 {
		return errInvalidDN(op, newRDN)
	}
	rdn := rdnDN[0]
	parentDN := dn.Parent()
	if newSuperior != "" {
		if parentDN, err = ParseDN(newSuperior); err != nil {
			return errInvalidDN(op, newSuperior)
		}
	}
	np := d.lookup(parentDN)
	if np == nil || np.deleted {
		return errNoSuchObject(op, newSuperior, d.bestMatch(parentDN))
	}
	if np.isUnder(e) {
		return errUnwilling(op, dnStr, "cannot move an object below itself")
	}
	if !d.partitionOf(parentDN).Equal(d.partitionOf(dn)) {
		return &Error{Code: AffectsMultipleDSAs, Op: op, DN: dnStr,
			Diag: "00002089: UpdErr: DSID-03100C8C, problem 5012 (DIR_ERROR), data 8300"}
	}
	rt := d.schema.Attr(rdn.Attr)
	if rt == nil || !strings.EqualFold(rdn.Attr, e.dn.RDN().Attr) || utf8.RuneCountInString(rdn.Value) >= MaxRDNLength {
		return &Error{Code: NamingViolation, Op: op, DN: dnStr, Diag: fmt.Sprintf(diagNamingViol, parentDN.String())}
	}
	newDN := parentDN.Child(rdn.Attr, rdn.Value)
	if x := d.lookup(newDN); x != nil && x != e {
		return opErr(EntryAlreadyExists, op, newDN.String(), diagEntryExists)
	}
	if err := d.checkMove(c, e, np); err != nil {
		return err
	}
	usn := d.nextUSN()
	d.move(e, newDN)
	d.putString(e, d.at.name, now, usn, rdn.Value)
	d.putString(e, rt, now, usn, rdn.Value)
	d.touch(e, now, usn)
	return nil
}
