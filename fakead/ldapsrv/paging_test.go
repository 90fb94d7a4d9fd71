package ldapsrv_test

import (
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead"
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
