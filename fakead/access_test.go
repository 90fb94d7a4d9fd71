package fakead

import (
	"testing"

	"github.com/gmsasim/gmsasim/ad"
)

// accessFixture: alice (plain user), olga (Account Operators), mgr (manages group Team), and a
// delegated OU where alice may create computers.
func accessFixture(t *testing.T) (*Directory, map[string]Caller) {
	d := newTestDomain(t)[0]
	a := func(name string, vals ...string) Attribute { return sattr(name, vals...) }
	add := func(dn string, attrs ...Attribute) {
		t.Helper()
		if err := d.Add(t0, SystemCaller, dn, attrs); err != nil {
			t.Fatalf("%s: %v", dn, err)
		}
	}
	for _, u := range []string{"alice", "olga", "mgr"} {
		add("CN="+u+",CN=Users,DC=contoso,DC=com", a("objectClass", "user"), a("sAMAccountName", u), a("userAccountControl", "512"))
		if err := d.SetPassword(t0, SystemCaller, "CN="+u+",CN=Users,DC=contoso,DC=com", u+"Pw1!"); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Modify(t0, SystemCaller, "CN=Account Operators,CN=Builtin,DC=contoso,DC=com", []Modification{{Op: ModAdd,
		Attr: a("member", "CN=olga,CN=Users,DC=contoso,DC=com")}}); err != nil {
		t.Fatal(err)
	}
	add("CN=Team,CN=Users,DC=contoso,DC=com", a("objectClass", "group"), a("managedBy", "CN=mgr,CN=Users,DC=contoso,DC=com"))
	add("OU=Delegated,DC=contoso,DC=com", a("objectClass", "organizationalUnit"))
	alice, _ := d.Account("alice")
	if err := d.Grant("OU=Delegated,DC=contoso,DC=com", alice.SID.String(), RightCreateChild|RightDeleteChild, "computer"); err != nil {
		t.Fatal(err)
	}
	callers := map[string]Caller{"system": SystemCaller}
	for _, u := range []string{"alice", "olga", "mgr"} {
		c, err := d.Bind(t0, u, u+"Pw1!", true)
		if err != nil {
			t.Fatal(err)
		}
		callers[u] = c
	}
	callers["admin"] = adminCaller(t, d)
	addUsableRootKey(t, d) // gMSA creation needs one
	return d, callers
}

func TestAccessRules(t *testing.T) {
	d, cs := accessFixture(t)
	a := func(name string, vals ...string) Attribute { return sattr(name, vals...) }
	user := func(name string) []Attribute { return []Attribute{a("objectClass", "user"), a("sAMAccountName", name)} }
	computer := func(name string) []Attribute {
		return []Attribute{a("objectClass", "computer"), a("sAMAccountName", name+"$")}
	}
	gmsa := func(name string) []Attribute {
		return []Attribute{a("objectClass", "msDS-GroupManagedServiceAccount"), a("sAMAccountName", name+"$"),
			a("dNSHostName", name+".contoso.com"), a("msDS-ManagedPasswordInterval", "30")}
	}
	type step struct {
		who  string
		op   func(c Caller) error
		want ResultCode
	}
	n := 0
	fresh := func(p string) string { n++; return p + itoa(int64(n)) }
	addAt := func(parent string, attrsOf func(string) []Attribute) func(c Caller) error {
		return func(c Caller) error {
			name := fresh("x")
			return d.Add(t0, c, "CN="+name+","+parent, attrsOf(name))
		}
	}
	member := func(group, who string) func(c Caller) error {
		return func(c Caller) error {
			return d.Modify(t0, c, group, []Modification{{Op: ModAdd, Attr: a("member", "CN="+who+",CN=Users,DC=contoso,DC=com")}})
		}
	}
	users, dcs := "CN=Users,DC=contoso,DC=com", "OU=Domain Controllers,DC=contoso,DC=com"
	msa := "CN=Managed Service Accounts,DC=contoso,DC=com"
	steps := []step{
		{"admin", addAt(users, user), Success},
		{"alice", addAt(users, user), InsufficientAccessRights},
		{"olga", addAt(users, user), Success},
		{"olga", addAt(users, computer), Success},
		{"olga", addAt(msa, gmsa), Success},
		{"alice", addAt(msa, gmsa), InsufficientAccessRights},
		{"admin", addAt(msa, gmsa), Success},
		{"olga", addAt(dcs, computer), InsufficientAccessRights},
		{"alice", addAt("OU=Delegated,DC=contoso,DC=com", computer), Success},
		{"alice", addAt("OU=Delegated,DC=contoso,DC=com", user), InsufficientAccessRights},
		{"alice", member("CN=Team,CN=Users,DC=contoso,DC=com", "alice"), InsufficientAccessRights},
		{"mgr", member("CN=Team,CN=Users,DC=contoso,DC=com", "alice"), Success},
		{"olga", member("CN=Team,CN=Users,DC=contoso,DC=com", "mgr"), Success},
		{"olga", member("CN=Domain Admins,CN=Users,DC=contoso,DC=com", "alice"), InsufficientAccessRights},
		{"alice", member("CN=Domain Admins,CN=Users,DC=contoso,DC=com", "alice"), InsufficientAccessRights},
		{"admin", member("CN=Domain Admins,CN=Users,DC=contoso,DC=com", "mgr"), Success},
		{"alice", func(c Caller) error {
			return d.Modify(t0, c, "CN=alice,CN=Users,DC=contoso,DC=com", []Modification{{Op: ModReplace, Attr: a("telephoneNumber", "1")}})
		}, Success},
		{"alice", func(c Caller) error {
			return d.Modify(t0, c, "CN=alice,CN=Users,DC=contoso,DC=com", []Modification{{Op: ModReplace, Attr: a("description", "x")}})
		}, InsufficientAccessRights},
		{"alice", func(c Caller) error {
			return d.Modify(t0, c, "CN=olga,CN=Users,DC=contoso,DC=com", []Modification{{Op: ModReplace, Attr: a("telephoneNumber", "1")}})
		}, InsufficientAccessRights},
		{"alice", func(c Caller) error { return d.Delete(t0, c, "CN=olga,CN=Users,DC=contoso,DC=com") }, InsufficientAccessRights},
		{"alice", func(c Caller) error {
			return d.Add(t0, c, "CN=k1,CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,DC=contoso,DC=com",
				[]Attribute{a("objectClass", "container")})
		}, InsufficientAccessRights},
		{"olga", func(c Caller) error {
			return d.Add(t0, c, "CN=k2,CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,DC=contoso,DC=com",
				[]Attribute{a("objectClass", "container")})
		}, InsufficientAccessRights},
		{"admin", func(c Caller) error {
			return d.Add(t0, c, "CN=k3,CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,DC=contoso,DC=com",
				[]Attribute{a("objectClass", "container")})
		}, Success},
		{"olga", func(c Caller) error { return d.Delete(t0, c, "CN=alice,CN=Users,DC=contoso,DC=com") }, Success},
		{"olga", func(c Caller) error { return d.SetPassword(t0, c, "CN=mgr,CN=Users,DC=contoso,DC=com", "New1!") }, InsufficientAccessRights},
		{"admin", func(c Caller) error { return d.SetPassword(t0, c, "CN=olga,CN=Users,DC=contoso,DC=com", "New1!") }, Success},
	}
	for i, s := range steps {
		err := s.op(cs[s.who])
		if got := CodeOf(err); got != s.want {
			t.Errorf("step %d (%s): got %v (%v), want %v", i, s.who, got, err, s.want)
		}
		if s.want == InsufficientAccessRights && err != nil {
			if e := err.(*Error); e.Diag != diagInsuffAccess {
				t.Errorf("step %d: diag %q", i, e.Diag)
			}
		}
	}
}

func TestPasswordRules(t *testing.T) {
	d, cs := accessFixture(t)
	pw := Attribute{Name: "unicodePwd", Values: [][]byte{utf16Quoted("Fresh1!")}}
	plain := cs["admin"]
	plain.Encrypted = false
	err := d.Modify(t0, plain, "CN=alice,CN=Users,DC=contoso,DC=com", []Modification{{Op: ModReplace, Attr: pw}})
	if e, ok := err.(*Error); !ok || e.Code != UnwillingToPerform || e.Diag != diagWillNotPerform {
		t.Fatalf("unicodePwd over plain LDAP: %v", err)
	}
	if err := d.Modify(t0, cs["admin"], "CN=alice,CN=Users,DC=contoso,DC=com", []Modification{{Op: ModReplace, Attr: pw}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Bind(t0, "alice@contoso.com", "alicePw1!", false); CodeOf(err) != InvalidCredentials {
		t.Errorf("old password still works: %v", err)
	}
	acct, _ := d.Account("alice")
	if _, err := d.Bind(t0, "alice@contoso.com", "Fresh1!", false); err != nil || acct.KVNO != 2 || len(acct.Keys.AES256) != 32 || len(acct.Keys.NTHash) != 16 {
		t.Errorf("new password: %v kvno %d keys %d/%d", err, acct.KVNO, len(acct.Keys.AES256), len(acct.Keys.NTHash))
	}
	if acct.Keys.Salt != "CONTOSO.COMalice" {
		t.Errorf("salt %q", acct.Keys.Salt)
	}
	res := search(t, d, cs["admin"], "CN=alice,CN=Users,DC=contoso,DC=com", ScopeBase, "(objectClass=*)", "unicodePwd", "supplementalCredentials", "msDS-KeyVersionNumber", "pwdLastSet")
	if attrOf(res[0], "unicodePwd") != nil || attrOf(res[0], "supplementalCredentials") != nil {
		t.Error("secrets returned")
	}
	if got := attrOf(res[0], "msDS-KeyVersionNumber"); len(got) != 1 || got[0] != "2" {
		t.Errorf("msDS-KeyVersionNumber %v", got)
	}
	if got := attrOf(res[0], "pwdLastSet"); len(got) != 1 || got[0] != ad.FileTimeFromTime(t0).String() {
		t.Errorf("pwdLastSet %v", got)
	}
	if _, err := d.Bind(t0, "CN=krbtgt,CN=Users,DC=contoso,DC=com", "anything", false); CodeOf(err) != InvalidCredentials {
		t.Errorf("krbtgt bind: %v", err)
	}
	web := "CN=web9,CN=Computers,DC=contoso,DC=com"
	if err := d.Add(t0, SystemCaller, web, []Attribute{sattr("objectClass", "computer"), sattr("sAMAccountName", "WEB9$")}); err != nil {
		t.Fatal(err)
	}
	if err := d.SetPassword(t0, SystemCaller, web, "machinepw"); err != nil {
		t.Fatal(err)
	}
	if a, _ := d.Account("WEB9$"); a.Keys.Salt != "CONTOSO.COMhostweb9.contoso.com" {
		t.Errorf("computer salt %q", a.Keys.Salt)
	}
}

func TestPasswordChangeBySelf(t *testing.T) {
	d, cs := accessFixture(t)
	dn := "CN=alice,CN=Users,DC=contoso,DC=com"
	change := func(c Caller, oldPw, newPw string) error {
		return d.Modify(t0, c, dn, []Modification{
			{Op: ModDelete, Attr: Attribute{Name: "unicodePwd", Values: [][]byte{utf16Quoted(oldPw)}}},
			{Op: ModAdd, Attr: Attribute{Name: "unicodePwd", Values: [][]byte{utf16Quoted(newPw)}}},
		})
	}
	if err := change(cs["alice"], "wrong", "Next1!"); CodeOf(err) != ConstraintViolation {
		t.Errorf("change with a wrong old password: %v", err)
	}
	if err := change(cs["alice"], "alicePw1!", "Next1!"); err != nil {
		t.Fatalf("change: %v", err)
	}
	if _, err := d.Bind(t0, "alice", "Next1!", false); err != nil {
		t.Errorf("bind with the changed password: %v", err)
	}
	reset := []Modification{{Op: ModReplace, Attr: Attribute{Name: "unicodePwd", Values: [][]byte{utf16Quoted("Reset1!")}}}}
	if err := d.Modify(t0, cs["alice"], dn, reset); CodeOf(err) != InsufficientAccessRights {
		t.Errorf("self reset without the right: %v", err)
	}
}

func TestSchemaVersionGatesGMSA(t *testing.T) {
	for _, v := range []int{47, 52, 88} {
		cfg := testConfig()
		cfg.SchemaVersion = v
		ds, err := NewDomain(cfg, &seqIDs{}, t0)
		if err != nil {
			t.Fatal(err)
		}
		d := ds[0]
		if v >= 52 {
			addUsableRootKey(t, d)
		}
		err = d.Add(t0, adminCaller(t, d), "CN=svc,CN=Managed Service Accounts,DC=contoso,DC=com", []Attribute{
			sattr("objectClass", "msDS-GroupManagedServiceAccount"), sattr("sAMAccountName", "svc$"),
			sattr("dNSHostName", "svc.contoso.com"), sattr("msDS-ManagedPasswordInterval", "30")})
		wantOK := v >= 52
		if (err == nil) != wantOK {
			t.Errorf("schema %d: gMSA add: %v", v, err)
		}
		gkds := d.lookup(MustParseDN("CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,DC=contoso,DC=com"))
		if (gkds != nil) != wantOK {
			t.Errorf("schema %d: Master Root Keys present %v", v, gkds != nil)
		}
	}
}

func TestMemberMustExist(t *testing.T) {
	d := newTestDomain(t)[0]
	adm := adminCaller(t, d)
	err := d.Modify(t0, adm, "CN=Domain Admins,CN=Users,DC=contoso,DC=com", []Modification{{Op: ModAdd,
		Attr: sattr("member", "CN=ghost,CN=Users,DC=contoso,DC=com")}})
	if e, ok := err.(*Error); !ok || e.Code != NoSuchObject || e.MatchedDN != "CN=Users,DC=contoso,DC=com" {
		t.Errorf("member naming a missing object: %v", err)
	}
}
