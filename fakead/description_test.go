package fakead

import (
	"errors"
	"slices"
	"testing"
)

// AD keeps description single-valued on SAM objects on modify (Samba's samldb and its sam.py test
// against Windows): an add may give two values; a modify may not leave more than one.
func TestSAMDescriptionSingleValuedOnModify(t *testing.T) {
	d := newTestDomain(t)[0]
	a := func(name string, vals ...string) Attribute { return sattr(name, vals...) }
	group := "CN=ldaptestgroup,CN=Users,DC=contoso,DC=com"
	user := "CN=ldaptestuser,CN=Users,DC=contoso,DC=com"
	ou := "OU=Desc,DC=contoso,DC=com"
	if err := d.Add(t0, SystemCaller, group, []Attribute{a("objectClass", "group"), a("description", "desc1", "desc2")}); err != nil {
		t.Fatalf("add with two descriptions (Windows accepts it): %v", err)
	}
	if err := d.Add(t0, SystemCaller, user, []Attribute{a("objectClass", "user"), a("sAMAccountName", "ldaptestuser")}); err != nil {
		t.Fatal(err)
	}
	if err := d.Add(t0, SystemCaller, ou, []Attribute{a("objectClass", "organizationalUnit")}); err != nil {
		t.Fatal(err)
	}
	mod := func(dn string, ms ...Modification) error { return d.Modify(t0, SystemCaller, dn, ms) }
	desc := func(dn string) []string {
		return attrOf(search(t, d, SystemCaller, dn, ScopeBase, "(objectClass=*)", "description")[0], "description")
	}
	if got := desc(group); len(got) != 2 {
		t.Fatalf("group description after add: %v", got)
	}
	for _, tc := range []struct {
		name string
		dn   string
		ms   []Modification
		want ResultCode
	}{
		{"replace with two on the group", group, []Modification{{Op: ModReplace, Attr: a("description", "desc1", "desc2")}}, AttributeOrValueExists},
		{"replace with one", group, []Modification{{Op: ModReplace, Attr: a("description", "desc1")}}, Success},
		{"add a second value", group, []Modification{{Op: ModAdd, Attr: a("description", "desc3")}}, AttributeOrValueExists},
		{"delete then add in one modify", group, []Modification{{Op: ModDelete, Attr: a("description", "desc1")}, {Op: ModAdd, Attr: a("description", "desc2")}}, Success},
		{"user: add one", user, []Modification{{Op: ModAdd, Attr: a("description", "u1")}}, Success},
		{"user: add a second", user, []Modification{{Op: ModAdd, Attr: a("description", "u2")}}, AttributeOrValueExists},
		{"user: replace with two", user, []Modification{{Op: ModReplace, Attr: a("description", "u1", "u2")}}, AttributeOrValueExists},
		{"user: delete it, add two", user, []Modification{{Op: ModDelete, Attr: a("description")}, {Op: ModAdd, Attr: a("description", "u3", "u4")}}, AttributeOrValueExists},
		{"OU (not SAM): two values", ou, []Modification{{Op: ModAdd, Attr: a("description", "o1", "o2")}}, Success},
	} {
		err := mod(tc.dn, tc.ms...)
		if CodeOf(err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
		var fe *Error
		if tc.want == AttributeOrValueExists && errors.As(err, &fe) &&
			fe.Diag != "00002083: AtrErr: DSID-03151818, #1:\n\t0: 00002083: DSID-03151818, problem 1006 (ATT_OR_VALUE_EXISTS), data 0, Att d (description)\n" {
			t.Errorf("%s: diagnostic %q", tc.name, fe.Diag)
		}
	}
	if got := desc(group); !slices.Equal(got, []string{"desc2"}) {
		t.Errorf("group description: %v, want [desc2]", got)
	}
	if got := desc(user); !slices.Equal(got, []string{"u1"}) {
		t.Errorf("user description: %v, want [u1]", got)
	}
}
