package fakead

import (
	"strconv"
	"strings"
)

// tri is a filter result in RFC 4511 4.5.1.7's three-valued logic.
type tri int8

const (
	tFalse tri = iota
	tTrue
	tUndefined
)

type filterKind int8

const (
	fkAnd filterKind = iota
	fkOr
	fkNot
	fkEq
	fkSub
	fkGE
	fkLE
	fkPresent
	fkBitAnd
	fkBitOr
	fkInChain
	fkConst
)

// cfilter is a filter compiled against the schema once per search: attributes resolved,
// assertion values normalised, in-chain targets expanded, so evaluation per entry allocates nothing.
type cfilter struct {
	kind    filterKind
	kids    []*cfilter
	t       *AttrType // nil: attribute not in the schema → Undefined
	norm    string
	ok      bool // the assertion value is valid for the syntax
	num     int64
	initial string
	anys    []string
	final   string
	chain   map[*entry]bool
	konst   tri
}

// compileFilter resolves f against the schema for caller c. It never fails: unknown attributes
// evaluate to Undefined, as AD does; an attribute c may not read (mayRead) is treated as absent
// from every entry, so its items are FALSE whatever the stored values.
func (d *Directory) compileFilter(c Caller, f Filter) *cfilter {
	switch f := f.(type) {
	case FilterAnd:
		cf := &cfilter{kind: fkAnd}
		for _, k := range f {
			cf.kids = append(cf.kids, d.compileFilter(c, k))
		}
		return cf
	case FilterOr:
		cf := &cfilter{kind: fkOr}
		for _, k := range f {
			cf.kids = append(cf.kids, d.compileFilter(c, k))
		}
		return cf
	case FilterNot:
		return &cfilter{kind: fkNot, kids: []*cfilter{d.compileFilter(c, f.F)}}
	}
	leaf := d.compileLeaf(f)
	if leaf.t != nil && !d.mayRead(c, leaf.t) {
		return &cfilter{kind: fkConst, konst: tFalse}
	}
	return leaf
}

// compileLeaf compiles a filter item (anything but and/or/not).
func (d *Directory) compileLeaf(f Filter) *cfilter {
	switch f := f.(type) {
	case nil:
		return &cfilter{kind: fkConst, konst: tTrue}
	case FilterEquality:
		return d.compileValue(fkEq, f.Attr, f.Value)
	case FilterApprox:
		return d.compileValue(fkEq, f.Attr, f.Value)
	case FilterGreaterOrEqual:
		return d.compileValue(fkGE, f.Attr, f.Value)
	case FilterLessOrEqual:
		return d.compileValue(fkLE, f.Attr, f.Value)
	case FilterPresent:
		return &cfilter{kind: fkPresent, t: d.schema.Attr(f.Attr), ok: true}
	case FilterSubstrings:
		c := &cfilter{kind: fkSub, t: d.schema.Attr(f.Attr), ok: true}
		fold := func(b []byte) string { return string(b) }
		if c.t != nil && c.t.Syntax != SynCaseExact && c.t.Syntax != SynOctet && c.t.Syntax != SynSID {
			fold = func(b []byte) string { return foldCase(string(b)) }
		}
		c.initial, c.final = fold(f.Initial), fold(f.Final)
		for _, a := range f.Any {
			c.anys = append(c.anys, fold(a))
		}
		return c
	case FilterExtensible:
		return d.compileExtensible(f)
	}
	return &cfilter{kind: fkConst, konst: tUndefined}
}

func (d *Directory) compileValue(kind filterKind, name string, v []byte) *cfilter {
	c := &cfilter{kind: kind, t: d.schema.Attr(name)}
	if c.t == nil {
		return c
	}
	if c.t == d.at.objectCategory && !strings.Contains(string(v), "=") {
		// AD expands (objectCategory=person) to the class's defaultObjectCategory.
		if cl := d.schema.Class(string(v)); cl != nil && cl.DefaultObjectCategory != "" {
			v = []byte("CN=" + cl.DefaultObjectCategory + "," + d.dom.schemaDN.String())
		}
	}
	c.norm, c.ok = normAssertion(c.t, v)
	if c.ok && isNumericSyntax(c.t.Syntax) {
		c.num, _ = numeric(c.norm)
	}
	return c
}

func (d *Directory) compileExtensible(f FilterExtensible) *cfilter {
	t := d.schema.Attr(f.Attr)
	switch f.Rule {
	case MatchBitAnd, MatchBitOr:
		c := &cfilter{kind: fkBitAnd, t: t}
		if f.Rule == MatchBitOr {
			c.kind = fkBitOr
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(f.Value)), 10, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(strings.TrimSpace(string(f.Value)), 10, 64)
			if uerr != nil {
				return &cfilter{kind: fkConst, konst: tUndefined}
			}
			n = int64(u)
		}
		c.num, c.ok = n, true
		return c
	case MatchInChain:
		c := &cfilter{kind: fkInChain, t: t}
		if t == nil || t.Syntax != SynDN {
			return &cfilter{kind: fkConst, konst: tUndefined}
		}
		dn, err := ParseDN(string(f.Value))
		if err != nil {
			return &cfilter{kind: fkConst, konst: tFalse}
		}
		c.chain = d.inChainSet(t, d.lookup(dn))
		c.ok = true
		return c
	case "":
		if f.Attr != "" {
			return d.compileValue(fkEq, f.Attr, f.Value)
		}
	}
	return &cfilter{kind: fkConst, konst: tUndefined}
}

// inChainSet computes the entries that reach target through a chain of attribute t
// (LDAP_MATCHING_RULE_IN_CHAIN, [MS-ADTS] 3.1.1.3.4.4.6).
func (d *Directory) inChainSet(t *AttrType, target *entry) map[*entry]bool {
	out := map[*entry]bool{}
	if target == nil {
		return out
	}
	// next(x) lists the entries y with "y has t pointing at x".
	var next func(x *entry) []*entry
	switch {
	case t.IsBackLink() && t.ForwardLink() != nil:
		// y.memberOf ∋ x  ⇔  x.member ∋ y: follow x's forward-link values.
		fwd := t.ForwardLink()
		next = func(x *entry) []*entry {
			a := x.get(fwd)
			if a == nil {
				return nil
			}
			var ys []*entry
			for _, v := range a.vals {
				if y := d.byKey[v.norm]; y != nil {
					ys = append(ys, y)
				}
			}
			return ys
		}
	default:
		if _, indexed := d.idx[t]; !indexed {
			next = func(x *entry) []*entry {
				var ys []*entry
				for _, y := range d.all {
					if y != nil {
						if a := y.get(t); a != nil && a.has(x.key) >= 0 {
							ys = append(ys, y)
						}
					}
				}
				return ys
			}
		} else {
			next = func(x *entry) []*entry { s, _ := d.lookupSet(t, x.key); return s }
		}
	}
	queue := next(target)
	for len(queue) > 0 && len(out) < 1<<20 {
		y := queue[0]
		queue = queue[1:]
		if out[y] {
			continue
		}
		out[y] = true
		queue = append(queue, next(y)...)
	}
	return out
}

// match evaluates the compiled filter on e.
func (d *Directory) match(f *cfilter, e *entry) tri {
	switch f.kind {
	case fkConst:
		return f.konst
	case fkAnd:
		r := tTrue
		for _, k := range f.kids {
			switch d.match(k, e) {
			case tFalse:
				return tFalse
			case tUndefined:
				r = tUndefined
			}
		}
		return r
	case fkOr:
		r := tFalse
		for _, k := range f.kids {
			switch d.match(k, e) {
			case tTrue:
				return tTrue
			case tUndefined:
				r = tUndefined
			}
		}
		return r
	case fkNot:
		switch d.match(f.kids[0], e) {
		case tTrue:
			return tFalse
		case tFalse:
			return tTrue
		}
		return tUndefined
	case fkInChain:
		if f.chain[e] {
			return tTrue
		}
		return tFalse
	}
	if f.t == nil {
		return tUndefined
	}
	if f.t == d.at.memberOf {
		return d.matchMemberOf(f, e)
	}
	a := e.get(f.t)
	if a == nil || len(a.vals) == 0 {
		if f.t == d.at.dn && f.kind == fkPresent {
			return tTrue
		}
		return tFalse
	}
	if f.kind == fkPresent {
		return tTrue
	}
	if !f.ok {
		return tFalse
	}
	for i := range a.vals {
		if matchValue(f, a.vals[i].norm) {
			return tTrue
		}
	}
	return tFalse
}

func matchValue(f *cfilter, v string) bool {
	switch f.kind {
	case fkEq:
		return v == f.norm
	case fkGE, fkLE:
		var cmp int
		if isNumericSyntax(f.t.Syntax) {
			n, ok := numeric(v)
			if !ok {
				return false
			}
			switch {
			case n < f.num:
				cmp = -1
			case n > f.num:
				cmp = 1
			}
		} else {
			cmp = strings.Compare(v, f.norm)
		}
		if f.kind == fkGE {
			return cmp >= 0
		}
		return cmp <= 0
	case fkSub:
		if !strings.HasPrefix(v, f.initial) {
			return false
		}
		v = v[len(f.initial):]
		for _, a := range f.anys {
			i := strings.Index(v, a)
			if i < 0 {
				return false
			}
			v = v[i+len(a):]
		}
		return strings.HasSuffix(v, f.final)
	case fkBitAnd, fkBitOr:
		n, ok := numeric(v)
		if !ok {
			return false
		}
		if f.kind == fkBitAnd {
			return n&f.num == f.num
		}
		return n&f.num != 0
	}
	return false
}

func (d *Directory) matchMemberOf(f *cfilter, e *entry) tri {
	groups := d.memberOfEntries(e)
	if f.kind == fkPresent {
		if len(groups) > 0 {
			return tTrue
		}
		return tFalse
	}
	if !f.ok {
		return tFalse
	}
	for _, g := range groups {
		if matchValue(f, g.key) {
			return tTrue
		}
	}
	return tFalse
}

// candidates returns, when the filter allows it, a superset of the matching entries from an index
// (in creation order) so that the search need not scan.
func (d *Directory) candidates(f *cfilter) (entrySet, bool) {
	switch f.kind {
	case fkEq:
		if f.t == nil || !f.ok {
			return nil, true
		}
		if f.t == d.at.memberOf {
			g := d.byKey[f.norm]
			if g == nil {
				return nil, true
			}
			var out entrySet
			if a := g.get(d.at.member); a != nil {
				for _, v := range a.vals {
					if x := d.byKey[v.norm]; x != nil {
						out.add(x)
					}
				}
			}
			return out, true
		}
		return d.lookupSet(f.t, f.norm)
	case fkConst:
		if f.konst != tTrue {
			return nil, true
		}
	case fkInChain:
		var out entrySet
		for x := range f.chain {
			out.add(x)
		}
		return out, true
	case fkAnd:
		var best entrySet
		found := false
		for _, k := range f.kids {
			if s, ok := d.candidates(k); ok && (!found || len(s) < len(best)) {
				best, found = s, true
			}
		}
		return best, found
	case fkOr:
		var out entrySet
		for _, k := range f.kids {
			s, ok := d.candidates(k)
			if !ok {
				return nil, false
			}
			for _, x := range s {
				out.add(x)
			}
		}
		return out, true
	}
	return nil, false
}
