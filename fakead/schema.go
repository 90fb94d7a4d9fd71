package fakead

import (
	"bytes"
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gmsasim/gmsasim/ad"
)

//go:embed reference/schema.ldif
var schemaLDIF []byte

// Syntax is how values of an attribute are compared and written ([MS-ADTS] 3.1.1.2.2.2).
type Syntax int

// The syntaxes the model distinguishes.
const (
	SynCaseIgnore         Syntax = iota // 2.5.5.4, 2.5.5.12, 2.5.5.13 and the fallback
	SynCaseExact                        // 2.5.5.3, 2.5.5.5
	SynNumeric                          // 2.5.5.6: numeric string, spaces ignored
	SynOID                              // 2.5.5.2: an OID or a schema name, case-insensitive
	SynDN                               // 2.5.5.1
	SynDNBinary                         // 2.5.5.7 and 2.5.5.14: B:n:hex:DN / S:n:str:DN, compared case-insensitively
	SynBoolean                          // 2.5.5.8
	SynInteger                          // 2.5.5.9
	SynLargeInteger                     // 2.5.5.16
	SynOctet                            // 2.5.5.10
	SynTime                             // 2.5.5.11: UTC or generalized time
	SynSecurityDescriptor               // 2.5.5.15
	SynSID                              // 2.5.5.17
)

// Schema flag bits ([MS-ADTS] 2.2.9 and 2.2.10).
const (
	searchFlagIndexed     = 0x1
	systemFlagConstructed = 0x4
	objectClassCategory88 = 0
	objectClassStructural = 1
	objectClassAbstract   = 2
	objectClassAuxiliary  = 3
)

// AttrType is one attributeSchema object.
type AttrType struct {
	Name            string // lDAPDisplayName, as the schema spells it
	CN              string
	OID             string
	AttributeSyntax string
	OMSyntax        int
	Syntax          Syntax
	SingleValued    bool
	SystemOnly      bool
	SearchFlags     int
	SystemFlags     int
	LinkID          int
	SchemaIDGUID    ad.GUID
	RangeLower      *int64
	RangeUpper      *int64

	lower string
	link  *AttrType // forward link for a back link and vice versa
}

// Indexed reports whether searchFlags marks the attribute as indexed.
func (a *AttrType) Indexed() bool { return a.SearchFlags&searchFlagIndexed != 0 }

// Constructed reports whether the attribute is computed on read (systemFlags 0x4).
func (a *AttrType) Constructed() bool { return a.SystemFlags&systemFlagConstructed != 0 }

// IsBackLink reports whether the attribute is the back link of a linked pair (odd linkID).
func (a *AttrType) IsBackLink() bool { return a.LinkID != 0 && a.LinkID%2 == 1 }

// IsForwardLink reports whether the attribute is the forward link of a linked pair.
func (a *AttrType) IsForwardLink() bool { return a.LinkID != 0 && a.LinkID%2 == 0 }

// ForwardLink is, for a back link, its forward link (memberOf → member).
func (a *AttrType) ForwardLink() *AttrType { return a.link }

// Class is one classSchema object.
type Class struct {
	Name                  string
	CN                    string
	OID                   string
	SubClassOf            string
	Category              int // objectClassCategory: 0 (88), 1 structural, 2 abstract, 3 auxiliary
	Must, May             []*AttrType
	Aux                   []string
	PossSuperiors         []string
	DefaultObjectCategory string // the leftmost RDN value: "Person" for user
	SchemaIDGUID          ad.GUID
	SystemOnly            bool

	lower   string
	super   *Class
	chain   []*Class // top first, this class last
	allMust map[*AttrType]bool
	allMay  map[*AttrType]bool
}

// Chain is the class and its superclasses, top first ("top, person, organizationalPerson, user").
func (c *Class) Chain() []*Class { return c.chain }

// Schema is the parsed schema partition. It is built once per process and shared, read-only.
type Schema struct {
	attrs     map[string]*AttrType // lower lDAPDisplayName and OID
	classes   map[string]*Class    // lower lDAPDisplayName and OID
	attrList  []*AttrType          // sorted by name
	classList []*Class             // sorted by name
}

// LoadSchema returns the schema parsed from the embedded reference data (once per process: the
// schema is immutable and shared by every directory).
func LoadSchema() (*Schema, error) { return loadSchema() }

var loadSchema = sync.OnceValues(func() (*Schema, error) { return parseSchema(schemaLDIF) })

func mustSchema() *Schema {
	s, err := LoadSchema()
	if err != nil {
		panic("fakead: embedded schema: " + err.Error()) // broken build, not bad input
	}
	return s
}

// Attr looks an attribute up by lDAPDisplayName or OID, case-insensitively.
func (s *Schema) Attr(name string) *AttrType {
	if a, ok := s.attrs[name]; ok {
		return a
	}
	return s.attrs[strings.ToLower(name)]
}

// Class looks a class up by lDAPDisplayName or OID, case-insensitively.
func (s *Schema) Class(name string) *Class {
	if c, ok := s.classes[name]; ok {
		return c
	}
	return s.classes[strings.ToLower(name)]
}

// Attrs lists every attribute, sorted by name.
func (s *Schema) Attrs() []*AttrType { return s.attrList }

// Classes lists every class, sorted by name.
func (s *Schema) Classes() []*Class { return s.classList }

func parseSchema(data []byte) (*Schema, error) {
	recs, err := ReadLDIF(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	s := &Schema{attrs: map[string]*AttrType{}, classes: map[string]*Class{}}
	type rawClass struct {
		c         *Class
		must, may []string
	}
	var raws []rawClass
	for _, r := range recs {
		v := recordValues(r)
		oc := v["objectclass"]
		isAttr, isClass := false, false
		for _, o := range oc {
			switch strings.ToLower(o) {
			case "attributeschema":
				isAttr = true
			case "classschema":
				isClass = true
			}
		}
		switch {
		case isAttr:
			a := &AttrType{
				Name: first(v, "ldapdisplayname"), CN: first(v, "cn"), OID: first(v, "attributeid"),
				AttributeSyntax: first(v, "attributesyntax"),
				SingleValued:    strings.EqualFold(first(v, "issinglevalued"), "TRUE"),
				SystemOnly:      strings.EqualFold(first(v, "systemonly"), "TRUE"),
			}
			a.OMSyntax, _ = strconv.Atoi(first(v, "omsyntax"))
			a.SearchFlags, _ = strconv.Atoi(first(v, "searchflags"))
			a.SystemFlags, _ = strconv.Atoi(first(v, "systemflags"))
			a.LinkID, _ = strconv.Atoi(first(v, "linkid"))
			a.SchemaIDGUID, _ = ad.GUIDFromWire([]byte(first(v, "schemaidguid")))
			if x, err := strconv.ParseInt(first(v, "rangelower"), 10, 64); err == nil {
				a.RangeLower = &x
			}
			if x, err := strconv.ParseInt(first(v, "rangeupper"), 10, 64); err == nil {
				a.RangeUpper = &x
			}
			a.Syntax = syntaxOf(a.AttributeSyntax, a.Name)
			a.lower = strings.ToLower(a.Name)
			s.attrs[a.lower] = a
			if a.OID != "" {
				s.attrs[a.OID] = a
			}
			s.attrList = append(s.attrList, a)
		case isClass:
			c := &Class{
				Name: first(v, "ldapdisplayname"), CN: first(v, "cn"), OID: first(v, "governsid"),
				SubClassOf: first(v, "subclassof"),
				SystemOnly: strings.EqualFold(first(v, "systemonly"), "TRUE"),
			}
			c.Category, _ = strconv.Atoi(first(v, "objectclasscategory"))
			c.SchemaIDGUID, _ = ad.GUIDFromWire([]byte(first(v, "schemaidguid")))
			if doc := first(v, "defaultobjectcategory"); doc != "" {
				if dn, err := ParseDN(doc); err == nil && len(dn) > 0 {
					c.DefaultObjectCategory = dn[0].Value
				}
			}
			c.Aux = append(append(c.Aux, v["auxiliaryclass"]...), v["systemauxiliaryclass"]...)
			c.PossSuperiors = append(append(c.PossSuperiors, v["posssuperiors"]...), v["systemposssuperiors"]...)
			c.lower = strings.ToLower(c.Name)
			s.classes[c.lower] = c
			if c.OID != "" {
				s.classes[c.OID] = c
			}
			s.classList = append(s.classList, c)
			raws = append(raws, rawClass{c: c,
				must: append(append([]string(nil), v["mustcontain"]...), v["systemmustcontain"]...),
				may:  append(append([]string(nil), v["maycontain"]...), v["systemmaycontain"]...)})
		}
	}
	// Link pairs: the back link's linkID is the forward link's plus one.
	byLink := map[int]*AttrType{}
	for _, a := range s.attrList {
		if a.LinkID != 0 {
			byLink[a.LinkID] = a
		}
	}
	for _, a := range s.attrList {
		if a.IsBackLink() {
			if f := byLink[a.LinkID-1]; f != nil {
				a.link, f.link = f, a
			}
		}
	}
	for _, r := range raws {
		for _, n := range r.must {
			if a := s.Attr(n); a != nil {
				r.c.Must = append(r.c.Must, a)
			}
		}
		for _, n := range r.may {
			if a := s.Attr(n); a != nil {
				r.c.May = append(r.c.May, a)
			}
		}
	}
	for _, c := range s.classList {
		if c.SubClassOf != "" && !strings.EqualFold(c.SubClassOf, c.Name) {
			c.super = s.Class(c.SubClassOf)
		}
	}
	for _, c := range s.classList {
		if err := s.finishClass(c); err != nil {
			return nil, err
		}
	}
	sort.Slice(s.attrList, func(i, j int) bool { return s.attrList[i].lower < s.attrList[j].lower })
	sort.Slice(s.classList, func(i, j int) bool { return s.classList[i].lower < s.classList[j].lower })
	if s.Class("top") == nil || s.Attr("objectClass") == nil || s.Attr("member") == nil {
		return nil, fmt.Errorf("schema: top, objectClass or member missing")
	}
	return s, nil
}

// finishClass computes the superclass chain and the full must/may sets (superclasses and their
// auxiliary classes included).
func (s *Schema) finishClass(c *Class) error {
	var chain []*Class
	seen := map[*Class]bool{}
	for x := c; x != nil; x = x.super {
		if seen[x] {
			return fmt.Errorf("schema: class %s: subClassOf loop", c.Name)
		}
		seen[x] = true
		chain = append([]*Class{x}, chain...)
	}
	c.chain = chain
	c.allMust, c.allMay = map[*AttrType]bool{}, map[*AttrType]bool{}
	var add func(x *Class, depth int)
	add = func(x *Class, depth int) {
		if depth > 32 {
			return
		}
		for y := x; y != nil; y = y.super {
			for _, a := range y.Must {
				c.allMust[a] = true
			}
			for _, a := range y.May {
				c.allMay[a] = true
			}
			for _, aux := range y.Aux {
				if ac := s.Class(aux); ac != nil {
					add(ac, depth+1)
				}
			}
		}
	}
	add(c, 0)
	return nil
}

// Allows reports whether an object of the structural class c (with the given auxiliary classes)
// may hold attribute a.
func (c *Class) Allows(a *AttrType) bool { return c.allMust[a] || c.allMay[a] }

// Requires reports whether a is a mandatory attribute of c.
func (c *Class) Requires(a *AttrType) bool { return c.allMust[a] }

// MustAttrs lists the mandatory attributes of c and its superclasses, sorted.
func (c *Class) MustAttrs() []*AttrType { return sortedAttrSet(c.allMust) }

func sortedAttrSet(m map[*AttrType]bool) []*AttrType {
	out := make([]*AttrType, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].lower < out[j].lower })
	return out
}

func syntaxOf(oid, name string) Syntax {
	switch oid {
	case "2.5.5.1":
		return SynDN
	case "2.5.5.2":
		return SynOID
	case "2.5.5.3", "2.5.5.5":
		return SynCaseExact
	case "2.5.5.6":
		return SynNumeric
	case "2.5.5.7", "2.5.5.14":
		return SynDNBinary
	case "2.5.5.8":
		return SynBoolean
	case "2.5.5.9":
		return SynInteger
	case "2.5.5.10":
		return SynOctet
	case "2.5.5.11":
		return SynTime
	case "2.5.5.15":
		return SynSecurityDescriptor
	case "2.5.5.16":
		return SynLargeInteger
	case "2.5.5.17":
		return SynSID
	}
	return SynCaseIgnore
}

// recordValues groups a record's values by lower-case attribute name.
func recordValues(r LDIFRecord) map[string][]string {
	m := make(map[string][]string, len(r.Attrs))
	for _, a := range r.Attrs {
		k := strings.ToLower(a.Name)
		for _, v := range a.Values {
			m[k] = append(m[k], string(v))
		}
	}
	return m
}

func first(m map[string][]string, k string) string {
	if v := m[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Replicated reports whether the attribute replicates between DCs (systemFlags bit 0x1,
// FLAG_ATTR_NOT_REPLICATED, clear). Non-replicated attributes (lastLogon, lastLogoff, badPwdCount,
// uSNChanged, whenChanged, distinguishedName, ...) may differ between converged replicas.
func (a *AttrType) Replicated() bool { return a.SystemFlags&1 == 0 && !a.Constructed() }

// AttrReplicated reports whether the named attribute replicates (unknown names: false).
func AttrReplicated(name string) bool {
	s, err := LoadSchema()
	if err != nil {
		return false
	}
	a := s.Attr(name)
	return a != nil && a.Replicated()
}
