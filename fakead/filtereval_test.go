package fakead

import (
	"slices"
	"testing"

	"github.com/gmsasim/gmsasim/ad"
)

// filterFixture adds users and nested groups:
//
//	G1 ∋ alice, G2 ; G2 ∋ bob ; G3 ∋ G1 (so bob ∈ G2 ∈ G1 ∈ G3)
func filterFixture(t *testing.T) *Directory {
	d := newTestDomain(t)[0]
	add := func(dn string, attrs ...Attribute) {
		t.Helper()
		if err := d.Add(t0, SystemCaller, dn, attrs); err != nil {
			t.Fatalf("%s: %v", dn, err)
		}
	}
	a := func(name string, vals ...string) Attribute { return sattr(name, vals...) }
	add("OU=Lab,DC=contoso,DC=com", a("objectClass", "organizationalUnit"))
	add("CN=alice,OU=Lab,DC=contoso,DC=com", a("objectClass", "user"), a("sAMAccountName", "alice"),
		a("userAccountControl", "512"), a("description", "Alice Liddell"), a("mail", "alice@contoso.com"))
	add("CN=bob,OU=Lab,DC=contoso,DC=com", a("objectClass", "user"), a("sAMAccountName", "bob"),
		a("userAccountControl", "514"), a("description", "Bob"), a("telephoneNumber", "555 1234"))
	add("CN=web1,OU=Lab,DC=contoso,DC=com", a("objectClass", "computer"), a("sAMAccountName", "WEB1$"),
		a("dNSHostName", "web1.contoso.com"))
	add("CN=G2,OU=Lab,DC=contoso,DC=com", a("objectClass", "group"), a("member", "CN=bob,OU=Lab,DC=contoso,DC=com"))
	add("CN=G1,OU=Lab,DC=contoso,DC=com", a("objectClass", "group"),
		a("member", "CN=alice,OU=Lab,DC=contoso,DC=com", "CN=G2,OU=Lab,DC=contoso,DC=com"))
	add("CN=G3,OU=Lab,DC=contoso,DC=com", a("objectClass", "group"), a("member", "CN=G1,OU=Lab,DC=contoso,DC=com"),
		a("groupType", "-2147483644"))
	return d
}

func TestFilterEvaluation(t *testing.T) {
	d := filterFixture(t)
	tests := []struct {
		filter string
		want   []string // CNs under OU=Lab, in creation order
	}{
		{"(objectClass=*)", []string{"Lab", "alice", "bob", "web1", "G2", "G1", "G3"}},
		{"(objectClass=user)", []string{"alice", "bob", "web1"}},
		{"(objectClass=USER)", []string{"alice", "bob", "web1"}},
		{"(objectCategory=person)", []string{"alice", "bob"}},
		{"(objectCategory=computer)", []string{"web1"}},
		{"(objectCategory=CN=Group,CN=Schema,CN=Configuration,DC=contoso,DC=com)", []string{"G2", "G1", "G3"}},
		{"(sAMAccountName=ALICE)", []string{"alice"}},
		{"(&(objectClass=user)(!(sAMAccountName=alice)))", []string{"bob", "web1"}},
		{"(|(sAMAccountName=alice)(sAMAccountName=bob))", []string{"alice", "bob"}},
		{"(description=*liddell)", []string{"alice"}},
		{"(description=al*dell)", []string{"alice"}},
		{"(description=*ce*id*)", []string{"alice"}},
		{"(description~=bob)", []string{"bob"}},
		{"(telephoneNumber=555 1234)", []string{"bob"}},
		{"(userAccountControl>=513)", []string{"bob", "web1"}},
		{"(userAccountControl<=512)", []string{"alice"}},
		{"(userAccountControl:1.2.840.113556.1.4.803:=2)", []string{"bob"}},
		{"(userAccountControl:1.2.840.113556.1.4.803:=4096)", []string{"web1"}},
		{"(userAccountControl:1.2.840.113556.1.4.804:=4098)", []string{"bob", "web1"}},
		{"(groupType:1.2.840.113556.1.4.803:=2147483648)", []string{"G2", "G1", "G3"}},
		{"(groupType:1.2.840.113556.1.4.803:=4)", []string{"G3"}},
		{"(memberOf=CN=G1,OU=Lab,DC=contoso,DC=com)", []string{"alice", "G2"}},
		{"(memberOf:1.2.840.113556.1.4.1941:=CN=G3,OU=Lab,DC=contoso,DC=com)", []string{"alice", "bob", "G2", "G1"}},
		{"(member:1.2.840.113556.1.4.1941:=CN=bob,OU=Lab,DC=contoso,DC=com)", []string{"G2", "G1", "G3"}},
		{"(memberOf=*)", []string{"alice", "bob", "G2", "G1"}},
		{"(member=cn=BOB,ou=lab,dc=contoso,dc=com)", []string{"G2"}},
		{"(dNSHostName=WEB1.contoso.com)", []string{"web1"}},
		// Undefined attributes: no match, no error; NOT of Undefined stays Undefined.
		{"(noSuchAttribute=1)", nil},
		{"(!(noSuchAttribute=1))", nil},
		{"(|(noSuchAttribute=1)(sAMAccountName=bob))", []string{"bob"}},
		{"(&)", []string{"Lab", "alice", "bob", "web1", "G2", "G1", "G3"}},
		{"(|)", nil},
		{"(userAccountControl=notanumber)", nil},
		{"(mail=alice@contoso.com)", []string{"alice"}},
	}
	for _, tc := range tests {
		res := search(t, d, SystemCaller, "OU=Lab,DC=contoso,DC=com", ScopeSub, tc.filter, "name")
		var got []string
		for _, r := range res {
			got = append(got, attrOf(r, "name")[0])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestFilterObjectSidForms(t *testing.T) {
	d := newTestDomain(t)[0]
	sid := ad.MustParseSID(testSID + "-512")
	byString := search(t, d, SystemCaller, "DC=contoso,DC=com", ScopeSub, "(objectSid="+sid.String()+")", "cn")
	var esc string
	for _, b := range sid.Bytes() {
		esc += "\\" + hex2(b)
	}
	byBytes := search(t, d, SystemCaller, "DC=contoso,DC=com", ScopeSub, "(objectSid="+esc+")", "cn")
	if len(byString) != 1 || len(byBytes) != 1 || byString[0].DN != byBytes[0].DN ||
		byString[0].DN != "CN=Domain Admins,CN=Users,DC=contoso,DC=com" {
		t.Errorf("objectSid: %v / %v", dns(byString), dns(byBytes))
	}
}

func hex2(b byte) string {
	const h = "0123456789abcdef"
	return string([]byte{h[b>>4], h[b&15]})
}

func TestSearchScopes(t *testing.T) {
	d := filterFixture(t)
	if got := dns(search(t, d, SystemCaller, "OU=Lab,DC=contoso,DC=com", ScopeOne, "(objectClass=group)", "1.1")); len(got) != 3 {
		t.Errorf("one level: %v", got)
	}
	if got := dns(search(t, d, SystemCaller, "OU=Lab,DC=contoso,DC=com", ScopeBase, "(objectClass=group)", "1.1")); len(got) != 0 {
		t.Errorf("base of an OU with a group filter: %v", got)
	}
	if got := dns(search(t, d, SystemCaller, "CN=Users,DC=contoso,DC=com", ScopeSub, "(sAMAccountName=alice)", "1.1")); len(got) != 0 {
		t.Errorf("alice outside CN=Users: %v", got)
	}
	_, err := d.Search(t0, SystemCaller, &SearchRequest{BaseDN: "OU=Nope,DC=contoso,DC=com", Scope: ScopeSub, Filter: FilterPresent{Attr: "objectClass"}})
	if e, ok := err.(*Error); !ok || e.Code != NoSuchObject || e.MatchedDN != "DC=contoso,DC=com" {
		t.Errorf("missing base: %v", err)
	}
}
