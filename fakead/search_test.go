package fakead

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gmsasim/gmsasim/ad"
)

func names(se SearchEntry) []string {
	var out []string
	for _, a := range se.Attributes {
		out = append(out, a.Name)
	}
	return out
}

func TestAttributeSelection(t *testing.T) {
	d := newTestDomain(t)[0]
	adm := adminCaller(t, d)
	dn := "CN=Administrator,CN=Users,DC=contoso,DC=com"
	all := search(t, d, adm, dn, ScopeBase, "(objectClass=*)")
	star := search(t, d, adm, dn, ScopeBase, "(objectClass=*)", "*")
	if !slices.Equal(names(all[0]), names(star[0])) {
		t.Errorf("no list and * differ: %v vs %v", names(all[0]), names(star[0]))
	}
	for _, want := range []string{"objectClass", "cn", "objectGUID", "objectSid", "sAMAccountName", "memberOf", "whenCreated", "uSNChanged", "distinguishedName"} {
		if !slices.Contains(names(all[0]), want) {
			t.Errorf("* lacks %s", want)
		}
	}
	for _, never := range []string{"unicodePwd", "supplementalCredentials", "tokenGroups", "msDS-KeyVersionNumber", "createTimeStamp"} {
		if slices.Contains(names(all[0]), never) {
			t.Errorf("* returns %s", never)
		}
	}
	none := search(t, d, adm, dn, ScopeBase, "(objectClass=*)", "1.1")
	if len(none[0].Attributes) != 0 {
		t.Errorf("1.1 returned %v", names(none[0]))
	}
	named := search(t, d, adm, dn, ScopeBase, "(objectClass=*)", "SAMACCOUNTNAME", "noSuchAttr", "objectsid")
	if got := names(named[0]); !slices.Equal(got, []string{"sAMAccountName", "objectSid"}) {
		t.Errorf("named: %v", got)
	}
	// AD has no RFC 3673: "+" is an unknown name and selects nothing; operational attributes come
	// when named.
	ops := search(t, d, adm, dn, ScopeBase, "(objectClass=*)", "+")
	if len(ops[0].Attributes) != 0 {
		t.Errorf("+ returned %v", names(ops[0]))
	}
	ops = search(t, d, adm, dn, ScopeBase, "(objectClass=*)", "createTimeStamp", "modifyTimeStamp", "canonicalName", "msDS-KeyVersionNumber")
	for _, want := range []string{"createTimeStamp", "modifyTimeStamp", "canonicalName", "msDS-KeyVersionNumber"} {
		if !slices.Contains(names(ops[0]), want) {
			t.Errorf("named operational attributes lack %s: %v", want, names(ops[0]))
		}
	}
	if got := attrOf(ops[0], "canonicalName"); !slices.Equal(got, []string{"contoso.com/Users/Administrator"}) {
		t.Errorf("canonicalName %v", got)
	}
	f, _ := ParseFilter("(objectClass=*)")
	to, err := d.Search(t0, adm, &SearchRequest{BaseDN: dn, Scope: ScopeBase, Filter: f, Attributes: []string{"cn", "description"}, TypesOnly: true})
	if err != nil || len(to[0].Attributes) != 2 || to[0].Attributes[0].Values != nil {
		t.Errorf("typesOnly: %+v %v", to, err)
	}
}

func TestSizeLimit(t *testing.T) {
	d := newTestDomain(t)[0]
	f, _ := ParseFilter("(objectClass=group)")
	res, err := d.Search(t0, SystemCaller, &SearchRequest{BaseDN: "DC=contoso,DC=com", Scope: ScopeSub, Filter: f, SizeLimit: 5, Attributes: []string{"1.1"}})
	if CodeOf(err) != SizeLimitExceeded || len(res) != 5 {
		t.Errorf("size limit: %d entries, %v", len(res), err)
	}
	res, err = d.Search(t0, SystemCaller, &SearchRequest{BaseDN: "CN=Users,DC=contoso,DC=com", Scope: ScopeBase, Filter: f, SizeLimit: 1})
	if err != nil || len(res) != 0 {
		t.Errorf("no match under the limit: %d, %v", len(res), err)
	}
}

func TestTokenGroupsBaseOnly(t *testing.T) {
	d := newTestDomain(t)[0]
	adm := adminCaller(t, d)
	dn := "CN=Administrator,CN=Users,DC=contoso,DC=com"
	base := search(t, d, adm, dn, ScopeBase, "(objectClass=*)", "tokenGroups")
	var sids []string
	for _, v := range attrOf(base[0], "tokenGroups") {
		s, err := ad.SIDFromBytes([]byte(v))
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, s.String())
	}
	for _, want := range []string{testSID + "-512", testSID + "-513", testSID + "-519", "S-1-5-32-544", "S-1-5-32-545"} {
		if !slices.Contains(sids, want) {
			t.Errorf("tokenGroups lacks %s: %v", want, sids)
		}
	}
	// Asked in a one-level or subtree search, AD refuses tokenGroups (operationsError) as soon as
	// the search finds an entry; one that finds none succeeds.
	f, _ := ParseFilter("(sAMAccountName=Administrator)")
	for _, scope := range []Scope{ScopeSub, ScopeOne} {
		res, err := d.Search(t0, adm, &SearchRequest{BaseDN: "CN=Users,DC=contoso,DC=com", Scope: scope, Filter: f, Attributes: []string{"tokenGroups"}})
		if CodeOf(err) != OperationsError || len(res) != 0 {
			t.Errorf("scope %d: tokenGroups on a non-base search: %d entries, %v", scope, len(res), err)
		}
		var fe *Error
		if errors.As(err, &fe) && !strings.HasPrefix(fe.Diag, "00002120: ") {
			t.Errorf("diagnostic %q, want ERROR_DS_NON_BASE_SEARCH (00002120)", fe.Diag)
		}
	}
	none, _ := ParseFilter("(sAMAccountName=nobody)")
	res, err := d.Search(t0, adm, &SearchRequest{BaseDN: "CN=Users,DC=contoso,DC=com", Scope: ScopeSub, Filter: none, Attributes: []string{"tokenGroups"}})
	if err != nil || len(res) != 0 {
		t.Errorf("tokenGroups on a subtree search finding nothing: %d entries, %v", len(res), err)
	}
}

// msDS-ManagedPassword in a search: the blob for a caller msDS-GroupMSAMembership grants, only when
// named, 0000202D over an unencrypted connection, nothing for objects of other classes or for a
// caller the descriptor does not grant.
func TestManagedPasswordSearch(t *testing.T) {
	d := newTestDomain(t)[0]
	adm := adminCaller(t, d)
	dn := "CN=svc,CN=Managed Service Accounts,DC=contoso,DC=com"
	addUsableRootKey(t, d)
	sd, err := ad.GMSAMembershipSD(testSID + "-500")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Add(t0, adm, dn, []Attribute{sattr("objectClass", "msDS-GroupManagedServiceAccount"), sattr("sAMAccountName", "svc$"),
		sattr("dNSHostName", "svc.contoso.com"), sattr("msDS-ManagedPasswordInterval", "30"),
		{Name: "msDS-GroupMSAMembership", Values: [][]byte{sd}}}); err != nil {
		t.Fatal(err)
	}
	want, err := d.ManagedPassword(t0, dn)
	if err != nil {
		t.Fatal(err)
	}
	res := search(t, d, adm, dn, ScopeBase, "(objectClass=*)", "msDS-ManagedPassword")
	if got := attrOf(res[0], "msDS-ManagedPassword"); !slices.Equal(got, []string{string(want.Blob)}) {
		t.Errorf("msDS-ManagedPassword %x, want the blob %x", got, want.Blob)
	}
	if all := search(t, d, adm, dn, ScopeBase, "(objectClass=*)"); attrOf(all[0], "msDS-ManagedPassword") != nil {
		t.Error("constructed attribute returned without being named")
	}
	plain := adm
	plain.Encrypted = false
	f, _ := ParseFilter("(objectClass=*)")
	_, err = d.Search(t0, plain, &SearchRequest{BaseDN: dn, Scope: ScopeBase, Filter: f, Attributes: []string{"msDS-ManagedPassword"}})
	var e *Error
	if !errors.As(err, &e) || e.Code != OperationsError || !strings.HasPrefix(e.Diag, "0000202D") {
		t.Errorf("unencrypted read: %v", err)
	}
	// Objects whose class has no such attribute are returned without it, encrypted or not.
	users, err := d.Search(t0, plain, &SearchRequest{BaseDN: "CN=Users,DC=contoso,DC=com", Scope: ScopeOne, Filter: f,
		Attributes: []string{"msDS-ManagedPassword", "cn"}})
	if err != nil || len(users) < 10 {
		t.Errorf("users over plain LDAP asking for msDS-ManagedPassword: %d, %v", len(users), err)
	}
	other, err := d.CallerFor("CN=krbtgt,CN=Users,DC=contoso,DC=com", true)
	if err != nil {
		t.Fatal(err)
	}
	res = search(t, d, other, dn, ScopeBase, "(objectClass=*)", "msDS-ManagedPassword", "cn")
	if attrOf(res[0], "msDS-ManagedPassword") != nil || attrOf(res[0], "cn") == nil {
		t.Errorf("denied caller: %+v", res)
	}
}

func TestSubschema(t *testing.T) {
	d := newTestDomain(t)[0]
	adm := adminCaller(t, d)
	rd := search(t, d, SystemCaller, "", ScopeBase, "(objectClass=*)", "subschemaSubentry")
	ss := attrOf(rd[0], "subschemaSubentry")[0]
	if ss != "CN=Aggregate,CN=Schema,CN=Configuration,DC=contoso,DC=com" {
		t.Fatalf("subschemaSubentry %s", ss)
	}
	res := search(t, d, adm, ss, ScopeBase, "(objectClass=subSchema)", "attributeTypes", "objectClasses", "modifyTimeStamp")
	at := attrOf(res[0], "attributeTypes")
	if !slices.Contains(at, "( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' SYNTAX '1.3.6.1.4.1.1466.115.121.1.15' SINGLE-VALUE )") {
		t.Errorf("sAMAccountName type missing; first: %s", at[0])
	}
	oc := attrOf(res[0], "objectClasses")
	found := false
	for _, v := range oc {
		if strings.HasPrefix(v, "( 1.2.840.113556.1.5.9 NAME 'user' SUP organizationalPerson STRUCTURAL") {
			found = true
		}
	}
	if !found || len(at) != 1473 || len(oc) != 264 || len(attrOf(res[0], "modifyTimeStamp")) != 1 {
		t.Errorf("subschema: user class %v, %d types, %d classes", found, len(at), len(oc))
	}
}

func TestModifyDNAndCompare(t *testing.T) {
	d := filterFixture(t)
	adm := adminCaller(t, d)
	if err := d.ModifyDN(t0, adm, "CN=bob,OU=Lab,DC=contoso,DC=com", "CN=robert", true, "CN=Users,DC=contoso,DC=com"); err != nil {
		t.Fatal(err)
	}
	res := search(t, d, adm, "CN=robert,CN=Users,DC=contoso,DC=com", ScopeBase, "(objectClass=*)", "cn", "name", "distinguishedName", "memberOf")
	if attrOf(res[0], "cn")[0] != "robert" || attrOf(res[0], "name")[0] != "robert" ||
		attrOf(res[0], "distinguishedName")[0] != "CN=robert,CN=Users,DC=contoso,DC=com" {
		t.Errorf("renamed: %+v", res)
	}
	if got := attrOf(res[0], "memberOf"); !slices.Equal(got, []string{"CN=G2,OU=Lab,DC=contoso,DC=com"}) {
		t.Errorf("memberOf after move %v", got)
	}
	g2 := search(t, d, adm, "CN=G2,OU=Lab,DC=contoso,DC=com", ScopeBase, "(objectClass=*)", "member")
	if got := attrOf(g2[0], "member"); !slices.Equal(got, []string{"CN=robert,CN=Users,DC=contoso,DC=com"}) {
		t.Errorf("member after move %v", got)
	}
	// Moving a container moves its subtree.
	if err := d.ModifyDN(t0, adm, "OU=Lab,DC=contoso,DC=com", "OU=Lab2", true, ""); err != nil {
		t.Fatal(err)
	}
	if res := search(t, d, adm, "OU=Lab2,DC=contoso,DC=com", ScopeSub, "(sAMAccountName=alice)", "1.1"); len(res) != 1 ||
		res[0].DN != "CN=alice,OU=Lab2,DC=contoso,DC=com" {
		t.Errorf("subtree move: %v", dns(res))
	}
	if err := d.ModifyDN(t0, adm, "CN=alice,OU=Lab2,DC=contoso,DC=com", "CN=G1", true, ""); CodeOf(err) != EntryAlreadyExists {
		t.Errorf("rename onto an existing DN: %v", err)
	}
	ok, err := d.Compare(t0, adm, "CN=alice,OU=Lab2,DC=contoso,DC=com", "sAMAccountName", []byte("ALICE"))
	if err != nil || !ok {
		t.Errorf("compare true: %v %v", ok, err)
	}
	ok, err = d.Compare(t0, adm, "CN=alice,OU=Lab2,DC=contoso,DC=com", "description", []byte("nope"))
	if err != nil || ok {
		t.Errorf("compare false: %v %v", ok, err)
	}
	if _, err := d.Compare(t0, adm, "CN=alice,OU=Lab2,DC=contoso,DC=com", "unicodePwd", []byte("x")); CodeOf(err) != NoSuchAttribute {
		t.Errorf("compare on a secret: %v", err)
	}
}

func TestDeletedObjectsHidden(t *testing.T) {
	d := newTestDomain(t)[0]
	adm := adminCaller(t, d)
	if res := search(t, d, adm, "DC=contoso,DC=com", ScopeSub, "(isDeleted=TRUE)", "1.1"); len(res) != 0 {
		t.Errorf("deleted objects visible: %v", dns(res))
	}
	_, err := d.Search(t0, adm, &SearchRequest{BaseDN: "CN=Deleted Objects,DC=contoso,DC=com", Scope: ScopeBase, Filter: FilterPresent{Attr: "objectClass"}})
	if CodeOf(err) != NoSuchObject {
		t.Errorf("base search of Deleted Objects: %v", err)
	}
}

func TestSubtreeStaysInNamingContext(t *testing.T) {
	d := newTestDomain(t)[0]
	adm := adminCaller(t, d)
	for _, r := range search(t, d, adm, "DC=contoso,DC=com", ScopeSub, "(objectClass=*)", "1.1") {
		if strings.HasSuffix(r.DN, "CN=Configuration,DC=contoso,DC=com") {
			t.Fatalf("domain subtree search returned %s", r.DN)
		}
	}
	if res := search(t, d, adm, "CN=Configuration,DC=contoso,DC=com", ScopeSub, "(objectClass=dMD)", "1.1"); len(res) != 0 {
		t.Errorf("configuration subtree search entered the schema NC: %v", dns(res))
	}
	if res := search(t, d, adm, "CN=Configuration,DC=contoso,DC=com", ScopeSub, "(objectClass=nTDSDSA)", "1.1"); len(res) != 1 {
		t.Errorf("NTDS Settings: %v", dns(res))
	}
}

// TestSchemaNCSharedSafely: the schema objects are shared between replicas and worlds; searches
// from several goroutines must not race (run with -race).
func TestSchemaNCSharedSafely(t *testing.T) {
	ds := newTestDomain(t, DCConfig{Name: "DC1", OS: "2022"}, DCConfig{Name: "DC2", OS: "2022"})
	done := make(chan int, len(ds))
	for _, d := range ds {
		go func(d *Directory) {
			n := 0
			for i := 0; i < 20; i++ {
				f, _ := ParseFilter("(|(lDAPDisplayName=user)(lDAPDisplayName=member)(cn=*Account*))")
				res, err := d.Search(t0, SystemCaller, &SearchRequest{BaseDN: d.SchemaDN(), Scope: ScopeSub, Filter: f, Attributes: []string{"*", "+"}})
				if err == nil {
					n = len(res)
				}
			}
			done <- n
		}(d)
	}
	a, b := <-done, <-done
	if a != b || a < 10 {
		t.Errorf("schema searches: %d and %d entries", a, b)
	}
}
