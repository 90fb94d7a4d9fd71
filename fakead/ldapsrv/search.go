package ldapsrv

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	goldap "github.com/lor00x/goldap/message"

	"github.com/gmsasim/gmsasim/fakead"
)

// pagedSearch is the rest of a paged search's results, kept on the connection between pages.
type pagedSearch struct {
	rest  []fakead.SearchEntry
	err   error         // the search's final result (e.g. sizeLimitExceeded), sent with the last page
	owner fakead.Caller // the identity the entries were projected for
	cost  int           // resultSetCost(len(rest)), against MaxResultSetSize
	mem   int           // entriesMem(rest): the bytes kept, against the server's MaxPagedMemory
}

// dntSize is what one remaining entry costs against MaxResultSetSize: a DC keeps a paged
// search's result set as a list of 4-byte DNTs (its rows' ids), so the policy's 262,144 bytes
// hold 65,536 entries.
const dntSize = 4

func resultSetCost(entries int) int { return dntSize * entries }

func (r *request) search(req goldap.SearchRequest) {
	var sortCtl []byte // the sortResult control, once the entries are sorted
	done := func(err error, ctrls [][]byte) {
		if sortCtl != nil {
			ctrls = append(ctrls, sortCtl)
		}
		if ctrls == nil {
			r.writeResult(5, err)
			return
		}
		if werr := r.writeEncoded(resultOp(5, err), berSeq(classContext, 0, ctrls...)); werr != nil {
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
	keys, sorted, err := r.sortControl()
	if err != nil {
		done(err, nil)
		return
	}
	var sortBy func([]fakead.SearchEntry)
	if sorted && paged && len(cookie) > 0 {
		sortCtl = sortResultControl() // later pages come from the sorted remainder
	} else if sorted {
		added := sortAttributes(sreq, keys)
		sortBy = func(es []fakead.SearchEntry) {
			sortEntries(es, keys, added)
			sortCtl = sortResultControl()
		}
	}

	// Divergence: the Backend's search is synchronous and cannot be interrupted, so
	// MaxQueryDuration is checked when it returns and between entries sent, not inside it.
	deadline := time.Now().Add(r.s.lim.MaxQueryDuration) // wallclock: MaxQueryDuration
	if !paged {
		// A DC answers a search without the paged results control with at most MaxPageSize
		// entries (the Default Query Policy's lDAPAdminLimits, 1000): the first MaxPageSize, then
		// sizeLimitExceeded (4), also when the client asked for no limit or a larger one; a
		// smaller client sizeLimit still applies. Sources: [MS-ADTS] 3.1.1.3.4.6 (LDAP policies:
		// MaxPageSize bounds the objects returned in a single search result) and the outside
		// check of issue 13, which saw Windows' behaviour through Samba AD.
		if sreq.SizeLimit <= 0 || sreq.SizeLimit > r.s.lim.MaxPageSize {
			sreq.SizeLimit = r.s.lim.MaxPageSize
		}
		entries, err := r.s.b.Search(r.caller(), sreq)
		if sortBy != nil {
			sortBy(entries)
		}
		switch r.sendEntries(entries, sreq.TypesOnly, deadline) {
		case sentAll:
			done(err, nil)
		case sentTimeout:
			done(errTimeLimit(), nil)
		}
		return
	}
	r.searchPaged(sreq, size, cookie, deadline, sortBy, done)
}

// searchPaged answers one page of a paged search: the first (no cookie) runs the search and keeps
// the rest on the connection; the next ones take the rest by cookie.
func (r *request) searchPaged(sreq *fakead.SearchRequest, size int, cookie []byte, deadline time.Time,
	sortBy func([]fakead.SearchEntry), done func(error, [][]byte)) {
	var ps *pagedSearch
	if len(cookie) == 0 {
		entries, err := r.s.b.Search(r.caller(), sreq)
		if err != nil && fakead.CodeOf(err) != fakead.SizeLimitExceeded {
			done(err, nil)
			return
		}
		if sortBy != nil {
			sortBy(entries)
		}
		ps = &pagedSearch{rest: entries, err: err, owner: r.caller(), cost: resultSetCost(len(entries)), mem: entriesMem(entries)}
	} else {
		ps = r.st.takePage(string(cookie))
		if ps != nil && !sameIdentity(ps.owner, r.caller()) {
			ps = nil // cannot happen while binds drop every page; refused like an unknown cookie
		}
		if ps == nil {
			done(errBadCookie(), nil)
			return
		}
		if size == 0 { // RFC 2696: size 0 with a cookie abandons the paged search
			done(nil, [][]byte{pagedResponseControl(nil)})
			return
		}
	}
	// A page is at most MaxPageSize entries, also when the client asks for more or for 0.
	if size <= 0 || size > r.s.lim.MaxPageSize {
		size = r.s.lim.MaxPageSize
	}
	size = min(size, len(ps.rest))
	page := ps.rest[:size]
	rest := &pagedSearch{rest: ps.rest[size:], err: ps.err, owner: ps.owner,
		cost: resultSetCost(len(ps.rest) - size), mem: ps.mem - entriesMem(page)}
	if len(rest.rest) > 0 && rest.cost > r.s.lim.MaxResultSetSize {
		// AD's text is not reproduced.
		done(wireErr(fakead.AdminLimitExceeded, "search", fmt.Sprintf(
			"00000057: LdapErr: the paged search's remaining result set (%d entries, %d bytes) exceeds MaxResultSetSize (%d)",
			len(rest.rest), rest.cost, r.s.lim.MaxResultSetSize)), nil)
		return
	}
	// The rest is kept before the page goes out, so that a server out of paged-state memory
	// refuses the search before sending any of it.
	var next []byte
	if len(rest.rest) > 0 {
		if next = r.st.savePage(rest); next == nil {
			done(wireErr(fakead.AdminLimitExceeded, "search", fmt.Sprintf(
				"00000057: LdapErr: the server keeps no more paged-search state (MaxPagedMemory %d bytes); finish or abandon other paged searches",
				r.s.lim.MaxPagedMemory)), nil)
			return
		}
	}
	switch r.sendEntries(page, sreq.TypesOnly, deadline) {
	case sentAbandoned:
		r.st.takePage(string(next))
		return
	case sentTimeout:
		r.st.takePage(string(next))
		done(errTimeLimit(), nil) // the rest is dropped: no cookie
		return
	}
	if next == nil {
		done(ps.err, [][]byte{pagedResponseControl(nil)})
		return
	}
	done(nil, [][]byte{pagedResponseControl(next)})
}

// errTimeLimit ends a search past MaxQueryDuration.
//
// Divergence: AD's diagnostic text for timeLimitExceeded is not reproduced.
func errTimeLimit() error {
	return wireErr(fakead.TimeLimitExceeded, "search", "00000055: LdapErr: the search exceeded MaxQueryDuration")
}

// entriesMem is what kept entries weigh against the server's MaxPagedMemory: their DNs,
// attribute names and values in bytes. Linear, and computed once per search (each page subtracts
// its own).
func entriesMem(es []fakead.SearchEntry) int {
	n := 0
	for _, e := range es {
		n += len(e.DN)
		for _, a := range e.Attributes {
			n += len(a.Name)
			for _, v := range a.Values {
				n += len(v)
			}
		}
	}
	return n
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

// sendOutcome is how sendEntries ended.
type sendOutcome int

const (
	sentAll       sendOutcome = iota
	sentAbandoned             // an Abandon arrived: no more responses at all
	sentTimeout               // MaxQueryDuration passed: the caller answers timeLimitExceeded
)

// sendEntries writes the entries until an Abandon or the deadline.
func (r *request) sendEntries(entries []fakead.SearchEntry, typesOnly bool, deadline time.Time) sendOutcome {
	for _, e := range entries {
		if r.abandoned() {
			return sentAbandoned
		}
		if !time.Now().Before(deadline) { // wallclock: MaxQueryDuration
			return sentTimeout
		}
		if iw, ok := r.w.(*inlineWriter); ok {
			iw.writeEntry(&e, typesOnly)
			continue
		}
		r.w.Write(goldapEntry(&e, typesOnly))
	}
	if r.abandoned() {
		return sentAbandoned
	}
	if !time.Now().Before(deadline) { // wallclock: MaxQueryDuration
		return sentTimeout
	}
	return sentAll
}

// savePage stores a paged search's remainder and returns its cookie: a per-connection counter, so
// cookies are deterministic. The oldest states go while there are more than MaxResultSetsPerConn
// or their result sets exceed MaxResultSetSize (ps alone fits: searchPaged checked), and while
// the server's paged state would exceed MaxPagedMemory; if ps alone does not fit then, it is
// not kept and savePage returns nil.
//
// Divergence: a DC keeps an index position per result set; this server keeps the projected
// entries, so besides AD's per-connection bounds it bounds their bytes across all connections.
func (st *connState) savePage(ps *pagedSearch) []byte {
	st.pagesMu.Lock()
	defer st.pagesMu.Unlock()
	lim := &st.srv.lim
	for len(st.pageOrder) > 0 && st.srv.pagedMem.Load()+int64(ps.mem) > int64(lim.MaxPagedMemory) {
		st.dropPageLocked(st.pageOrder[0])
	}
	if st.pagesClosed || st.srv.pagedMem.Add(int64(ps.mem)) > int64(lim.MaxPagedMemory) {
		if !st.pagesClosed {
			st.srv.pagedMem.Add(-int64(ps.mem))
		}
		return nil
	}
	st.nextCookie++
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], st.nextCookie)
	key := string(c[:])
	st.pages[key] = ps
	st.pageOrder = append(st.pageOrder, key)
	st.pageBytes += ps.cost
	for len(st.pageOrder) > lim.MaxResultSetsPerConn || st.pageBytes > lim.MaxResultSetSize && len(st.pageOrder) > 1 {
		st.dropPageLocked(st.pageOrder[0])
	}
	return c[:]
}

// takePage removes and returns the paged search of cookie key (nil if the connection holds none).
func (st *connState) takePage(key string) *pagedSearch {
	st.pagesMu.Lock()
	defer st.pagesMu.Unlock()
	ps := st.pages[key]
	st.dropPageLocked(key)
	return ps
}

// dropAllPages forgets every paged search of the connection (a bind changed its identity, or the
// connection closed: closing also refuses any later savePage).
func (st *connState) dropAllPages(closing bool) {
	st.pagesMu.Lock()
	defer st.pagesMu.Unlock()
	for len(st.pageOrder) > 0 {
		st.dropPageLocked(st.pageOrder[0])
	}
	st.pagesClosed = st.pagesClosed || closing
}

func (st *connState) dropPageLocked(key string) {
	if ps, ok := st.pages[key]; ok {
		st.pageBytes -= ps.cost
		st.srv.pagedMem.Add(-int64(ps.mem))
	}
	delete(st.pages, key)
	for i, k := range st.pageOrder {
		if k == key {
			st.pageOrder = append(st.pageOrder[:i], st.pageOrder[i+1:]...)
			return
		}
	}
}
