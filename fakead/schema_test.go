package fakead

import (
	"strings"
	"testing"
)

func TestSchemaFromReference(t *testing.T) {
	s, err := LoadSchema()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Attrs()); got != 1473 {
		t.Errorf("attributes: got %d, want 1473", got)
	}
	if got := len(s.Classes()); got != 264 {
		t.Errorf("classes: got %d, want 264", got)
	}
	tests := []struct {
		name   string
		syntax Syntax
		single bool
	}{
		{"sAMAccountName", SynCaseIgnore, true},
		{"SAMACCOUNTNAME", SynCaseIgnore, true},
		{"member", SynDN, false},
		{"objectSid", SynSID, true},
		{"userAccountControl", SynInteger, true},
		{"pwdLastSet", SynLargeInteger, true},
		{"isDeleted", SynBoolean, true},
		{"whenCreated", SynTime, true},
		{"nTSecurityDescriptor", SynSecurityDescriptor, true},
		{"objectGUID", SynOctet, true},
		{"servicePrincipalName", SynCaseIgnore, false},
		{"wellKnownObjects", SynDNBinary, false},
		{"1.2.840.113556.1.4.221", SynCaseIgnore, true},
	}
	for _, tc := range tests {
		a := s.Attr(tc.name)
		if a == nil {
			t.Errorf("%s: not in schema", tc.name)
			continue
		}
		if a.Syntax != tc.syntax || a.SingleValued != tc.single {
			t.Errorf("%s: syntax %d single %v, want %d %v", tc.name, a.Syntax, a.SingleValued, tc.syntax, tc.single)
		}
	}
	if mo := s.Attr("memberOf"); !mo.IsBackLink() || mo.ForwardLink() != s.Attr("member") {
		t.Errorf("memberOf: want back link of member, got linkID %d", mo.LinkID)
	}
	if !s.Attr("tokenGroups").Constructed() || s.Attr("member").Constructed() {
		t.Error("tokenGroups must be constructed, member not")
	}
	if !s.Attr("sAMAccountName").Indexed() {
		t.Error("sAMAccountName must be indexed")
	}
	var chain []string
	for _, c := range s.Class("computer").Chain() {
		chain = append(chain, c.Name)
	}
	if got := strings.Join(chain, ","); got != "top,person,organizationalPerson,user,computer" {
		t.Errorf("computer chain %s", got)
	}
	gmsa := s.Class("msDS-GroupManagedServiceAccount")
	for _, a := range []string{"msDS-GroupMSAMembership", "msDS-ManagedPasswordInterval", "sAMAccountName", "dNSHostName", "cn"} {
		if !gmsa.Allows(s.Attr(a)) {
			t.Errorf("gMSA must allow %s", a)
		}
	}
	if gmsa.Allows(s.Attr("msKds-RootKeyData")) {
		t.Error("gMSA must not allow msKds-RootKeyData")
	}
	rk := s.Class("msKds-ProvRootKey")
	for _, a := range []string{"cn", "msKds-CreateTime", "msKds-RootKeyData", "msKds-UseStartTime", "msKds-Version"} {
		if !rk.Requires(s.Attr(a)) {
			t.Errorf("msKds-ProvRootKey must require %s", a)
		}
	}
	if !s.Class("top").Requires(s.Attr("objectClass")) {
		t.Error("top must require objectClass")
	}
	if got := s.Class("user").DefaultObjectCategory; got != "Person" {
		t.Errorf("user defaultObjectCategory %q", got)
	}
}

func BenchmarkLoadSchemaParse(b *testing.B) {
	for b.Loop() {
		if _, err := parseSchema(schemaLDIF); err != nil {
			b.Fatal(err)
		}
	}
}
