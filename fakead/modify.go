package fakead

import (
	"fmt"
	"strconv"
	"time"
)

// Modify applies modifications atomically ([MS-ADTS] 3.1.1.5.3): all of them or none.
func (d *Directory) Modify(now time.Time, c Caller, dnStr string, mods []Modification) error {
	const op = "modify"
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
	// Work on copies of the touched attributes; commit only when every check passes.
	work := map[*AttrType][]value{}
	var order []*AttrType
	var pw, oldPw *string
	reset := false
	cur := func(t *AttrType) []value {
		if v, ok := work[t]; ok {
			return v
		}
		var v []value
		if a := e.get(t); a != nil {
			v = append(v, a.vals...)
		}
		work[t] = v
		order = append(order, t)
		return v
	}
	for _, m := range mods {
		t := d.schema.Attr(m.Attr.Name)
		if t == nil || !d.attrAvailable(t) {
			return errUndefinedAttr(op, dnStr, m.Attr.Name)
		}
		if t == d.at.unicodePwd {
			p, err := d.decodePassword(op, dnStr, c, m.Attr.Values)
			if err != nil {
				return err
			}
			switch m.Op {
			case ModDelete:
				oldPw = &p
			case ModAdd:
				pw = &p
			default:
				pw, reset = &p, true
			}
			continue
		}
		if !c.System && (generatedAttrs[t.lower] || t.IsBackLink() || t.Constructed() || t == d.at.dn || t == d.at.objectGUID) {
			return errConstraint(op, dnStr, t)
		}
		if t == d.at.objectClass && !c.System {
			// Divergence: AD (2003+) lets a client add or remove auxiliary classes dynamically;
			// the model refuses every objectClass change as it does structural ones.
			return opErr(ObjectClassModsProhibited, op, dnStr, diagObjClassMods)
		}
		if rdn := e.dn.RDN(); !c.System && d.schema.Attr(rdn.Attr) == t {
			return opErr(NotAllowedOnRDN, op, dnStr, diagNotOnRDN)
		}
		in := make([]value, 0, len(m.Attr.Values))
		for _, v := range m.Attr.Values {
			raw, norm, err := canonical(t, v)
			if err != nil {
				return errSyntaxValue(op, dnStr, t)
			}
			in = append(in, value{raw: raw, norm: norm})
		}
		if !c.System && m.Op != ModDelete {
			if err := d.checkLinkTargets(op, dnStr, t, in); err != nil {
				return err
			}
		}
		vals := cur(t)
		switch m.Op {
		case ModAdd:
			if len(in) == 0 {
				return errConstraint(op, dnStr, t)
			}
			for _, v := range in {
				if containsNorm(vals, v.norm) {
					return errValueExists(op, dnStr, t)
				}
				vals = append(vals, v)
			}
		case ModDelete:
			if len(in) == 0 {
				if len(vals) == 0 {
					return errNoValue(op, dnStr, t)
				}
				vals = nil
				break
			}
			for _, v := range in {
				i := indexNorm(vals, v.norm)
				if i < 0 {
					return errNoValue(op, dnStr, t)
				}
				vals = append(vals[:i:i], vals[i+1:]...)
			}
		case ModReplace:
			vals = nil
			for _, v := range in {
				if !containsNorm(vals, v.norm) {
					vals = append(vals, v)
				}
			}
		default:
			return &Error{Code: ProtocolError, Op: op, DN: dnStr, Err: fmt.Errorf("unknown modify operation %d", m.Op)}
		}
		if t.SingleValued && len(vals) > 1 {
			return errSingleValue(op, dnStr, t)
		}
		work[t] = vals
	}
	changed := map[*AttrType]bool{}
	for _, t := range order {
		old := e.get(t)
		if old == nil && len(work[t]) == 0 {
			continue
		}
		if old != nil && sameValues(old.vals, work[t]) {
			continue
		}
		changed[t] = true
	}
	if pw != nil && !reset {
		// A password change (delete the old value, add the new one) needs the old password,
		// not a write right: every user has User-Change-Password on its own object.
		if oldPw == nil || !d.passwordMatches(e, *oldPw) {
			return attErr(ConstraintViolation, op, dnStr, 0x56, 1005, "CONSTRAINT_ATT_TYPE", d.at.unicodePwd)
		}
	}
	if err := d.checkModify(c, e, changed, reset); err != nil {
		return err
	}
	if err := d.checkModifiedContent(op, dnStr, e, work, changed); err != nil {
		return err
	}
	if len(changed) == 0 && pw == nil {
		return nil
	}
	usn := d.nextUSN()
	var undo []func()
	for _, t := range order {
		if !changed[t] {
			continue
		}
		a := e.get(t)
		if a == nil {
			a = &attr{t: t}
			e.attrs = append(e.attrs, a)
			d.indexAttr(e, a)
		}
		oldVals, oldMeta := a.vals, a.meta
		undo = append(undo, func() { d.setValues(e, t, oldVals).meta = oldMeta })
		d.stamp(d.setValues(e, t, work[t]), now, usn)
	}
	if err := d.checkUnique(op, dnStr, e, changed); err != nil {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		d.usn--
		return err
	}
	if changed[d.at.userAccountControl] {
		d.syncSAMType(e, now, usn)
	}
	if pw != nil {
		d.storePassword(e, *pw, now, usn)
	}
	d.touch(e, now, usn)
	return nil
}

func indexNorm(vs []value, n string) int {
	for i, v := range vs {
		if v.norm == n {
			return i
		}
	}
	return -1
}

func sameValues(a, b []value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].norm != b[i].norm || string(a[i].raw) != string(b[i].raw) {
			return false
		}
	}
	return true
}

// checkModifiedContent runs the must/may checks on the entry as it would be after the change.
func (d *Directory) checkModifiedContent(op, dnStr string, e *entry, work map[*AttrType][]value, changed map[*AttrType]bool) error {
	aux := d.auxClasses(e)
	for t := range changed {
		vals := work[t]
		if len(vals) == 0 {
			if e.class.Requires(t) {
				return errObjClass(op, dnStr, fmt.Sprintf("%s must contain %s", e.class.Name, t.Name))
			}
			continue
		}
		ok := e.class.Allows(t)
		for _, x := range aux {
			ok = ok || x.Allows(t)
		}
		if !ok {
			return errNotInClass(op, dnStr, e.class, t)
		}
	}
	return nil
}

// syncSAMType keeps sAMAccountType in step with userAccountControl for accounts.
func (d *Directory) syncSAMType(e *entry, now time.Time, usn uint64) {
	if !d.isClass(e, "user") {
		return
	}
	uac, _ := strconv.ParseInt(e.firstString(d.at.userAccountControl), 10, 64)
	st := int64(samNormalUserAccount)
	if uac&(UACWorkstationTrust|UACServerTrust) != 0 {
		st = samMachineAccount
	}
	if e.firstString(d.at.sAMAccountType) != itoa(st) {
		d.putString(e, d.at.sAMAccountType, now, usn, itoa(st))
	}
}

// Compare answers whether attr of dn holds value ([MS-ADTS] 3.1.1.3.4.1.2 for the rules).
func (d *Directory) Compare(now time.Time, c Caller, dnStr, attrName string, val []byte) (bool, error) {
	const op = "compare"
	dn, err := ParseDN(dnStr)
	if err != nil {
		return false, errInvalidDN(op, dnStr)
	}
	if c.Anonymous() {
		return false, opErr(OperationsError, op, dnStr, diagMustBind)
	}
	e := d.lookup(dn)
	if e == nil || e.deleted {
		return false, errNoSuchObject(op, dnStr, d.bestMatch(dn))
	}
	t := d.schema.Attr(attrName)
	if t == nil {
		return false, errUndefinedAttr(op, dnStr, attrName)
	}
	if hiddenAttr(t) {
		return false, errAccess(op, dnStr, "secret attributes cannot be compared")
	}
	norm, ok := normAssertion(t, val)
	if !ok {
		return false, nil
	}
	if t == d.at.memberOf {
		for _, g := range d.memberOfEntries(e) {
			if g.key == norm {
				return true, nil
			}
		}
		return false, nil
	}
	a := e.get(t)
	if a == nil || len(a.vals) == 0 {
		return false, errNoValue(op, dnStr, t)
	}
	return a.has(norm) >= 0, nil
}
