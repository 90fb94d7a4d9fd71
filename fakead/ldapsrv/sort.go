package ldapsrv

import (
	"bytes"
	"math/big"
	"slices"
	"strings"

	"github.com/gmsasim/gmsasim/fakead"
)

// Server-side sorting (RFC 2891; [MS-ADTS] 3.1.1.3.4.1.9 LDAP_SERVER_SORT_OID): the Backend's
// entries are sorted here before they are sent or kept for paging, and every SearchResultDone of
// the search carries the sortResult control.
//
// Divergence: AD accepts one sort key and sorts with the attribute's syntax and the ordering rule
// named (or the locale's); this server takes any number of keys, ignores orderingRule, orders
// values that are all integers numerically and the rest by case-folded bytes, and sorts on the
// smallest value of a multi-valued attribute (the largest when reversed). Entries without the
// attribute come last, as RFC 2891 2.2 says.

// Sort control OIDs.
const (
	OIDServerSort = "1.2.840.113556.1.4.473" // request: SortKeyList
	OIDSortResult = "1.2.840.113556.1.4.474" // response: SortResult
)

type sortKey struct {
	attr    string
	reverse bool
}

// sortControl reads the request's sort control (present false when absent).
func (r *request) sortControl() (keys []sortKey, present bool, err error) {
	v, ok := r.control(OIDServerSort)
	if !ok {
		return nil, false, nil
	}
	bad := wireErr(fakead.ProtocolError, "search", "00000057: LdapErr: DSID-0C090A4C, comment: Error processing control, data 0, v4563")
	t, perr := parseTLV(v)
	if perr != nil || t.class != classUniversal || t.tag != tagSequence || len(t.children) == 0 {
		return nil, true, bad
	}
	for _, k := range t.children {
		if k.tag != tagSequence || len(k.children) == 0 || k.children[0].tag != tagOctetString || k.children[0].constructed {
			return nil, true, bad
		}
		sk := sortKey{attr: string(k.children[0].value)}
		for _, o := range k.children[1:] {
			if o.class == classContext && o.tag == 1 && len(o.value) == 1 {
				sk.reverse = o.value[0] != 0
			}
		}
		if sk.attr == "" {
			return nil, true, bad
		}
		keys = append(keys, sk)
	}
	return keys, true, nil
}

// sortResultControl is the response control: sortResult success (0).
func sortResultControl() []byte {
	value := berSeq(classUniversal, tagSequence, berInt(classUniversal, tagEnumerated, 0))
	return berSeq(classUniversal, tagSequence, berString(OIDSortResult), berOctets(classUniversal, tagOctetString, value))
}

// sortAttributes adds the sort keys' attributes a request would not return, and reports them so
// they can be removed from the entries again once sorted.
func sortAttributes(req *fakead.SearchRequest, keys []sortKey) (added []string) {
	all := len(req.Attributes) == 0 || slices.Contains(req.Attributes, "*")
	for _, k := range keys {
		has := false
		for _, a := range req.Attributes {
			has = has || strings.EqualFold(a, k.attr)
		}
		if !has && !all {
			req.Attributes = append(req.Attributes, k.attr)
			added = append(added, k.attr)
		}
	}
	return added
}

// sortEntries sorts entries by keys (stable) and strips the attributes added for sorting.
func sortEntries(entries []fakead.SearchEntry, keys []sortKey, added []string) {
	type keyed struct {
		vals [][]byte // per key: the value sorted on, nil when absent
	}
	ks := make([]keyed, len(entries))
	for i, e := range entries {
		ks[i].vals = make([][]byte, len(keys))
		for j, k := range keys {
			for _, a := range e.Attributes {
				if !strings.EqualFold(a.Name, k.attr) {
					continue
				}
				for _, v := range a.Values {
					if cur := ks[i].vals[j]; cur == nil || (compareValues(v, cur) < 0) != k.reverse {
						ks[i].vals[j] = v
					}
				}
			}
		}
	}
	idx := make([]int, len(entries))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		for j, k := range keys {
			va, vb := ks[a].vals[j], ks[b].vals[j]
			switch {
			case va == nil && vb == nil:
				continue
			case va == nil:
				return 1
			case vb == nil:
				return -1
			}
			c := compareValues(va, vb)
			if k.reverse {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	sorted := make([]fakead.SearchEntry, len(entries))
	for i, j := range idx {
		sorted[i] = entries[j]
	}
	copy(entries, sorted)
	if len(added) == 0 {
		return
	}
	for i := range entries {
		entries[i].Attributes = slices.DeleteFunc(slices.Clone(entries[i].Attributes), func(a fakead.Attribute) bool {
			return slices.ContainsFunc(added, func(x string) bool { return strings.EqualFold(x, a.Name) })
		})
	}
}

// compareValues orders two values: numerically when both are integers, else by case-folded bytes.
func compareValues(a, b []byte) int {
	var x, y big.Int
	if _, ok := x.SetString(string(a), 10); ok {
		if _, ok := y.SetString(string(b), 10); ok {
			return x.Cmp(&y)
		}
	}
	return bytes.Compare(bytes.ToLower(a), bytes.ToLower(b))
}
