package ldapsrv_test

import (
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// firstPage runs the first page of a paged search for the users' msDS-ManagedPassword and returns
// the cookie for the rest.
func firstPage(t *testing.T, c *ldap.Conn) (*ldap.SearchRequest, *ldap.ControlPaging) {
	t.Helper()
	paging := ldap.NewControlPaging(1)
	req := ldap.NewSearchRequest("CN=Users,"+baseDN, ldap.ScopeSingleLevel, 0, 0, 0, false, "(objectClass=user)",
		[]string{"msDS-ManagedPassword"}, []ldap.Control{paging})
	res, err := c.Search(req)
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("msDS-ManagedPassword") == "" {
		t.Fatalf("first page: %v, %v", res, err)
	}
	ctrl, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
	if ctrl == nil || len(ctrl.Cookie) == 0 {
		t.Fatal("first page without a cookie")
	}
	paging.SetCookie(ctrl.Cookie)
	return req, paging
}

// wantRefused presents the cookie and expects the one bad-cookie answer and no entries.
func wantRefused(t *testing.T, c *ldap.Conn, req *ldap.SearchRequest, when string) {
	t.Helper()
	res, err := c.Search(req)
	if res != nil && len(res.Entries) > 0 {
		t.Fatalf("%s: the cookie returned %d entries (%s)", when, len(res.Entries), res.Entries[0].DN)
	}
	wantCode(t, err, fakead.ProtocolError)
}

// TestPagingCookieBoundToConnectionAndIdentity: a paged search's remainder was projected for the
// identity that started it (a host allowed to read a gMSA's password); a bind of any outcome
// discards it, and another connection cannot use the cookie.
func TestPagingCookieBoundToConnectionAndIdentity(t *testing.T) {
	f := startMem(t)
	cases := []struct {
		name   string
		rebind func(c *ldap.Conn) error
	}{
		{"rebind as another user", func(c *ldap.Conn) error { return c.Bind(`CONTOSO\alice`, "alice-pw") }},
		{"anonymous rebind", func(c *ldap.Conn) error { return c.UnauthenticatedBind("") }},
		{"failed rebind", func(c *ldap.Conn) error { return c.Bind(adminDN, "wrong") }},
		{"rebind as the same user", func(c *ldap.Conn) error { return c.Bind(adminDN, adminPW) }},
		{"SASL bind attempt", func(c *ldap.Conn) error { return c.ExternalBind() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := f.dialTLS(t, "localhost")
			if err := c.Bind(adminDN, adminPW); err != nil {
				t.Fatal(err)
			}
			req, _ := firstPage(t, c)
			_ = tc.rebind(c) // the outcome does not matter: the state must be gone either way
			wantRefused(t, c, req, "after "+tc.name)
		})
	}

	t.Run("another connection", func(t *testing.T) {
		a := f.dialTLS(t, "localhost")
		if err := a.Bind(adminDN, adminPW); err != nil {
			t.Fatal(err)
		}
		req, _ := firstPage(t, a)
		b := f.dialTLS(t, "localhost")
		if err := b.Bind(adminDN, adminPW); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, b, req, "on another connection")
		// The owner can still continue: the refusal above did not touch its state.
		res, err := a.Search(req)
		if err != nil || len(res.Entries) != 1 {
			t.Fatalf("owner's continuation: %v, %v", res, err)
		}
	})
}

// computersPage asks for one page of the seven computers' cn (44 bytes each against
// MaxResultSetSize: DN, "cn", value) and returns the entries, the cookie and the error.
func computersPage(t *testing.T, c *ldap.Conn, size uint32, cookie []byte) (int, []byte, error) {
	t.Helper()
	paging := ldap.NewControlPaging(size)
	paging.SetCookie(cookie)
	res, err := c.Search(ldap.NewSearchRequest("CN=Computers,"+baseDN, ldap.ScopeSingleLevel, 0, 0, 0, false,
		"(objectClass=computer)", []string{"cn"}, []ldap.Control{paging}))
	if err != nil {
		if res != nil && len(res.Entries) > 0 {
			t.Fatalf("%d entries with error %v", len(res.Entries), err)
		}
		return 0, nil, err
	}
	ctrl, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
	if ctrl == nil {
		t.Fatal("no paging control in the response")
	}
	return len(res.Entries), ctrl.Cookie, nil
}

func TestPagedSearchLimits(t *testing.T) {
	t.Run("MaxPageSize", func(t *testing.T) {
		f := start(t, newMemBackend(), ldapsrv.Options{Limits: ldapsrv.Limits{MaxPageSize: 3}})
		c := f.dial(t)
		var pages []int
		var cookie []byte
		for len(pages) < 10 {
			n, next, err := computersPage(t, c, 100, cookie)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, n)
			if cookie = next; len(cookie) == 0 {
				break
			}
		}
		if len(pages) != 3 || pages[0] != 3 || pages[1] != 3 || pages[2] != 1 {
			t.Fatalf("pages of a search asking for 100 = %v, want [3 3 1]", pages)
		}
		if n, _, err := computersPage(t, c, 0, nil); err != nil || n != 3 {
			t.Fatalf("first page asking for 0 = %d entries, %v; want MaxPageSize", n, err)
		}
	})
	t.Run("MaxResultSetSize", func(t *testing.T) {
		// 4 bytes (a DNT) per remaining entry, as a DC counts: 20 bytes hold 5 entries.
		f := start(t, newMemBackend(), ldapsrv.Options{Limits: ldapsrv.Limits{MaxResultSetSize: 20}})
		c := f.dial(t)
		// Page of 1: the six left (24 bytes) exceed the limit; refused before any entry.
		_, _, err := computersPage(t, c, 1, nil)
		wantCode(t, err, fakead.AdminLimitExceeded)
		// Page of 3: four left (16 bytes) fit.
		n, a, err := computersPage(t, c, 3, nil)
		if err != nil || n != 3 || len(a) == 0 {
			t.Fatalf("page of 3 under the limit: %d, %v", n, err)
		}
		// A second search's 16 bytes push the first out (oldest first).
		_, b, err := computersPage(t, c, 3, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = computersPage(t, c, 3, a)
		wantCode(t, err, fakead.ProtocolError)
		if n, _, err := computersPage(t, c, 3, b); err != nil || n != 3 {
			t.Fatalf("newest search's next page: %d, %v", n, err)
		}
	})
	t.Run("MaxPagedMemory", func(t *testing.T) {
		// Six remaining entries keep 264 bytes (DN, "cn", value); 300 bytes hold one such remainder
		// across the whole server.
		f := start(t, newMemBackend(), ldapsrv.Options{Limits: ldapsrv.Limits{MaxPagedMemory: 300}})
		a, b := f.dial(t), f.dial(t)
		_, first, err := computersPage(t, a, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The same connection again: its own oldest state makes room.
		if _, _, err := computersPage(t, a, 1, nil); err != nil {
			t.Fatalf("a second search on the same connection: %v", err)
		}
		_, _, err = computersPage(t, a, 1, first)
		wantCode(t, err, fakead.ProtocolError)
		// Another connection finds the server's budget spent.
		_, _, err = computersPage(t, b, 1, nil)
		wantCode(t, err, fakead.AdminLimitExceeded)
		// Once a's connection is gone, its state is given back.
		a.Close()
		deadline := time.Now().Add(failBound)
		for {
			_, _, err = computersPage(t, b, 1, nil)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a closed connection's paged state is still counted: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("MaxResultSetsPerConn", func(t *testing.T) {
		f := start(t, newMemBackend(), ldapsrv.Options{Limits: ldapsrv.Limits{MaxResultSetsPerConn: 2}})
		c := f.dial(t)
		var cookies [][]byte
		for range 3 {
			_, ck, err := computersPage(t, c, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			cookies = append(cookies, ck)
		}
		_, _, err := computersPage(t, c, 1, cookies[0])
		wantCode(t, err, fakead.ProtocolError)
		for _, ck := range cookies[1:] {
			if n, _, err := computersPage(t, c, 1, ck); err != nil || n != 1 {
				t.Fatalf("kept search: %d, %v", n, err)
			}
		}
	})
}

func TestMaxQueryDuration(t *testing.T) {
	const limit = 50 * time.Millisecond
	slow := &slowBackend{Backend: newMemBackend(), delay: 3 * limit} // always past the limit
	f := start(t, slow, ldapsrv.Options{Limits: ldapsrv.Limits{MaxQueryDuration: limit}})
	c := f.dial(t)
	req := ldap.NewSearchRequest("CN=Computers,"+baseDN, ldap.ScopeSingleLevel, 0, 0, 0, false, "(objectClass=computer)", []string{"cn"}, nil)
	res, err := c.Search(req)
	wantCode(t, err, fakead.TimeLimitExceeded)
	if res != nil && len(res.Entries) > 0 {
		t.Fatalf("%d entries sent after the deadline", len(res.Entries))
	}
	_, _, err = computersPage(t, c, 2, nil)
	wantCode(t, err, fakead.TimeLimitExceeded)
	// Under the limit, the same search succeeds.
	g := start(t, newMemBackend(), ldapsrv.Options{Limits: ldapsrv.Limits{MaxQueryDuration: time.Minute}})
	if res, err := g.dial(t).Search(req); err != nil || len(res.Entries) != 7 {
		t.Fatalf("search under MaxQueryDuration: %v", err)
	}
}
