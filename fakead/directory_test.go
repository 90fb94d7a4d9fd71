package fakead

import (
	"slices"
	"testing"

	"github.com/gmsasim/gmsasim/ad"
)

func TestNewDomainBindSearch(t *testing.T) {
	ds := newTestDomain(t)
	d := ds[0]
	c := adminCaller(t, d)
	if c.DN != "CN=Administrator,CN=Users,DC=contoso,DC=com" || c.SID != testSID+"-500" {
		t.Fatalf("admin caller %+v", c)
	}
	for _, want := range []string{testSID + "-512", testSID + "-513", testSID + "-519", "S-1-5-32-544", "S-1-1-0", "S-1-5-11"} {
		if !slices.Contains(c.Token, want) {
			t.Errorf("admin token lacks %s: %v", want, c.Token)
		}
	}
	res := search(t, d, c, "CN=Schema,CN=Configuration,DC=contoso,DC=com", ScopeBase, "(objectClass=*)", "objectVersion")
	if len(res) != 1 || !slices.Equal(attrOf(res[0], "objectVersion"), []string{"88"}) {
		t.Fatalf("schema objectVersion: %+v", res)
	}
	res = search(t, d, c, "DC=contoso,DC=com", ScopeSub, "(sAMAccountName=krbtgt)", "objectSid", "userAccountControl")
	if len(res) != 1 || res[0].DN != "CN=krbtgt,CN=Users,DC=contoso,DC=com" {
		t.Fatalf("krbtgt: %v", dns(res))
	}
	if got := attrOf(res[0], "userAccountControl"); !slices.Equal(got, []string{"514"}) {
		t.Errorf("krbtgt uac %v", got)
	}
	sid, _ := ad.SIDFromBytes([]byte(attrOf(res[0], "objectSid")[0]))
	if sid.String() != testSID+"-502" {
		t.Errorf("krbtgt sid %s", sid)
	}
	res = search(t, d, c, "DC=contoso,DC=com", ScopeSub, "(userAccountControl:1.2.840.113556.1.4.803:=2)", "1.1")
	got := dns(res)
	slices.Sort(got)
	want := []string{"CN=Guest,CN=Users,DC=contoso,DC=com", "CN=krbtgt,CN=Users,DC=contoso,DC=com"}
	if !slices.Equal(got, want) {
		t.Errorf("disabled accounts: %v", got)
	}
	// Well-known RIDs and builtin SIDs from the reference data.
	for rid, name := range map[string]string{"512": "Domain Admins", "513": "Domain Users", "515": "Domain Computers",
		"516": "Domain Controllers", "518": "Schema Admins", "519": "Enterprise Admins", "501": "Guest"} {
		res := search(t, d, c, "DC=contoso,DC=com", ScopeSub, "(objectSid="+testSID+"-"+rid+")", "sAMAccountName")
		if len(res) != 1 || attrOf(res[0], "sAMAccountName")[0] != name {
			t.Errorf("RID %s: %v", rid, res)
		}
	}
	for sid, name := range map[string]string{"S-1-5-32-544": "Administrators", "S-1-5-32-548": "Account Operators"} {
		res := search(t, d, c, "CN=Builtin,DC=contoso,DC=com", ScopeOne, "(objectSid="+sid+")", "sAMAccountName")
		if len(res) != 1 || attrOf(res[0], "sAMAccountName")[0] != name {
			t.Errorf("%s: %v", sid, res)
		}
	}
	res = search(t, d, c, "OU=Domain Controllers,DC=contoso,DC=com", ScopeOne, "(objectCategory=computer)", "userAccountControl", "dNSHostName", "primaryGroupID", "objectClass", "operatingSystem")
	if len(res) != 1 || attrOf(res[0], "dNSHostName")[0] != "dc1.contoso.com" || attrOf(res[0], "userAccountControl")[0] != "532480" ||
		attrOf(res[0], "primaryGroupID")[0] != "516" {
		t.Fatalf("DC account %+v", res)
	}
	if oc := attrOf(res[0], "objectClass"); !slices.Equal(oc, []string{"top", "person", "organizationalPerson", "user", "computer"}) {
		t.Errorf("DC objectClass %v", oc)
	}
	res = search(t, d, c, "CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,DC=contoso,DC=com", ScopeBase, "(objectClass=*)", "cn")
	if len(res) != 1 {
		t.Errorf("master root keys container missing")
	}
}

func TestAnonymous(t *testing.T) {
	d := newTestDomain(t)[0]
	anon, err := d.Bind(t0, "", "", false)
	if err != nil || !anon.Anonymous() {
		t.Fatalf("anonymous bind: %v %+v", err, anon)
	}
	res := search(t, d, anon, "", ScopeBase, "(objectClass=*)")
	if len(res) != 1 || attrOf(res[0], "defaultNamingContext")[0] != "DC=contoso,DC=com" ||
		attrOf(res[0], "dnsHostName")[0] != "dc1.contoso.com" || attrOf(res[0], "currentTime")[0] != "20261122011844.0Z" {
		t.Fatalf("rootDSE %+v", res)
	}
	f, _ := ParseFilter("(objectClass=user)")
	got, err := d.Search(t0, anon, &SearchRequest{BaseDN: "DC=contoso,DC=com", Scope: ScopeSub, Filter: f})
	if len(got) != 0 || CodeOf(err) != OperationsError {
		t.Fatalf("anonymous subtree search: %d entries, %v", len(got), err)
	}
}

func TestBindErrors(t *testing.T) {
	d := newTestDomain(t)[0]
	_, err := d.Bind(t0, "CONTOSO\\Administrator", "wrong", false)
	if e, ok := err.(*Error); !ok || e.Code != InvalidCredentials || e.Diag != diagBadCreds {
		t.Fatalf("wrong password: %v", err)
	}
	for _, name := range []string{"CONTOSO\\Administrator", "Administrator@contoso.com", "CN=Administrator,CN=Users,DC=contoso,DC=com", "administrator"} {
		if c, err := d.Bind(t0, name, "P@ssw0rd!", false); err != nil || c.SID != testSID+"-500" {
			t.Errorf("bind %s: %v", name, err)
		}
	}
}

func TestAddModifyDelete(t *testing.T) {
	d := newTestDomain(t)[0]
	adm := adminCaller(t, d)
	dn := "CN=alice,CN=Users,DC=contoso,DC=com"
	err := d.Add(t0, adm, dn, []Attribute{
		{Name: "objectClass", Values: [][]byte{[]byte("user")}},
		{Name: "sAMAccountName", Values: [][]byte{[]byte("alice")}},
		{Name: "userPrincipalName", Values: [][]byte{[]byte("alice@contoso.com")}},
		{Name: "unicodePwd", Values: [][]byte{utf16Quoted("Alice1!")}},
		{Name: "userAccountControl", Values: [][]byte{[]byte("512")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := d.Bind(t0, "alice@contoso.com", "Alice1!", false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(alice.Token, testSID+"-513") || alice.SID != testSID+"-1100" {
		t.Errorf("alice token %v", alice.Token)
	}
	res := search(t, d, adm, dn, ScopeBase, "(objectClass=*)")
	if oc := attrOf(res[0], "objectClass"); !slices.Equal(oc, []string{"top", "person", "organizationalPerson", "user"}) {
		t.Errorf("objectClass %v", oc)
	}
	if attrOf(res[0], "unicodePwd") != nil || attrOf(res[0], "supplementalCredentials") != nil {
		t.Error("secret returned")
	}
	if got := attrOf(res[0], "objectCategory"); got[0] != "CN=Person,CN=Schema,CN=Configuration,DC=contoso,DC=com" {
		t.Errorf("objectCategory %v", got)
	}
	if got := attrOf(res[0], "sAMAccountType"); got[0] != "805306368" {
		t.Errorf("sAMAccountType %v", got)
	}
	// Errors.
	if err := d.Add(t0, adm, dn, []Attribute{{Name: "objectClass", Values: [][]byte{[]byte("user")}}}); CodeOf(err) != EntryAlreadyExists {
		t.Errorf("duplicate add: %v", err)
	}
	err = d.Add(t0, adm, "CN=x,OU=Nope,DC=contoso,DC=com", []Attribute{{Name: "objectClass", Values: [][]byte{[]byte("user")}}})
	if e, ok := err.(*Error); !ok || e.Code != NoSuchObject || e.MatchedDN != "DC=contoso,DC=com" {
		t.Errorf("missing parent: %v", err)
	}
	if err := d.Add(t0, adm, "CN=y,CN=Users,DC=contoso,DC=com", []Attribute{{Name: "objectClass", Values: [][]byte{[]byte("user")}}, {Name: "bogusAttr", Values: [][]byte{[]byte("1")}}}); CodeOf(err) != UndefinedAttributeType {
		t.Errorf("undefined attribute: %v", err)
	}
	if err := d.Add(t0, adm, "CN=y,CN=Users,DC=contoso,DC=com", []Attribute{{Name: "objectClass", Values: [][]byte{[]byte("user")}}, {Name: "msKds-RootKeyData", Values: [][]byte{[]byte("1")}}}); CodeOf(err) != ObjectClassViolation {
		t.Errorf("not allowed attribute: %v", err)
	}
	if err := d.Add(t0, adm, "CN=z,CN=Users,DC=contoso,DC=com", []Attribute{{Name: "objectClass", Values: [][]byte{[]byte("user")}}, {Name: "sAMAccountName", Values: [][]byte{[]byte("ALICE")}}}); CodeOf(err) != EntryAlreadyExists {
		t.Errorf("duplicate sAMAccountName: %v", err)
	}
	if err := d.Add(t0, alice, "CN=w,CN=Users,DC=contoso,DC=com", []Attribute{{Name: "objectClass", Values: [][]byte{[]byte("user")}}}); CodeOf(err) != InsufficientAccessRights {
		t.Errorf("alice creating a user: %v", err)
	}
	// Modify.
	err = d.Modify(t0, adm, dn, []Modification{{Op: ModReplace, Attr: Attribute{Name: "description", Values: [][]byte{[]byte("hello")}}}})
	if err != nil {
		t.Fatal(err)
	}
	res = search(t, d, adm, "DC=contoso,DC=com", ScopeSub, "(description=HELLO)", "description")
	if len(res) != 1 || attrOf(res[0], "description")[0] != "hello" {
		t.Errorf("modify: %+v", res)
	}
	if err := d.Modify(t0, adm, dn, []Modification{{Op: ModAdd, Attr: Attribute{Name: "userAccountControl", Values: [][]byte{[]byte("2")}}}}); CodeOf(err) != ConstraintViolation && CodeOf(err) != AttributeOrValueExists {
		t.Errorf("second value on single-valued: %v", err)
	}
	if err := d.Modify(t0, alice, "CN=Domain Admins,CN=Users,DC=contoso,DC=com", []Modification{{Op: ModAdd, Attr: Attribute{Name: "member", Values: [][]byte{[]byte(dn)}}}}); CodeOf(err) != InsufficientAccessRights {
		t.Errorf("alice joining Domain Admins: %v", err)
	}
	// Group membership and memberOf.
	if err := d.Add(t0, adm, "CN=ITFarmHosts,CN=Users,DC=contoso,DC=com", []Attribute{{Name: "objectClass", Values: [][]byte{[]byte("group")}}, {Name: "member", Values: [][]byte{[]byte(dn)}}}); err != nil {
		t.Fatal(err)
	}
	res = search(t, d, adm, dn, ScopeBase, "(objectClass=*)", "memberOf")
	if got := attrOf(res[0], "memberOf"); !slices.Equal(got, []string{"CN=ITFarmHosts,CN=Users,DC=contoso,DC=com"}) {
		t.Errorf("memberOf %v", got)
	}
	// Delete.
	if err := d.Delete(t0, adm, "CN=Users,DC=contoso,DC=com"); CodeOf(err) != NotAllowedOnNonLeaf {
		t.Errorf("delete non-leaf: %v", err)
	}
	if err := d.Delete(t0, adm, dn); err != nil {
		t.Fatal(err)
	}
	if res := search(t, d, adm, "DC=contoso,DC=com", ScopeSub, "(sAMAccountName=alice)"); len(res) != 0 {
		t.Errorf("deleted alice still found: %v", dns(res))
	}
	res = search(t, d, adm, "CN=ITFarmHosts,CN=Users,DC=contoso,DC=com", ScopeBase, "(objectClass=*)", "member")
	if got := attrOf(res[0], "member"); got != nil {
		t.Errorf("member after delete %v", got)
	}
}
