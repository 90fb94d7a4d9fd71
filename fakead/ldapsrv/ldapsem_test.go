package ldapsrv_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/sim"
)

// Issue 13: LDAP semantics where the server differed from Windows, checked over the wire with
// go-ldap against the live directory model (a sim world's DC).

// startModel serves a fresh world's DC with opts and returns an admin connection over plain LDAP.
// more, if set, runs on the DC's directory first (as SYSTEM, to add entries).
func startModel(t *testing.T, opts ldapsrv.Options, more func(now time.Time, d *fakead.Directory) error) *ldap.Conn {
	t.Helper()
	w, err := sim.New(sim.Config{Seed: 1, AdminPassword: adminPW})
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	dc := w.DCs()[0].Name()
	if more != nil {
		if err := w.ExecOn(dc, more); err != nil {
			t.Fatal(err)
		}
	}
	f := start(t, w.Backend(dc), opts)
	c := f.dial(t)
	if err := c.Bind(adminDN, adminPW); err != nil {
		t.Fatalf("admin bind: %v", err)
	}
	return c
}

func searchReq(base string, scope int, filter string, attrs ...string) *ldap.SearchRequest {
	return ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
}

// diagOf is the diagnosticMessage of an LDAP error.
func diagOf(le *ldap.Error) string {
	if le == nil || le.Err == nil {
		return ""
	}
	return le.Err.Error()
}

// referralURLs reads the referral field ([3] SEQUENCE OF LDAPURL) of the result in le's packet.
func referralURLs(le *ldap.Error) []string {
	if le == nil || le.Packet == nil || len(le.Packet.Children) < 2 {
		return nil
	}
	var out []string
	for _, ch := range le.Packet.Children[1].Children {
		if ch.ClassType != ber.ClassContext || ch.Tag != 3 {
			continue
		}
		for _, u := range ch.Children {
			out = append(out, string(u.Data.Bytes()))
		}
	}
	return out
}

// "+" is not RFC 3673 on AD: an unknown attribute name that selects nothing.
func TestWirePlusSelectsNothing(t *testing.T) {
	c := startModel(t, ldapsrv.Options{}, nil)
	res, err := c.Search(searchReq(adminDN, ldap.ScopeBaseObject, "(objectClass=*)", "+"))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("search with +: %v, %v", res, err)
	}
	if a := res.Entries[0].Attributes; len(a) != 0 {
		t.Errorf("+ returned %d attributes (%s ...), want none", len(a), a[0].Name)
	}
	res, err = c.Search(searchReq(adminDN, ldap.ScopeBaseObject, "(objectClass=*)", "+", "createTimeStamp", "canonicalName"))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("search with + and names: %v, %v", res, err)
	}
	var names []string
	for _, a := range res.Entries[0].Attributes {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"createTimeStamp", "canonicalName"}) {
		t.Errorf("+ with named operational attributes returned %v", names)
	}
	root, err := c.Search(searchReq("", ldap.ScopeBaseObject, "(objectClass=*)", "+"))
	if err != nil || len(root.Entries) != 1 || len(root.Entries[0].Attributes) != 0 {
		t.Fatalf("rootDSE with +: %v, %v; want the entry with no attributes", root, err)
	}
	root, err = c.Search(searchReq("", ldap.ScopeBaseObject, "(objectClass=*)"))
	if err != nil || len(root.Entries) != 1 {
		t.Fatal(err)
	}
	for _, a := range root.Entries[0].Attributes {
		if strings.EqualFold(a.Name, "supportedFeatures") || slices.Contains(a.Values, "1.3.6.1.4.1.4203.1.5.1") {
			t.Errorf("rootDSE claims RFC 3673: %s %v", a.Name, a.Values)
		}
	}
}

const diagDescExists = "00002083: AtrErr: DSID-03151818, #1:\n\t0: 00002083: DSID-03151818, problem 1006 (ATT_OR_VALUE_EXISTS), data 0, Att d (description)\n"

// description is single-valued on SAM objects on modify (attributeOrValueExists); an add may give
// two values; other objects keep it multi-valued.
func TestWireSAMDescription(t *testing.T) {
	c := startModel(t, ldapsrv.Options{}, nil)
	group := "CN=ldaptestgroup,CN=Users," + baseDN
	add := ldap.NewAddRequest(group, nil)
	add.Attribute("objectClass", []string{"group"})
	add.Attribute("description", []string{"desc1", "desc2"})
	if err := c.Add(add); err != nil {
		t.Fatalf("add of a group with two descriptions (Windows accepts it): %v", err)
	}
	mod := func(dn string, f func(m *ldap.ModifyRequest)) error {
		m := ldap.NewModifyRequest(dn, nil)
		f(m)
		return c.Modify(m)
	}
	le := wantCode(t, mod(group, func(m *ldap.ModifyRequest) { m.Replace("description", []string{"desc1", "desc2"}) }), fakead.AttributeOrValueExists)
	if d := diagOf(le); d != diagDescExists {
		t.Errorf("replace with two: diagnostic %q", d)
	}
	if err := mod(group, func(m *ldap.ModifyRequest) { m.Replace("description", []string{"desc1"}) }); err != nil {
		t.Fatalf("replace with one: %v", err)
	}
	le = wantCode(t, mod(group, func(m *ldap.ModifyRequest) { m.Add("description", []string{"desc3"}) }), fakead.AttributeOrValueExists)
	if d := diagOf(le); d != diagDescExists {
		t.Errorf("add of a second value: diagnostic %q", d)
	}
	if err := mod(group, func(m *ldap.ModifyRequest) {
		m.Delete("description", []string{"desc1"})
		m.Add("description", []string{"desc2"})
	}); err != nil {
		t.Fatalf("delete one, add another in one modify: %v", err)
	}
	res, err := c.Search(searchReq(group, ldap.ScopeBaseObject, "(objectClass=*)", "description"))
	if err != nil || len(res.Entries) != 1 || !slices.Equal(res.Entries[0].GetAttributeValues("description"), []string{"desc2"}) {
		t.Fatalf("description after the modifies: %v, %v", res, err)
	}
	wantCode(t, mod(adminDN, func(m *ldap.ModifyRequest) { m.Replace("description", []string{"a", "b"}) }), fakead.AttributeOrValueExists)

	ou := "OU=Desc," + baseDN
	add = ldap.NewAddRequest(ou, nil)
	add.Attribute("objectClass", []string{"organizationalUnit"})
	if err := c.Add(add); err != nil {
		t.Fatal(err)
	}
	if err := mod(ou, func(m *ldap.ModifyRequest) { m.Add("description", []string{"o1", "o2"}) }); err != nil {
		t.Fatalf("two descriptions on an OU (not a SAM object): %v", err)
	}
}

// A search without paging returns MaxPageSize entries, then sizeLimitExceeded; paging is not cut.
func TestWireUnpagedSearchCutAtMaxPageSize(t *testing.T) {
	c := startModel(t, ldapsrv.Options{Limits: ldapsrv.Limits{MaxPageSize: 5}}, nil)
	all := searchReq(baseDN, ldap.ScopeWholeSubtree, "(objectClass=*)", "1.1")
	res, err := c.Search(all)
	wantCode(t, err, fakead.SizeLimitExceeded)
	if res == nil || len(res.Entries) != 5 {
		t.Fatalf("unpaged search: %v entries, want MaxPageSize (5)", res)
	}
	// A smaller client sizeLimit still applies; one no larger than the matches is not exceeded.
	small := searchReq(baseDN, ldap.ScopeWholeSubtree, "(objectClass=*)", "1.1")
	small.SizeLimit = 3
	res, err = c.Search(small)
	wantCode(t, err, fakead.SizeLimitExceeded)
	if res == nil || len(res.Entries) != 3 {
		t.Fatalf("sizeLimit 3: %v", res)
	}
	few, err := c.Search(searchReq("CN=Users,"+baseDN, ldap.ScopeBaseObject, "(objectClass=*)", "1.1"))
	if err != nil || len(few.Entries) != 1 {
		t.Fatalf("a search under the limit: %v, %v", few, err)
	}
	paged, err := c.SearchWithPaging(searchReq(baseDN, ldap.ScopeWholeSubtree, "(objectClass=*)", "1.1"), 5)
	if err != nil || len(paged.Entries) <= 5 {
		t.Fatalf("paged search: %d entries, %v; want them all", len(paged.Entries), err)
	}
}

// The same at the Default Query Policy's MaxPageSize (1000) with 1001 matching entries.
func TestWireUnpagedSearchCutAt1000(t *testing.T) {
	const n = 1001
	c := startModel(t, ldapsrv.Options{}, func(now time.Time, d *fakead.Directory) error {
		if err := d.Add(now, fakead.SystemCaller, "OU=Many,"+baseDN, []fakead.Attribute{{Name: "objectClass", Values: [][]byte{[]byte("organizationalUnit")}}}); err != nil {
			return err
		}
		for i := range n {
			err := d.Add(now, fakead.SystemCaller, fmt.Sprintf("CN=c%04d,OU=Many,%s", i, baseDN),
				[]fakead.Attribute{{Name: "objectClass", Values: [][]byte{[]byte("container")}}})
			if err != nil {
				return err
			}
		}
		return nil
	})
	req := searchReq("OU=Many,"+baseDN, ldap.ScopeSingleLevel, "(objectClass=container)", "1.1")
	res, err := c.Search(req)
	wantCode(t, err, fakead.SizeLimitExceeded)
	if res == nil || len(res.Entries) != 1000 {
		t.Fatalf("unpaged search of %d: %v entries, want 1000", n, res)
	}
	paged, err := c.SearchWithPaging(req, 1000)
	if err != nil || len(paged.Entries) != n {
		t.Fatalf("paged search: %d entries, %v; want %d", len(paged.Entries), err, n)
	}
}

// A base outside every naming context is a referral (10) to the domain its DC components name;
// a missing base under a held naming context stays noSuchObject (32).
func TestWireReferralOutsideNamingContexts(t *testing.T) {
	c := startModel(t, ldapsrv.Options{}, nil)
	for _, tc := range []struct{ base, ref, url string }{
		{"DC=other,DC=com", "other.com", "ldap://other.com/DC=other,DC=com"},
		{"CN=Users,DC=fabrikam,DC=com", "fabrikam.com", "ldap://fabrikam.com/CN=Users,DC=fabrikam,DC=com"},
	} {
		for _, scope := range []int{ldap.ScopeBaseObject, ldap.ScopeWholeSubtree} {
			res, err := c.Search(searchReq(tc.base, scope, "(objectClass=*)"))
			le := wantCode(t, err, fakead.Referral)
			if res != nil && len(res.Entries) > 0 {
				t.Errorf("%s: %d entries with the referral", tc.base, len(res.Entries))
			}
			want := "0000202B: RefErr: DSID-0310082F, data 0, 1 access points\n\tref 1: '" + tc.ref + "'\n"
			if d := diagOf(le); d != want {
				t.Errorf("%s: diagnostic %q, want %q", tc.base, d, want)
			}
			if got := referralURLs(le); !slices.Equal(got, []string{tc.url}) {
				t.Errorf("%s: referral %q, want %q", tc.base, got, tc.url)
			}
		}
	}
	// A paged search carries the referral as well (the response goes out with its controls).
	_, err := c.SearchWithPaging(searchReq("DC=other,DC=com", ldap.ScopeWholeSubtree, "(objectClass=*)"), 10)
	if got := referralURLs(wantCode(t, err, fakead.Referral)); !slices.Equal(got, []string{"ldap://other.com/DC=other,DC=com"}) {
		t.Errorf("paged: referral %q", got)
	}
	_, err = c.Search(searchReq("OU=Nope,"+baseDN, ldap.ScopeWholeSubtree, "(objectClass=*)"))
	le := wantCode(t, err, fakead.NoSuchObject)
	if d := diagOf(le); !strings.HasPrefix(d, "0000208D: ") {
		t.Errorf("missing base under the domain: diagnostic %q", d)
	}
}

// tokenGroups in a one-level or subtree search is refused with operationsError; base works.
func TestWireTokenGroupsNonBase(t *testing.T) {
	c := startModel(t, ldapsrv.Options{}, nil)
	res, err := c.Search(searchReq(adminDN, ldap.ScopeBaseObject, "(objectClass=*)", "tokenGroups"))
	if err != nil || len(res.Entries) != 1 || len(res.Entries[0].GetRawAttributeValues("tokenGroups")) == 0 {
		t.Fatalf("base search for tokenGroups: %v, %v", res, err)
	}
	for _, scope := range []int{ldap.ScopeSingleLevel, ldap.ScopeWholeSubtree} {
		res, err := c.Search(searchReq("CN=Users,"+baseDN, scope, "(sAMAccountName=Administrator)", "tokenGroups"))
		le := wantCode(t, err, fakead.OperationsError)
		if res != nil && len(res.Entries) > 0 {
			t.Errorf("scope %d: %d entries before the error", scope, len(res.Entries))
		}
		if d := diagOf(le); !strings.HasPrefix(d, "00002120: ") {
			t.Errorf("scope %d: diagnostic %q, want ERROR_DS_NON_BASE_SEARCH (00002120)", scope, d)
		}
	}
	res, err = c.Search(searchReq("CN=Users,"+baseDN, ldap.ScopeWholeSubtree, "(sAMAccountName=nobody)", "tokenGroups"))
	if err != nil || len(res.Entries) != 0 {
		t.Fatalf("a subtree search for tokenGroups that finds nothing: %v, %v", res, err)
	}
}
