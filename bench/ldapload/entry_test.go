package main

import (
	"encoding/hex"
	"io"
	"reflect"
	"testing"
)

func TestSSHA(t *testing.T) {
	// Vector computed independently with Python: base64(hashlib.sha1(pw + salt).digest() + salt).
	got := SSHA("Bench-Passw0rd!", []byte{1, 2, 3, 4, 5, 6, 7, 8})
	if want := "{SSHA}VHYG6rY9sIlbMx0f+r6YY5s/My8BAgMEBQYHCA=="; got != want {
		t.Errorf("SSHA = %q, want %q", got, want)
	}
}

func TestUnicodePwd(t *testing.T) {
	// [MS-ADTS] 3.1.1.3.1.5.1 and Microsoft's "Set a Windows Active Directory user password via LDAP"
	// example: the value for newPassword is `"newPassword"` in UTF-16LE.
	got := hex.EncodeToString([]byte(UnicodePwd("newPassword")))
	if want := "22006e0065007700500061007300730077006f00720064002200"; got != want {
		t.Errorf("UnicodePwd = %s, want %s", got, want)
	}
}

func TestUserEntry(t *testing.T) {
	ad, err := parseConfig([]string{"-user-pw", "pw"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []Attr{
		{"objectClass", []string{"top", "person", "organizationalPerson", "user"}},
		{"cn", []string{"user7"}},
		{"sAMAccountName", []string{"user7"}},
		{"unicodePwd", []string{UnicodePwd("pw")}},
		{"userAccountControl", []string{"512"}},
	}
	if got := ad.UserEntry(7); !reflect.DeepEqual(got, want) {
		t.Errorf("ad UserEntry(7) = %q, want %q", got, want)
	}
	ad.UserPW = ""
	if got := ad.UserEntry(7); !reflect.DeepEqual(got, want[:3]) {
		t.Errorf("ad UserEntry(7) without password = %q, want %q", got, want[:3])
	}

	ldif, err := parseConfig([]string{"-profile", "inetorgperson", "-user-pw", "pw", "-seed", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := ldif.UserEntry(7)
	if len(got) != 5 || got[4].Type != "userPassword" || got[4].Values[0] != SSHA("pw", ldif.salt(7)) {
		t.Fatalf("inetorgperson UserEntry(7) = %q, want uid, cn, sn and an SSHA userPassword", got)
	}
	if !reflect.DeepEqual(got[:4], []Attr{
		{"objectClass", []string{"inetOrgPerson"}},
		{"uid", []string{"user7"}}, {"cn", []string{"user7"}}, {"sn", []string{"user7"}},
	}) {
		t.Errorf("inetorgperson UserEntry(7) = %q", got)
	}
	// The salt is a function of (seed, user): the same load twice stores the same hashes.
	if again := ldif.UserEntry(7); again[4].Values[0] != got[4].Values[0] {
		t.Errorf("userPassword differs between two calls: %q, %q", again[4].Values[0], got[4].Values[0])
	}
	if other := ldif.UserEntry(8); other[4].Values[0] == got[4].Values[0] {
		t.Errorf("user7 and user8 got the same salted hash %q", got[4].Values[0])
	}
}

func TestPickerDeterministic(t *testing.T) {
	draw := func(seed uint64, w int) []int {
		p := newPicker(seed, w)
		out := make([]int, 20)
		for i := range out {
			out[i] = p.next(10000)
		}
		return out
	}
	a, b := draw(1, 0), draw(1, 0)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed and worker gave %v and %v", a, b)
	}
	if reflect.DeepEqual(a, draw(1, 1)) {
		t.Errorf("workers 0 and 1 drew the same users %v", a)
	}
	if reflect.DeepEqual(a, draw(2, 0)) {
		t.Errorf("seeds 1 and 2 drew the same users %v", a)
	}
	for _, n := range a {
		if n < 0 || n >= 10000 {
			t.Errorf("drew %d, want 0…9999", n)
		}
	}
}

func TestSameDN(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"CN=user1,CN=Users,DC=contoso,DC=com", "cn=USER1,cn=users,dc=CONTOSO,dc=com", true},
		{"uid=user1,ou=people,dc=contoso,dc=com", "uid=user1, ou=people, dc=contoso, dc=com", true},
		{"CN=user1,CN=Users,DC=contoso,DC=com", "CN=user10,CN=Users,DC=contoso,DC=com", false},
	} {
		if got := sameDN(tc.a, tc.b); got != tc.want {
			t.Errorf("sameDN(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
