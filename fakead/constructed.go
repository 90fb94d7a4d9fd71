package fakead

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
)

// constructedValues computes a constructed or operational attribute of e. It is called only for
// the attributes a search names.
func (d *Directory) constructedValues(now time.Time, c Caller, e *entry, name string, req *SearchRequest) ([][]byte, error) {
	switch lower := strings.ToLower(name); lower {
	case "msds-managedpassword":
		// [MS-ADTS] 3.1.1.4.5.39 (managedpw.go): absent on a class that cannot hold it, encrypted
		// connection or not; 0000202D on an unencrypted connection, whoever asks; the blob only
		// for a live gMSA whose msDS-GroupMSAMembership grants the caller read-property.
		if !d.classHolds(e, ad.AttrManagedPassword) {
			return nil, nil
		}
		if !c.Encrypted && !c.System {
			return nil, &Error{Code: OperationsError, Op: "search", DN: e.dnString(), Diag: diagConfidential}
		}
		if e.deleted || !d.isClass(e, ad.ClassGroupManagedServiceAccount) || !d.mayReadManagedPassword(c, e) {
			return nil, nil
		}
		return d.managedPasswordValue(now, e)
	case "tokengroups":
		// AD computes tokenGroups only on a base-scope search ([MS-ADTS] 3.1.1.4.5.19) and refuses
		// it on any other: operationsError for the first entry the search finds, so none is sent.
		// Source: Samba's operational module (construct_generic_token_groups: "Cannot provide
		// tokenGroups attribute, this is not a BASE search", LDB_ERR_OPERATIONS_ERROR), which
		// copies Windows. A search that finds no entry succeeds.
		if req.Scope != ScopeBase {
			return nil, errNonBaseSearch(e.dnString(), name)
		}
		if !d.isSecurityPrincipal(e) {
			return nil, nil
		}
		var out [][]byte
		for _, s := range d.tokenGroupSIDs(e) {
			out = append(out, s.Bytes())
		}
		return out, nil
	case "createtimestamp":
		return one(e.first(d.at.whenCreated)), nil
	case "modifytimestamp":
		return one(e.first(d.at.whenChanged)), nil
	case "subschemasubentry":
		return [][]byte{[]byte(d.subschemaDN().String())}, nil
	case "structuralobjectclass":
		if e.class == nil {
			return nil, nil
		}
		var out [][]byte
		for _, x := range e.class.chain {
			out = append(out, []byte(x.Name))
		}
		return out, nil
	case "canonicalname":
		return [][]byte{[]byte(d.canonicalName(e.dn))}, nil
	case "msds-keyversionnumber":
		if a := e.get(d.at.unicodePwd); a != nil {
			return [][]byte{[]byte(strconv.FormatUint(uint64(a.meta.Version), 10))}, nil
		}
		if d.isClass(e, "user") {
			return [][]byte{[]byte("1")}, nil
		}
		return nil, nil
	case "primarygrouptoken":
		if d.isClass(e, "group") {
			if sid, err := ad.SIDFromBytes(e.first(d.at.objectSid)); err == nil {
				return [][]byte{[]byte(strconv.FormatUint(uint64(sid.RID()), 10))}, nil
			}
		}
		return nil, nil
	case "msds-replattributemetadata":
		return d.replMetaXML(e), nil
	}
	return nil, nil
}

func one(v []byte) [][]byte {
	if v == nil {
		return nil
	}
	return [][]byte{v}
}

// canonicalName is "contoso.com/Users/Administrator".
func (d *Directory) canonicalName(dn DN) string {
	var dcs, rest []string
	for i := len(dn) - 1; i >= 0; i-- {
		if strings.EqualFold(dn[i].Attr, "DC") && len(rest) == 0 {
			dcs = append([]string{dn[i].Value}, dcs...)
			continue
		}
		rest = append(rest, dn[i].Value)
	}
	return strings.Join(dcs, ".") + "/" + strings.Join(rest, "/")
}

// replMetaXML renders msDS-ReplAttributeMetaData as AD does (one DS_REPL_ATTR_META_DATA XML
// fragment per replicated attribute).
func (d *Directory) replMetaXML(e *entry) [][]byte {
	attrs := e.sortedAttrs()
	sort.SliceStable(attrs, func(i, j int) bool { return attrs[i].t.lower < attrs[j].t.lower })
	var out [][]byte
	for _, a := range attrs {
		if a.meta.Version == 0 {
			continue
		}
		out = append(out, []byte(fmt.Sprintf("<DS_REPL_ATTR_META_DATA>\n\t<pszAttributeName>%s</pszAttributeName>\n"+
			"\t<dwVersion>%d</dwVersion>\n\t<ftimeLastOriginatingChange>%s</ftimeLastOriginatingChange>\n"+
			"\t<uuidLastOriginatingDsaInvocationID>%s</uuidLastOriginatingDsaInvocationID>\n"+
			"\t<usnOriginatingChange>%d</usnOriginatingChange>\n\t<usnLocalChange>%d</usnLocalChange>\n"+
			"\t<pszLastOriginatingDsaDN></pszLastOriginatingDsaDN>\n</DS_REPL_ATTR_META_DATA>\n",
			a.t.Name, a.meta.Version, a.meta.OrigTime.UTC().Format("2006-01-02T15:04:05Z"),
			a.meta.OrigDSA, a.meta.OrigUSN, a.meta.LocalUSN)))
	}
	return out
}

// classHolds reports whether e's structural or auxiliary classes allow the attribute name (true
// for a name the schema does not know).
func (d *Directory) classHolds(e *entry, name string) bool {
	t := d.schema.Attr(name)
	return t == nil || e.class == nil || e.class.Allows(t) || d.auxAllows(e, t)
}

func (d *Directory) auxAllows(e *entry, t *AttrType) bool {
	for _, x := range d.auxClasses(e) {
		if x.Allows(t) {
			return true
		}
	}
	return false
}
