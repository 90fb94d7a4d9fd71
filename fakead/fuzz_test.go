package fakead

import (
	"testing"
)

// FuzzSearch runs arbitrary filters, bases, scopes and attribute lists against a live domain: no
// input may panic, and every failure must be a *Error.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"(objectClass=*)", "(&(objectCategory=person)(sAMAccountName=adm*))",
		"(userAccountControl:1.2.840.113556.1.4.803:=2)", "(memberOf:1.2.840.113556.1.4.1941:=CN=Administrators,CN=Builtin,DC=contoso,DC=com)",
		"(!(cn~=x))", "(objectSid=S-1-5-32-544)", "(whenCreated>=20260101000000.0Z)", "(|(a=1)(b<=2))"} {
		f.Add(s, "DC=contoso,DC=com", uint8(2), "cn")
	}
	d := newTestDomain(f)[0]
	adm := adminCaller(f, d)
	f.Fuzz(func(t *testing.T, filter, base string, scope uint8, attr string) {
		flt, err := ParseFilter(filter)
		if err != nil {
			return
		}
		_, err = d.Search(t0, adm, &SearchRequest{BaseDN: base, Scope: Scope(scope % 3), Filter: flt,
			Attributes: []string{attr, "*"}, SizeLimit: 50})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
	})
}

// FuzzAddModify sends arbitrary attribute names and values in adds and modifies.
func FuzzAddModify(f *testing.F) {
	f.Add("CN=x,CN=Users,DC=contoso,DC=com", "user", "description", []byte("v"), uint8(0))
	f.Add("CN=y,CN=Users,DC=contoso,DC=com", "group", "member", []byte("CN=Administrator,CN=Users,DC=contoso,DC=com"), uint8(2))
	f.Add("OU=z,DC=contoso,DC=com", "organizationalUnit", "userAccountControl", []byte("-1"), uint8(1))
	d := newTestDomain(f)[0]
	adm := adminCaller(f, d)
	f.Fuzz(func(t *testing.T, dn, class, name string, v []byte, op uint8) {
		err := d.Add(t0, adm, dn, []Attribute{{Name: "objectClass", Values: [][]byte{[]byte(class)}}, {Name: name, Values: [][]byte{v}}})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("add: untyped error %T: %v", err, err)
			}
		}
		err = d.Modify(t0, adm, dn, []Modification{{Op: ModOp(op % 3), Attr: Attribute{Name: name, Values: [][]byte{v}}}})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("modify: untyped error %T: %v", err, err)
			}
		}
		if err := d.Delete(t0, adm, dn); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("delete: untyped error %T: %v", err, err)
			}
		}
	})
}
