package fakead

import (
	"testing"
)

func TestParseDN(t *testing.T) {
	tests := []struct {
		in      string
		want    DN
		str     string
		key     string
		wantErr bool
	}{
		{in: "", want: nil, str: "", key: ""},
		{in: "CN=Users,DC=contoso,DC=com", want: DN{{"CN", "Users"}, {"DC", "contoso"}, {"DC", "com"}},
			str: "CN=Users,DC=contoso,DC=com", key: "cn=users,dc=contoso,dc=com"},
		{in: "cn = Smith\\, John , dc=contoso", want: DN{{"cn", "Smith, John"}, {"dc", "contoso"}},
			str: "cn=Smith\\, John,dc=contoso", key: "cn=smith\\, john,dc=contoso"},
		{in: `CN=ITFarm1\0ADEL:6f1d2c1e-5b7a-4c1f-9a0e-2b8f4f1c3d55,CN=Deleted Objects,DC=contoso,DC=com`,
			want: DN{{"CN", "ITFarm1\nDEL:6f1d2c1e-5b7a-4c1f-9a0e-2b8f4f1c3d55"}, {"CN", "Deleted Objects"}, {"DC", "contoso"}, {"DC", "com"}},
			str:  `CN=ITFarm1\0ADEL:6f1d2c1e-5b7a-4c1f-9a0e-2b8f4f1c3d55,CN=Deleted Objects,DC=contoso,DC=com`,
			key:  `cn=itfarm1\0Adel:6f1d2c1e-5b7a-4c1f-9a0e-2b8f4f1c3d55,cn=deleted objects,dc=contoso,dc=com`},
		{in: `CN="a,b",DC=x`, want: DN{{"CN", "a,b"}, {"DC", "x"}}, str: `CN=a\,b,DC=x`, key: `cn=a\,b,dc=x`},
		{in: `CN=trail\ ,DC=x`, want: DN{{"CN", "trail "}, {"DC", "x"}}, str: `CN=trail\ ,DC=x`, key: `cn=trail\ ,dc=x`},
		{in: `CN=#04024869`, want: DN{{"CN", "#04024869"}}, str: `CN=\#04024869`, key: `cn=\#04024869`},
		{in: "CN=a+OU=b,DC=x", wantErr: true},
		{in: "CN", wantErr: true},
		{in: "CN=a,", wantErr: true},
		{in: `CN=a\`, wantErr: true},
		{in: `CN=a\4`, wantErr: true},
		{in: `CN="abc`, wantErr: true},
		{in: "C N=x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDN(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseDN(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDN(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) || len(got) != len(tt.want) {
			t.Errorf("ParseDN(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if got.String() != tt.str {
			t.Errorf("ParseDN(%q).String() = %q, want %q", tt.in, got.String(), tt.str)
		}
		if got.Key() != tt.key {
			t.Errorf("ParseDN(%q).Key() = %q, want %q", tt.in, got.Key(), tt.key)
		}
		back, err := ParseDN(got.String())
		if err != nil || back.Key() != got.Key() {
			t.Errorf("round trip of %q: %v, %v", got.String(), back, err)
		}
	}
}

func TestDNRelations(t *testing.T) {
	users := MustParseDN("CN=Users,DC=contoso,DC=com")
	alice := users.Child("CN", "alice")
	if alice.String() != "CN=alice,CN=Users,DC=contoso,DC=com" {
		t.Fatalf("Child = %q", alice)
	}
	if !alice.IsUnder(MustParseDN("dc=CONTOSO,dc=com")) || !alice.IsUnder(alice) {
		t.Error("IsUnder: alice should be under the domain and under itself")
	}
	if users.IsUnder(alice) || alice.IsUnder(MustParseDN("DC=fabrikam,DC=com")) {
		t.Error("IsUnder: false positives")
	}
	if !alice.Parent().Equal(users) || alice.RDN() != (RDN{"CN", "alice"}) {
		t.Errorf("Parent/RDN: %v %v", alice.Parent(), alice.RDN())
	}
	if DN(nil).Parent() != nil || !DN(nil).IsZero() {
		t.Error("empty DN")
	}
}
