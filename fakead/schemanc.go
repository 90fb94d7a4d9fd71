package fakead

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// The schema partition's attributeSchema and classSchema objects (1,737 of them) are not stored in
// each replica: NewDomain must stay cheap. They live in one read-only directory per domain, shared
// by its replicas (clone passes it on), built on the first search that needs them; searches below
// CN=Schema read from it.
// The schema head (CN=Schema, with objectVersion) is a normal entry of every replica.
// Divergence: the schema objects have no replication metadata and cannot be modified.

type schemaNC struct {
	once sync.Once
	dir  *Directory
}

func (d *Directory) schemaObjects() *Directory {
	nc := d.snc
	nc.once.Do(func() { nc.dir = buildSchemaNC(d.schema, d.dom) })
	return nc.dir
}

func buildSchemaNC(s *Schema, dom domainInfo) *Directory {
	sd := newDirectory(s, dom, 0, nil)
	head := &entry{dn: dom.schemaDN, class: s.Class("dMD")}
	sd.insert(head)
	recs, err := ReadLDIF(bytes.NewReader(schemaLDIF))
	if err != nil {
		return sd
	}
	suffix := "," + refDomainDN
	for _, r := range recs {
		if !strings.HasSuffix(r.DN, suffix) {
			continue
		}
		dn, err := ParseDN(strings.TrimSuffix(r.DN, suffix) + "," + dom.domainDN.String())
		if err != nil || len(dn) != len(dom.schemaDN)+1 {
			continue
		}
		e := &entry{dn: dn}
		for _, a := range r.Attrs {
			t := s.Attr(a.Name)
			if t == nil {
				continue
			}
			at := &attr{t: t}
			for _, v := range a.Values {
				raw, norm, err := canonical(t, v)
				if err != nil {
					raw, norm = v, string(v)
				}
				if t.Syntax == SynDN {
					raw = []byte(replaceFold(string(raw), refDomainDN, dom.domainDN.String()))
					if x, err := ParseDN(string(raw)); err == nil {
						norm = dnKey(x)
					}
				}
				if t.lower == "objectclass" {
					if cl := s.Class(string(v)); cl != nil {
						norm = cl.lower
					}
				}
				at.vals = append(at.vals, value{raw: raw, norm: norm})
			}
			e.attrs = append(e.attrs, at)
		}
		e.attrs = append(e.attrs,
			&attr{t: s.Attr("distinguishedName"), vals: []value{{raw: []byte(dn.String()), norm: dnKey(dn)}}},
			&attr{t: s.Attr("name"), vals: []value{{raw: []byte(dn.RDN().Value), norm: foldCase(dn.RDN().Value)}}},
			&attr{t: s.Attr("objectCategory"), vals: []value{schemaCategory(dom, r)}})
		e.class = s.Class("top")
		for _, v := range e.get(s.Attr("objectClass")).vals {
			if cl := s.Class(v.norm); cl != nil && cl.Category == objectClassStructural {
				e.class = cl
			}
		}
		sd.insert(e)
	}
	// Warm the lazily filled caches: the directory is shared read-only between goroutines.
	for _, e := range sd.all {
		e.dnString()
		for _, a := range e.attrs {
			a.rawValues()
		}
	}
	return sd
}

func schemaCategory(dom domainInfo, r LDIFRecord) value {
	cat := "Attribute-Schema"
	for _, a := range r.Attrs {
		if strings.EqualFold(a.Name, "objectClass") {
			for _, v := range a.Values {
				if strings.EqualFold(string(v), "classSchema") {
					cat = "Class-Schema"
				}
			}
		}
	}
	dn := dom.schemaDN.Child("CN", cat)
	return value{raw: []byte(dn.String()), norm: dnKey(dn)}
}

// searchSchemaNC answers searches based in the schema partition: the head from this replica, the
// schema objects from the shared schema directory.
func (d *Directory) searchSchemaNC(now time.Time, c Caller, req *SearchRequest, base DN) ([]SearchEntry, error) {
	sd := d.schemaObjects()
	if !base.Equal(d.dom.schemaDN) {
		root := sd.lookup(base)
		if root == nil {
			return nil, errNoSuchObject("search", req.BaseDN, d.dom.schemaDN.String())
		}
		return sd.searchFrom(now, c, req, root, false)
	}
	head := d.lookup(d.dom.schemaDN)
	if head == nil {
		return nil, errNoSuchObject("search", req.BaseDN, "")
	}
	var out []SearchEntry
	if req.Scope == ScopeSub {
		r, err := d.searchFrom(now, c, &SearchRequest{BaseDN: req.BaseDN, Scope: ScopeBase, Filter: req.Filter,
			Attributes: req.Attributes, TypesOnly: req.TypesOnly, SDFlags: req.SDFlags}, head, false)
		if err != nil {
			return nil, err
		}
		out = r
	}
	sub := *req
	if req.SizeLimit > 0 {
		sub.SizeLimit = req.SizeLimit - len(out)
		if sub.SizeLimit <= 0 {
			return out, &Error{Code: SizeLimitExceeded, Op: "search", DN: req.BaseDN}
		}
	}
	r, err := sd.searchFrom(now, c, &sub, sd.lookup(d.dom.schemaDN), true)
	return append(out, r...), err
}
