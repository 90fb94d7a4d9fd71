package ldapsrv

import (
	"encoding/binary"
	"fmt"
	"slices"

	goldap "github.com/lor00x/goldap/message"

	"github.com/gmsasim/gmsasim/fakead"
)

// pagedSearch is the rest of a paged search's results, kept on the connection between pages.
type pagedSearch struct {
	rest  []fakead.SearchEntry
	err   error         // the search's final result (e.g. sizeLimitExceeded), sent with the last page
	owner fakead.Caller // the identity the entries were projected for
}

func (r *request) search(req goldap.SearchRequest) {
	done := func(err error, controls []byte) {
		if controls == nil {
			r.w.Write(goldap.SearchResultDone(result(err)))
			return
		}
		if werr := r.writeEncoded(resultOp(5, err), controls); werr != nil {
			// Divergence: without the chanOut route no cookie can be sent; say so instead of
			// returning a page the client cannot continue.
			r.w.Write(goldap.SearchResultDone(result(wireErr(fakead.UnavailableCriticalExtension, "search",
				"00000057: paged results unavailable: "+werr.Error()))))
		}
	}
	if sc := req.Scope().Int(); sc < 0 || sc > 2 {
		done(wireErr(fakead.ProtocolError, "search", fmt.Sprintf("00000057: LdapErr: invalid search scope %d", sc)), nil)
		return
	}
	filter, err := convertFilter(req.Filter())
	if err != nil {
		done(wireErr(fakead.ProtocolError, "search", "00000057: LdapErr: unsupported filter: "+err.Error()), nil)
		return
	}
	sd, err := r.sdFlags()
	if err != nil {
		done(err, nil)
		return
	}
	paged, size, cookie, err := r.pagedControl()
	if err != nil {
		done(err, nil)
		return
	}
	sreq := &fakead.SearchRequest{
		BaseDN:    string(req.BaseObject()),
		Scope:     fakead.Scope(req.Scope().Int()),
		Filter:    filter,
		TypesOnly: bool(req.TypesOnly()),
		SizeLimit: req.SizeLimit().Int(),
		SDFlags:   sd,
	}
	for _, a := range req.Attributes() {
		sreq.Attributes = append(sreq.Attributes, string(a))
	}

	if !paged {
		entries, err := r.s.b.Search(r.caller(), sreq)
		if !r.sendEntries(entries, sreq.TypesOnly) {
			return
		}
		done(err, nil)
		return
	}

	var ps *pagedSearch
	if len(cookie) == 0 {
		entries, err := r.s.b.Search(r.caller(), sreq)
		if err != nil && fakead.CodeOf(err) != fakead.SizeLimitExceeded {
			done(err, nil)
			return
		}
		ps = &pagedSearch{rest: entries, err: err, owner: r.caller()}
	} else {
		ps = r.st.pages[string(cookie)]
		r.st.dropPage(string(cookie))
		if ps != nil && !sameIdentity(ps.owner, r.caller()) {
			ps = nil // cannot happen while binds drop every page; refused like an unknown cookie
		}
		if ps == nil {
			done(errBadCookie(), nil)
			return
		}
		if size == 0 { // RFC 2696: size 0 with a cookie abandons the paged search
			done(nil, pagedResponseControl(nil))
			return
		}
	}
	if size <= 0 || size > len(ps.rest) {
		size = len(ps.rest)
	}
	page, rest := ps.rest[:size], ps.rest[size:]
	if !r.sendEntries(page, sreq.TypesOnly) {
		return
	}
	if len(rest) == 0 {
		done(ps.err, pagedResponseControl(nil))
		return
	}
	done(nil, pagedResponseControl(r.st.savePage(&pagedSearch{rest: rest, err: ps.err, owner: ps.owner})))
}

// errBadCookie answers a cookie this connection does not hold for its bound identity: unknown,
// already used, evicted, from another connection, or from before a bind. One answer for all, so
// a client learns nothing about which.
//
// Divergence: AD's exact code and text for an unknown or stale cookie are not reproduced.
func errBadCookie() error {
	return wireErr(fakead.ProtocolError, "search", "00000057: LdapErr: DSID-0C090A4C, comment: Error processing control, data 0, v4563")
}

// sameIdentity reports whether two callers are the same principal (encryption aside).
func sameIdentity(a, b fakead.Caller) bool {
	return a.DN == b.DN && a.SID == b.SID && a.System == b.System && slices.Equal(a.Token, b.Token)
}

// sendEntries writes the entries; false if the search was abandoned meanwhile (no more responses).
func (r *request) sendEntries(entries []fakead.SearchEntry, typesOnly bool) bool {
	for _, e := range entries {
		if r.abandoned() {
			return false
		}
		var out goldap.SearchResultEntry
		out.SetObjectName(e.DN)
		for _, a := range e.Attributes {
			if typesOnly {
				out.AddAttribute(goldap.AttributeDescription(a.Name))
				continue
			}
			vals := make([]goldap.AttributeValue, len(a.Values))
			for i, v := range a.Values {
				vals[i] = goldap.AttributeValue(v)
			}
			out.AddAttribute(goldap.AttributeDescription(a.Name), vals...)
		}
		r.w.Write(out)
	}
	return !r.abandoned()
}

// savePage stores a paged search's remainder and returns its cookie: a per-connection counter, so
// cookies are deterministic. The oldest state goes when there are too many.
func (st *connState) savePage(ps *pagedSearch) []byte {
	st.nextCookie++
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], st.nextCookie)
	key := string(c[:])
	st.pages[key] = ps
	st.pageOrder = append(st.pageOrder, key)
	for len(st.pageOrder) > maxPagedSearches {
		delete(st.pages, st.pageOrder[0])
		st.pageOrder = st.pageOrder[1:]
	}
	return c[:]
}

// dropAllPages forgets every paged search of the connection (a bind changed its identity).
func (st *connState) dropAllPages() {
	clear(st.pages)
	st.pageOrder = nil
}

func (st *connState) dropPage(key string) {
	delete(st.pages, key)
	for i, k := range st.pageOrder {
		if k == key {
			st.pageOrder = append(st.pageOrder[:i], st.pageOrder[i+1:]...)
			return
		}
	}
}
