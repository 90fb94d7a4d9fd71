package fakead

import (
	"errors"
	"strings"
	"time"
)

// Search runs a search.
// Divergence: nTSecurityDescriptor is not stored, so SDFlags is accepted and ignored and the
// attribute is never returned. The rootDSE (base "", scope base) and the subschema entry are answered
// here too. On SizeLimitExceeded the entries up to the limit are returned with the error.
func (d *Directory) Search(now time.Time, c Caller, req *SearchRequest) ([]SearchEntry, error) {
	const op = "search"
	if req == nil {
		return nil, &Error{Code: ProtocolError, Op: op, Err: errors.New("no search request")}
	}
	base, err := ParseDN(req.BaseDN)
	if err != nil {
		return nil, errInvalidDN(op, req.BaseDN)
	}
	if base.IsZero() && req.Scope == ScopeBase {
		return d.searchVirtual(req, "", d.rootDSE(now))
	}
	if req.Scope == ScopeBase && len(base) == len(d.dom.schemaDN)+1 && base.Equal(d.subschemaDN()) {
		if c.Anonymous() {
			return nil, opErr(OperationsError, op, req.BaseDN, diagMustBind)
		}
		return d.searchVirtual(req, d.subschemaDN().String(), d.subschemaAttrs())
	}
	if c.Anonymous() {
		// AD refuses anonymous operations other than reading the rootDSE (dSHeuristics default).
		return nil, opErr(OperationsError, op, req.BaseDN, diagMustBind)
	}
	if base.IsZero() {
		// Only a base-scope search of "" (the rootDSE) is answered; AD needs the phantom-root
		// control for anything else.
		return nil, errNoSuchObject(op, req.BaseDN, "")
	}
	if !d.holdsNC(base) {
		// A base outside every naming context the DC holds gets a referral to the domain its DC
		// components name (aderr.go, errReferral); one under a held NC that does not exist stays
		// noSuchObject below.
		if e, ok := errReferral(op, req.BaseDN, base); ok {
			return nil, e
		}
	}
	if base.IsUnder(d.dom.schemaDN) && !base.Equal(d.dom.schemaDN) || base.Equal(d.dom.schemaDN) && req.Scope != ScopeBase {
		return d.searchSchemaNC(now, c, req, base)
	}
	root := d.lookup(base)
	if root == nil || root.deleted {
		return nil, errNoSuchObject(op, req.BaseDN, d.bestMatch(base))
	}
	return d.searchFrom(now, c, req, root, false)
}

// holdsNC reports whether dn is one of the naming contexts the DC holds (those its rootDSE lists
// in namingContexts) or lies below one.
func (d *Directory) holdsNC(dn DN) bool {
	return dn.IsUnder(d.dom.domainDN) || dn.IsUnder(d.dom.configDN) || dn.IsUnder(d.dom.schemaDN)
}

// searchFrom runs req below root (root included unless skipRoot).
func (d *Directory) searchFrom(now time.Time, c Caller, req *SearchRequest, root *entry, skipRoot bool) ([]SearchEntry, error) {
	const op = "search"
	var err error
	f := d.compileFilter(c, req.Filter)
	sel := d.selection(req.Attributes)
	var out []SearchEntry
	emit := func(e *entry) (bool, error) {
		if e.deleted || (skipRoot && e == root) || d.match(f, e) != tTrue {
			return true, nil
		}
		if req.SizeLimit > 0 && len(out) >= req.SizeLimit {
			return false, &Error{Code: SizeLimitExceeded, Op: op, DN: req.BaseDN}
		}
		se, err := d.project(now, c, e, sel, req)
		if err != nil {
			return false, err
		}
		out = append(out, se)
		return true, nil
	}
	inScope := func(e *entry) bool {
		switch req.Scope {
		case ScopeBase:
			return e == root
		case ScopeOne:
			return e.parent == root && e.nc == root.nc
		}
		// A subtree search stays in the base's naming context.
		// Divergence: AD also returns continuation references (searchResultReference) for the
		// subordinate naming contexts; the model leaves them out.
		return e.nc == root.nc && e.isUnder(root)
	}
	run := func(es []*entry) error {
		for _, e := range es {
			if e == nil || !inScope(e) {
				continue
			}
			if cont, err := emit(e); err != nil {
				return err
			} else if !cont {
				break
			}
		}
		return nil
	}
	switch {
	case req.Scope == ScopeBase:
		err = run([]*entry{root})
	case req.Scope == ScopeOne && len(root.children) < 64:
		err = run(d.childrenInOrder(root))
	default:
		if cand, ok := d.candidates(f); ok {
			err = run(cand)
		} else {
			err = run(d.all)
		}
	}
	return out, err
}

func (d *Directory) childrenInOrder(e *entry) []*entry {
	var s entrySet
	for c := range e.children {
		s.add(c)
	}
	return s
}

// searchVirtual answers a base search of an entry built on the fly (rootDSE, subschema). Any
// filter matches: clients ask with (objectClass=*) and AD's rootDSE has no objectClass.
func (d *Directory) searchVirtual(req *SearchRequest, dn string, attrs []Attribute) ([]SearchEntry, error) {
	se := SearchEntry{DN: dn}
	sel := req.Attributes
	want := func(name string) bool {
		if len(sel) == 0 {
			return true
		}
		for _, n := range sel {
			if n == "*" || strings.EqualFold(n, name) {
				return true
			}
		}
		return false
	}
	for _, a := range attrs {
		if !want(a.Name) {
			continue
		}
		if req.TypesOnly {
			a = Attribute{Name: a.Name}
		}
		se.Attributes = append(se.Attributes, a)
	}
	return []SearchEntry{se}, nil
}

// selection is a parsed attribute list. "+" is not special: AD does not implement RFC 3673 (all
// operational attributes), so "+" is just a name the schema does not know, and like any unknown
// name in the list it selects nothing; operational and constructed attributes come only when
// named. Source: the outside check of issue 13 against Samba AD (which copies Windows here) and
// AD's rootDSE, whose supportedCapabilities and supportedExtension list no RFC 3673 feature
// (1.3.6.1.4.1.4203.1.5.1) and which has no supportedFeatures attribute; this rootDSE does not
// claim it either.
type selection struct {
	all, none bool
	named     []*AttrType
	names     []string // the client's spelling, for constructed attributes not in the schema
}

func (d *Directory) selection(list []string) selection {
	var s selection
	if len(list) == 0 {
		s.all = true
		return s
	}
	for _, n := range list {
		switch n {
		case "*":
			s.all = true
		case "1.1":
			s.none = true
		default:
			if t := d.schema.Attr(n); t != nil {
				s.named = append(s.named, t)
			} else {
				s.names = append(s.names, n)
			}
		}
	}
	if s.none && (s.all || len(s.named) > 0 || len(s.names) > 0) {
		s.none = false
	}
	return s
}

// project builds the search entry of e with the selected attributes.
func (d *Directory) project(now time.Time, c Caller, e *entry, sel selection, req *SearchRequest) (SearchEntry, error) {
	se := SearchEntry{DN: e.dnString()}
	if sel.none {
		return se, nil
	}
	n := len(sel.named) + len(sel.names) // room for what is asked, not for the whole entry
	if sel.all {
		n += len(e.attrs) + 1
	}
	se.Attributes = make([]Attribute, 0, n)
	var added [48]*AttrType // the types already in se.Attributes (a stack array: no allocation)
	types := added[:0]
	seen := func(t *AttrType) bool {
		for _, x := range types {
			if x == t {
				return true
			}
		}
		return false
	}
	add := func(t *AttrType, vals [][]byte) {
		if len(vals) == 0 || seen(t) {
			return
		}
		types = append(types, t)
		if req.TypesOnly {
			vals = nil
		}
		se.Attributes = append(se.Attributes, Attribute{Name: t.Name, Values: vals})
	}
	stored := func(t *AttrType) {
		if !d.mayRead(c, t) {
			return
		}
		if t == d.at.memberOf {
			add(t, d.memberOfValues(e))
			return
		}
		if a := e.get(t); a != nil && len(a.vals) > 0 {
			add(t, a.rawValues())
		}
	}
	// msDS-ManagedPassword first, whatever the order asked: reading it may make the DC rotate the
	// password (the lazy write of managedpw.go), and every other attribute of the entry —
	// msDS-KeyVersionNumber, pwdLastSet, the ids — must then show the rotated state, as one read on
	// a DC does.
	var managed [][]byte
	managedDone := false
	for _, t := range sel.named {
		if t.lower == "msds-managedpassword" {
			vals, err := d.constructedValues(now, c, e, t.Name, req)
			if err != nil {
				return se, err
			}
			managed, managedDone = vals, true
			break
		}
	}
	if sel.all {
		for _, a := range e.attrs {
			stored(a.t)
		}
		stored(d.at.memberOf)
	}
	for _, t := range sel.named {
		if managedDone && t.lower == "msds-managedpassword" {
			add(t, managed)
			continue
		}
		if t.Constructed() || virtualAttr(t.lower) {
			vals, err := d.constructedValues(now, c, e, t.Name, req)
			if err != nil {
				return se, err
			}
			add(t, vals)
			continue
		}
		stored(t)
	}
	for _, n := range sel.names {
		vals, err := d.constructedValues(now, c, e, n, req)
		if err != nil {
			return se, err
		}
		if len(vals) > 0 && !req.TypesOnly {
			se.Attributes = append(se.Attributes, Attribute{Name: n, Values: vals})
		} else if len(vals) > 0 {
			se.Attributes = append(se.Attributes, Attribute{Name: n})
		}
	}
	return se, nil
}

func (d *Directory) memberOfValues(e *entry) [][]byte {
	gs := d.memberOfEntries(e)
	out := make([][]byte, len(gs))
	for i, g := range gs {
		out[i] = []byte(g.dnString())
	}
	return out
}

func virtualAttr(lower string) bool {
	switch lower {
	case "createtimestamp", "modifytimestamp", "subschemasubentry", "structuralobjectclass", "canonicalname",
		"msds-keyversionnumber", "msds-replattributemetadata", "primarygrouptoken", "tokengroups":
		return true
	}
	return false
}
