package fakead

import (
	"sort"
	"strings"

	"github.com/gmsasim/gmsasim/ad"
)

// value is one attribute value: as stored and returned (raw) and as compared (norm).
type value struct {
	raw  []byte
	norm string
}

// attr is one attribute of an entry with its replication metadata. An attribute whose values were
// all removed stays with no values so its metadata keeps replicating the removal.
type attr struct {
	t    *AttrType
	vals []value
	meta AttrMeta
	raws [][]byte // cache of the raw values for search results; reset whenever vals change
}

func (a *attr) has(norm string) int {
	for i := range a.vals {
		if a.vals[i].norm == norm {
			return i
		}
	}
	return -1
}

// rawValues returns the raw values. The slice is shared with the replica (search results hand
// it out without copying): callers must not modify it.
func (a *attr) rawValues() [][]byte {
	if a.raws == nil || len(a.raws) != len(a.vals) {
		out := make([][]byte, len(a.vals))
		for i := range a.vals {
			out[i] = a.vals[i].raw
		}
		a.raws = out
	}
	return a.raws[:len(a.raws):len(a.raws)]
}

// entry is one object of the replica.
type entry struct {
	seq      uint64 // creation order in this replica: the order searches return entries in
	dn       DN
	key      string
	depth    int
	parent   *entry
	children map[*entry]struct{}
	guid     ad.GUID
	attrs    []*attr
	class    *Class // most specific structural class
	deleted  bool
	nc       *entry // head of the naming context holding the entry (itself for a head)
	str      string // cached dn.String(); reset when the entry moves
}

func (e *entry) get(t *AttrType) *attr {
	for _, a := range e.attrs {
		if a.t == t {
			return a
		}
	}
	return nil
}

// first returns the first raw value of t, or nil.
func (e *entry) first(t *AttrType) []byte {
	if a := e.get(t); a != nil && len(a.vals) > 0 {
		return a.vals[0].raw
	}
	return nil
}

func (e *entry) firstString(t *AttrType) string { return string(e.first(t)) }

// stringValues returns every raw value of t as strings (none when t is nil or absent).
func (e *entry) stringValues(t *AttrType) []string {
	a := e.get(t)
	if t == nil || a == nil {
		return nil
	}
	out := make([]string, len(a.vals))
	for i, v := range a.vals {
		out[i] = string(v.raw)
	}
	return out
}

// isUnder reports whether e is base or a descendant of it, by walking parent pointers.
func (e *entry) isUnder(base *entry) bool {
	x := e
	for d := e.depth - base.depth; d > 0 && x != nil; d-- {
		x = x.parent
	}
	return x == base
}

// hasClass reports whether objectClass holds name (lower-case).
func (e *entry) hasClass(s *Schema, lower string) bool {
	a := e.get(s.Attr("objectClass"))
	if a == nil {
		return false
	}
	return a.has(lower) >= 0
}

// sortedChildren returns the children ordered by DN key (deterministic).
func (e *entry) sortedChildren() []*entry {
	out := make([]*entry, 0, len(e.children))
	for c := range e.children {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// sortedAttrs returns the attributes ordered by lower-case name (deterministic).
func (e *entry) sortedAttrs() []*attr {
	out := append([]*attr(nil), e.attrs...)
	sort.Slice(out, func(i, j int) bool { return out[i].t.lower < out[j].t.lower })
	return out
}

// entrySet is a set of entries kept in creation order, so that index look-ups return entries in
// a deterministic order without sorting.
type entrySet []*entry

func (s entrySet) find(e *entry) (int, bool) {
	i := sort.Search(len(s), func(i int) bool { return s[i].seq >= e.seq })
	return i, i < len(s) && s[i] == e
}

func (s *entrySet) add(e *entry) {
	i, ok := s.find(e)
	if ok {
		return
	}
	*s = append(*s, nil)
	copy((*s)[i+1:], (*s)[i:])
	(*s)[i] = e
}

func (s *entrySet) remove(e *entry) {
	i, ok := s.find(e)
	if !ok {
		return
	}
	copy((*s)[i:], (*s)[i+1:])
	(*s)[len(*s)-1] = nil
	*s = (*s)[:len(*s)-1]
}

// dnString is e's DN in string form (cached).
func (e *entry) dnString() string {
	if e.str == "" {
		e.str = e.dn.String()
	}
	return e.str
}

// dnKey is DN.Key with one allocation: the builder is sized up front.
func dnKey(dn DN) string {
	n := 0
	for _, r := range dn {
		n += len(r.Attr) + len(r.Value) + 4
	}
	var b strings.Builder
	b.Grow(n)
	for i, r := range dn {
		if i > 0 {
			b.WriteByte(',')
		}
		writeFolded(&b, r.Attr)
		b.WriteByte('=')
		if isASCII(r.Value) {
			escapeDNValueFolded(&b, r.Value) // no lower-cased copy of the value
		} else {
			escapeDNValue(&b, foldCase(r.Value))
		}
	}
	return b.String()
}

// writeFolded writes foldCase(s) without a lower-cased copy when s is ASCII.
func writeFolded(b *strings.Builder, s string) {
	if !isASCII(s) {
		b.WriteString(foldCase(s))
		return
	}
	for i := 0; i < len(s); i++ {
		b.WriteByte(lowerASCII(s[i]))
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
