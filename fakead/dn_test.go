package fakead

import (
	"testing"

	"github.com/gmsasim/gmsasim/ad"
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

func TestSID(t *testing.T) {
	// Well-known SID layout from [MS-DTYP] 2.4.2.2: S-1-5-32-544 (BUILTIN\Administrators).
	sid := ad.MustParseSID("S-1-5-32-544")
	want := []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0}
	if got := sid.Bytes(); string(got) != string(want) {
		t.Fatalf("Bytes = %x, want %x", got, want)
	}
	// objectSid of "Event Log Readers" in ad-reference/domain.ldif: AQIAAAAAAAUgAAAAPQIAAA== is S-1-5-32-573.
	back, err := ad.SIDFromBytes([]byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x3d, 2, 0, 0})
	if err != nil || back.String() != "S-1-5-32-573" || back.RID() != 573 {
		t.Fatalf("SIDFromBytes = %v %v", back, err)
	}
	dom := ad.MustParseSID("S-1-5-21-1004336348-1177238915-682003330")
	if got := dom.WithRID(512).String(); got != "S-1-5-21-1004336348-1177238915-682003330-512" {
		t.Errorf("WithRID = %s", got)
	}
	if !dom.WithRID(512).Domain().Equal(dom) {
		t.Error("Domain() should strip the RID")
	}
	for _, bad := range []string{"", "S-1", "S-2-5", "X-1-5", "S-1-5-x", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"} {
		if _, err := ad.ParseSID(bad); err == nil {
			t.Errorf("ad.ParseSID(%q) should fail", bad)
		}
	}
	for _, bad := range [][]byte{nil, {1, 1, 0, 0, 0, 0, 0, 5}, {2, 0, 0, 0, 0, 0, 0, 5}, {1, 16, 0, 0, 0, 0, 0, 5}} {
		if _, err := ad.SIDFromBytes(bad); err == nil {
			t.Errorf("ad.SIDFromBytes(%x) should fail", bad)
		}
	}
}

func TestGUID(t *testing.T) {
	// objectGUID of a container in ad-reference/domain.ldif: G7kHqwRyTEGImloFSZfl2Q== is
	// ab07b91b-7204-414c-889a-5a054997e5d9 (the first three fields little-endian, MS-DTYP 2.3.4).
	raw := []byte{0x1b, 0xb9, 0x07, 0xab, 0x04, 0x72, 0x4c, 0x41, 0x88, 0x9a, 0x5a, 0x05, 0x49, 0x97, 0xe5, 0xd9}
	g, err := ad.GUIDFromWire(raw)
	if err != nil || g.String() != "ab07b91b-7204-414c-889a-5a054997e5d9" {
		t.Fatalf("GUID = %v %v", g, err)
	}
	p, err := ad.ParseGUID("{AB07B91B-7204-414C-889A-5A054997E5D9}")
	if err != nil || p != g {
		t.Fatalf("ParseGUID = %v %v", p, err)
	}
	for _, bad := range []string{"", "ab07b91b72044", "zb07b91b-7204-414c-889a-5a054997e5d9", "ab07b91b-7204-414c-889a_5a054997e5d9"} {
		if _, err := ad.ParseGUID(bad); err == nil {
			t.Errorf("ad.ParseGUID(%q) should fail", bad)
		}
	}
}
