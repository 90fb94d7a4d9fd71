package fakead

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

const (
	msaDN     = "CN=Managed Service Accounts,DC=contoso,DC=com"
	farmDN    = "CN=ITFarm1," + msaDN
	farmGroup = "CN=ITFarmHosts,CN=Users,DC=contoso,DC=com"
)

// farmFixture is issue 3's acceptance-3 world in one replica: a usable root key, hosts WEB1 (in
// ITFarmHosts) and WEB3 (not), user alice, and gMSA ITFarm1 whose password ITFarmHosts may read.
type farmFixture struct {
	d       *Directory
	rk      *fakekds.RootKey
	callers map[string]Caller // "WEB1", "WEB3", "alice", "admin"; encrypted connections
}

func newFarm(t *testing.T) *farmFixture { return newFarmB(t) }

func newFarmB(t testing.TB) *farmFixture {
	t.Helper()
	d := newTestDomain(t)[0]
	f := &farmFixture{d: d, callers: map[string]Caller{}}
	f.rk = addUsableRootKey(t, d)
	add := func(dn string, attrs ...Attribute) {
		t.Helper()
		if err := d.Add(t0, SystemCaller, dn, attrs); err != nil {
			t.Fatalf("%s: %v", dn, err)
		}
	}
	add(farmGroup, sattr("objectClass", "group"), sattr("sAMAccountName", "ITFarmHosts"))
	for _, h := range []string{"WEB1", "WEB3"} {
		dn := "CN=" + h + ",CN=Computers,DC=contoso,DC=com"
		add(dn, sattr("objectClass", "computer"), sattr("sAMAccountName", h+"$"), sattr("userAccountControl", "4096"))
		if err := d.SetPassword(t0, SystemCaller, dn, h+"-machine-pw"); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Modify(t0, SystemCaller, farmGroup, []Modification{{Op: ModAdd,
		Attr: sattr("member", "CN=WEB1,CN=Computers,DC=contoso,DC=com")}}); err != nil {
		t.Fatal(err)
	}
	add("CN=alice,CN=Users,DC=contoso,DC=com", sattr("objectClass", "user"), sattr("sAMAccountName", "alice"), sattr("userAccountControl", "512"))
	if err := d.SetPassword(t0, SystemCaller, "CN=alice,CN=Users,DC=contoso,DC=com", "alicePw1!"); err != nil {
		t.Fatal(err)
	}
	for _, who := range []struct{ key, name, pw string }{{"WEB1", "WEB1$", "WEB1-machine-pw"},
		{"WEB3", "WEB3$", "WEB3-machine-pw"}, {"alice", "alice", "alicePw1!"}} {
		c, err := d.Bind(t0, who.name, who.pw, true)
		if err != nil {
			t.Fatalf("bind %s: %v", who.name, err)
		}
		f.callers[who.key] = c
	}
	f.callers["admin"] = adminCaller(t, d)
	grp, _ := d.Account("ITFarmHosts")
	sd, err := ad.GMSAMembershipSD(grp.SID.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Add(t0, f.callers["admin"], farmDN, gmsaAttrs("ITFarm1", sd)); err != nil {
		t.Fatalf("New-ADServiceAccount ITFarm1: %v", err)
	}
	return f
}

// gmsaAttrs is the LDAP add New-ADServiceAccount sends.
func gmsaAttrs(name string, sd []byte) []Attribute {
	attrs := []Attribute{sattr("objectClass", "msDS-GroupManagedServiceAccount"), sattr("sAMAccountName", name+"$"),
		sattr("userAccountControl", "4096"), sattr("dNSHostName", name+".contoso.com"),
		sattr("msDS-ManagedPasswordInterval", "30"), sattr("msDS-SupportedEncryptionTypes", "28"),
		sattr("servicePrincipalName", "http/"+name+".contoso.com")}
	if sd != nil {
		attrs = append(attrs, Attribute{Name: "msDS-GroupMSAMembership", Values: [][]byte{sd}})
	}
	return attrs
}

// readPassword searches ITFarm1 for msDS-ManagedPassword as c at now.
func readPassword(d *Directory, c Caller, now time.Time, dn string) ([]byte, bool, error) {
	res, err := d.Search(now, c, &SearchRequest{BaseDN: dn, Scope: ScopeBase, Filter: FilterPresent{Attr: "objectClass"},
		Attributes: []string{"msDS-ManagedPassword", "sAMAccountName"}, SDFlags: -1})
	if err != nil {
		return nil, false, err
	}
	if len(res) != 1 {
		return nil, false, errors.New("no entry")
	}
	for _, a := range res[0].Attributes {
		if a.Name == "msDS-ManagedPassword" {
			return a.Values[0], true, nil
		}
	}
	return nil, false, nil
}

func readAttr(t *testing.T, d *Directory, now time.Time, dn, name string) string {
	t.Helper()
	res, err := d.Search(now, SystemCaller, &SearchRequest{BaseDN: dn, Scope: ScopeBase, Filter: FilterPresent{Attr: "objectClass"},
		Attributes: []string{name}, SDFlags: -1})
	if err != nil || len(res) != 1 {
		t.Fatalf("reading %s of %s: %v", name, dn, err)
	}
	v := attrOf(res[0], name)
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// Acceptance 3 (model level): WEB1$ reads over an encrypted connection and the NT hash is what
// fakekds computes independently for the same id; WEB3$ gets the entry without the attribute;
// over plain LDAP everyone gets 0000202D; alice gets nothing.
func TestManagedPasswordAccess(t *testing.T) {
	f := newFarm(t)
	blob, ok, err := readPassword(f.d, f.callers["WEB1"], t0, farmDN)
	if err != nil || !ok {
		t.Fatalf("WEB1$ over LDAPS: ok=%v err=%v", ok, err)
	}
	parsed, err := fakekds.ParseManagedPasswordBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	// Independent computation, as `gmsasim kds password --password-id HEX --sid SID` does it.
	idRaw := []byte(readAttr(t, f.d, t0, farmDN, "msDS-ManagedPasswordId"))
	id, err := fakekds.ParsePasswordID(idRaw)
	if err != nil {
		t.Fatal(err)
	}
	if id.RootKeyID != f.rk.ID || id.GKID != fakekds.GKIDFromFileTime(ad.FileTimeFromTime(t0)) {
		t.Errorf("password id names key %s interval %v, want %s %v", id.RootKeyID, id.GKID, f.rk.ID, fakekds.GKIDFromFileTime(ad.FileTimeFromTime(t0)))
	}
	acct, _ := f.d.Account("ITFarm1$")
	want, err := fakekds.GMSAPassword(f.rk, id.GKID, acct.SID) // the directory's SID is fakekds's: one type
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fakekds.NTHash(parsed.Current), fakekds.NTHash(want)) || !bytes.Equal(parsed.Current, want) {
		t.Errorf("NT hash read %x, fakekds computes %x", fakekds.NTHash(parsed.Current), fakekds.NTHash(want))
	}
	if parsed.Previous != nil {
		t.Errorf("a new account has no previous password, got %d bytes", len(parsed.Previous))
	}
	// The account's stored keys are those of the managed password.
	if !bytes.Equal(acct.Keys.NTHash, fakekds.NTHash(want)) || acct.KVNO != 1 || acct.GMSA == nil || acct.SupportedEncTypes != 28 {
		t.Errorf("Account: nt %x kvno %d gmsa %v enctypes %d", acct.Keys.NTHash, acct.KVNO, acct.GMSA, acct.SupportedEncTypes)
	}
	keys, _ := fakekds.KeysFromUTF16(want, fakekds.MachineSalt("contoso.com", "ITFarm1$"))
	if !bytes.Equal(acct.Keys.AES256, keys.AES256) || !bytes.Equal(acct.Keys.AES128, keys.AES128) {
		t.Errorf("AES keys of the account differ from fakekds's for the managed password")
	}

	for _, who := range []string{"WEB3", "alice"} {
		_, ok, err := readPassword(f.d, f.callers[who], t0, farmDN)
		if err != nil || ok {
			t.Errorf("%s over LDAPS: got attribute=%v err=%v, want the entry without it", who, ok, err)
		}
	}
	for _, who := range []string{"WEB1", "WEB3", "alice", "admin"} {
		c := f.callers[who]
		c.Encrypted = false
		_, _, err := readPassword(f.d, c, t0, farmDN)
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != OperationsError || ae.Diag != diagConfidential {
			t.Errorf("%s over plain LDAP: %v, want operationsError 0000202D", who, err)
		}
	}
	// Administrators are not in the descriptor either.
	if _, ok, _ := readPassword(f.d, f.callers["admin"], t0, farmDN); ok {
		t.Errorf("Administrator read the password without being allowed")
	}
}

// Acceptance 5 (model level): at +30 days the password rotates, the old one is the previous
// password in the blob, the kvno moves, and msDS-ManagedPasswordInterval cannot be modified.
func TestManagedPasswordRotation(t *testing.T) {
	f := newFarm(t)
	web1 := f.callers["WEB1"]
	b0, _, err := readPassword(f.d, web1, t0, farmDN)
	if err != nil {
		t.Fatal(err)
	}
	p0, _ := fakekds.ParseManagedPasswordBlob(b0)
	id0 := readAttr(t, f.d, t0, farmDN, "msDS-ManagedPasswordId")
	if kv := readAttr(t, f.d, t0, farmDN, "msDS-KeyVersionNumber"); kv != "1" {
		t.Errorf("kvno at creation %q, want 1", kv)
	}
	// Before the interval ends nothing changes.
	t1 := t0.Add(29 * 24 * time.Hour)
	b1, _, _ := readPassword(f.d, web1, t1, farmDN)
	p1, _ := fakekds.ParseManagedPasswordBlob(b1)
	if !bytes.Equal(p1.Current, p0.Current) || readAttr(t, f.d, t1, farmDN, "msDS-KeyVersionNumber") != "1" {
		t.Errorf("password changed before the interval ended")
	}
	t2 := t0.Add(30*24*time.Hour + time.Hour)
	b2, ok, err := readPassword(f.d, web1, t2, farmDN)
	if err != nil || !ok {
		t.Fatalf("read at +30 d: %v", err)
	}
	p2, _ := fakekds.ParseManagedPasswordBlob(b2)
	if bytes.Equal(p2.Current, p0.Current) {
		t.Fatalf("password did not rotate at +30 days")
	}
	if !bytes.Equal(p2.Previous, p0.Current) {
		t.Errorf("previous password in the blob is not the old current one")
	}
	if kv := readAttr(t, f.d, t2, farmDN, "msDS-KeyVersionNumber"); kv != "2" {
		t.Errorf("kvno after rotation %q, want 2", kv)
	}
	if prev := readAttr(t, f.d, t2, farmDN, "msDS-ManagedPasswordPreviousId"); prev != id0 {
		t.Errorf("msDS-ManagedPasswordPreviousId is not the old id")
	}
	pls, _ := strconv.ParseInt(readAttr(t, f.d, t2, farmDN, "pwdLastSet"), 10, 64)
	if pls != int64(ad.FileTimeFromTime(t2)) {
		t.Errorf("pwdLastSet %d, want the rotation write time %d", pls, ad.FileTimeFromTime(t2))
	}
	acct, _ := f.d.AccountAt(t2, "ITFarm1$")
	if !bytes.Equal(acct.Keys.NTHash, fakekds.NTHash(p2.Current)) || acct.KVNO != 2 ||
		acct.GMSA.PreviousKeys == nil || !bytes.Equal(acct.GMSA.PreviousKeys.NTHash, fakekds.NTHash(p0.Current)) {
		t.Errorf("AccountAt after rotation: kvno %d, previous keys %v", acct.KVNO, acct.GMSA.PreviousKeys)
	}
	// A second read does not rotate again.
	b3, _, _ := readPassword(f.d, web1, t2.Add(time.Minute), farmDN)
	p3, _ := fakekds.ParseManagedPasswordBlob(b3)
	if !bytes.Equal(p3.Current, p2.Current) || readAttr(t, f.d, t2, farmDN, "msDS-KeyVersionNumber") != "2" {
		t.Errorf("second read rotated again")
	}
	err = f.d.Modify(t2, f.callers["admin"], farmDN, []Modification{{Op: ModReplace, Attr: sattr("msDS-ManagedPasswordInterval", "60")}})
	if CodeOf(err) != ConstraintViolation {
		t.Errorf("modifying msDS-ManagedPasswordInterval: %v, want constraintViolation", err)
	}
	if v := readAttr(t, f.d, t2, farmDN, "msDS-ManagedPasswordInterval"); v != "30" {
		t.Errorf("interval is %q after the refused modify", v)
	}
}

func TestGMSACreationRules(t *testing.T) {
	t.Run("no root key", func(t *testing.T) {
		d := newTestDomain(t)[0]
		err := d.Add(t0, adminCaller(t, d), farmDN, gmsaAttrs("ITFarm1", nil))
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != Other || ae.Diag != diagNoKey || !errors.Is(err, fakekds.ErrNoRootKey) {
			t.Fatalf("gMSA without a root key: %v, want other with 8009000D", err)
		}
		if d.lookup(MustParseDN(farmDN)) != nil {
			t.Errorf("the refused gMSA exists")
		}
	})
	t.Run("key effective immediately waits for the next interval", func(t *testing.T) {
		d := newTestDomain(t)[0]
		addRootKey(t, d, adminCaller(t, d), t0, fakekds.AddOptions{EffectiveImmediately: true}, &fixedRand{})
		if err := d.Add(t0.Add(time.Minute), adminCaller(t, d), farmDN, gmsaAttrs("ITFarm1", nil)); CodeOf(err) != Other {
			t.Fatalf("gMSA one minute after -EffectiveImmediately: %v, want Key does not exist", err)
		}
		next := fakekds.GKIDFromFileTime(ad.FileTimeFromTime(t0)).StartFileTime() + fakekds.KeyCycleDuration
		if err := d.Add(next.Time(), adminCaller(t, d), farmDN, gmsaAttrs("ITFarm1", nil)); err != nil {
			t.Fatalf("gMSA at the next 10-hour boundary: %v", err)
		}
	})
	t.Run("schema 47", func(t *testing.T) {
		cfg := testConfig()
		cfg.SchemaVersion = 47
		ds, err := NewDomain(cfg, &seqIDs{}, t0)
		if err != nil {
			t.Fatal(err)
		}
		err = ds[0].Add(t0, adminCaller(t, ds[0]), farmDN, gmsaAttrs("ITFarm1", nil))
		if CodeOf(err) != ObjectClassViolation && CodeOf(err) != UndefinedAttributeType {
			t.Fatalf("gMSA on schema 47: %v", err)
		}
	})
	t.Run("no 2012 DC", func(t *testing.T) {
		d := newTestDomain(t, DCConfig{Name: "DC1", OS: "2008R2"})[0]
		addUsableRootKey(t, d)
		err := d.Add(t0, adminCaller(t, d), farmDN, gmsaAttrs("ITFarm1", nil))
		if CodeOf(err) != UnwillingToPerform {
			t.Fatalf("gMSA without a 2012 DC: %v, want unwillingToPerform", err)
		}
	})
	t.Run("attribute rules", func(t *testing.T) {
		d := newTestDomain(t)[0]
		addUsableRootKey(t, d)
		adm := adminCaller(t, d)
		mod := func(name string, vals ...string) []Attribute {
			attrs := gmsaAttrs("X1", nil)
			for i := range attrs {
				if attrs[i].Name == name {
					attrs[i] = sattr(name, vals...)
				}
			}
			return attrs
		}
		cases := []struct {
			name  string
			attrs []Attribute
			want  ResultCode
		}{
			{"sAMAccountName without $", mod("sAMAccountName", "X1"), ConstraintViolation},
			{"normal account UAC", mod("userAccountControl", "512"), UnwillingToPerform},
			{"interval 0", mod("msDS-ManagedPasswordInterval", "0"), ConstraintViolation},
			{"no interval", func() []Attribute { a := gmsaAttrs("X1", nil); return append(a[:4], a[5:]...) }(), ObjectClassViolation},
			{"bad SD", append(gmsaAttrs("X1", nil), Attribute{Name: "msDS-GroupMSAMembership", Values: [][]byte{{1, 0, 4, 0x80, 9}}}), InvalidAttributeSyntax},
			{"client-written id", append(gmsaAttrs("X1", nil), Attribute{Name: "msDS-ManagedPasswordId", Values: [][]byte{{1}}}), ConstraintViolation},
		}
		for _, c := range cases {
			if err := d.Add(t0, adm, "CN=X1,"+msaDN, c.attrs); CodeOf(err) != c.want {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		if err := d.Add(t0, adm, "CN=X1,"+msaDN, gmsaAttrs("X1", nil)); err != nil {
			t.Errorf("the valid add after the refused ones: %v", err)
		}
	})
	t.Run("root key needs Domain Admins", func(t *testing.T) {
		f, cs := accessFixture(t)
		_ = f
		rk, _ := fakekds.AddKdsRootKey(&fixedRand{n: 9}, ad.FileTimeFromTime(t0), "CN=DC1,OU=Domain Controllers,DC=contoso,DC=com", fakekds.AddOptions{})
		var attrs []Attribute
		for _, a := range rk.Attributes() {
			attrs = append(attrs, Attribute{Name: a.Name, Values: a.Values})
		}
		for _, who := range []string{"alice", "olga"} {
			if err := f.Add(t0, cs[who], rk.DN(f.DomainDN()), attrs); CodeOf(err) != InsufficientAccessRights {
				t.Errorf("%s adding a root key: %v", who, err)
			}
		}
		if err := f.Add(t0, cs["admin"], rk.DN(f.DomainDN()), attrs); err != nil {
			t.Errorf("Administrator (Domain Admins) adding a root key: %v", err)
		}
	})
}

// A deleted root key keeps working on a DC until its KDS restarts.
func TestDeletedRootKeyCachedUntilRestart(t *testing.T) {
	f := newFarm(t)
	if err := f.d.Delete(t0, f.callers["admin"], f.rk.DN(f.d.DomainDN())); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := readPassword(f.d, f.callers["WEB1"], t0.Add(time.Hour), farmDN); !ok || err != nil {
		t.Fatalf("password after deleting the key, before a KDS restart: ok=%v %v", ok, err)
	}
	if err := f.d.Add(t0.Add(time.Hour), f.callers["admin"], "CN=Two,"+msaDN, gmsaAttrs("Two", nil)); err != nil {
		t.Fatalf("gMSA creation with the cached key: %v", err)
	}
	if n := f.d.RestartKDS(); n != 1 {
		t.Errorf("RestartKDS dropped %d keys, want 1", n)
	}
	if _, ok, err := readPassword(f.d, f.callers["WEB1"], t0.Add(2*time.Hour), farmDN); ok || err != nil {
		t.Errorf("password after the KDS restart: ok=%v %v, want the entry without it", ok, err)
	}
	if _, err := f.d.ManagedPassword(t0.Add(2*time.Hour), farmDN); CodeOf(err) != Other || !errors.Is(err, fakekds.ErrNoRootKey) {
		t.Errorf("ManagedPassword after the restart: %v", err)
	}
	if err := f.d.Add(t0.Add(2*time.Hour), f.callers["admin"], "CN=Three,"+msaDN, gmsaAttrs("Three", nil)); CodeOf(err) != Other {
		t.Errorf("gMSA creation after the restart: %v, want Key does not exist", err)
	}
}

// Set-ADServiceAccount -PrincipalsAllowedToRetrieveManagedPassword replaces the descriptor: the
// new principal reads, the old one no longer does. A malformed descriptor is refused.
func TestMembershipReplaced(t *testing.T) {
	f := newFarm(t)
	web3, _ := f.d.Account("WEB3$")
	sd, _ := ad.GMSAMembershipSD(web3.SID.String())
	if err := f.d.Modify(t0, f.callers["admin"], farmDN, []Modification{{Op: ModReplace,
		Attr: Attribute{Name: "msDS-GroupMSAMembership", Values: [][]byte{sd}}}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := readPassword(f.d, f.callers["WEB3"], t0, farmDN); !ok {
		t.Errorf("WEB3$ named directly cannot read")
	}
	if _, ok, _ := readPassword(f.d, f.callers["WEB1"], t0, farmDN); ok {
		t.Errorf("WEB1$ still reads after the group was replaced")
	}
	err := f.d.Modify(t0, f.callers["admin"], farmDN, []Modification{{Op: ModReplace,
		Attr: Attribute{Name: "msDS-GroupMSAMembership", Values: [][]byte{sd[:30]}}}})
	if CodeOf(err) != InvalidAttributeSyntax {
		t.Errorf("truncated descriptor: %v", err)
	}
}

// In the last five minutes of an interval the blob hands out the next password as current; the
// account's keys (what the KDC uses) stay those of the stored id until it expires.
func TestNextPasswordWindow(t *testing.T) {
	f := newFarm(t)
	start := fakekds.GKIDFromFileTime(ad.FileTimeFromTime(t0)).StartFileTime().Time()
	end := start.Add(30 * 24 * time.Hour)
	b0, _, _ := readPassword(f.d, f.callers["WEB1"], t0, farmDN)
	p0, _ := fakekds.ParseManagedPasswordBlob(b0)
	w := end.Add(-2 * time.Minute)
	b1, _, _ := readPassword(f.d, f.callers["WEB1"], w, farmDN)
	p1, _ := fakekds.ParseManagedPasswordBlob(b1)
	if bytes.Equal(p1.Current, p0.Current) || !bytes.Equal(p1.Previous, p0.Current) {
		t.Fatalf("in the last 5 minutes the blob should carry the next password as current, the current as previous")
	}
	acct, _ := f.d.AccountAt(w, "ITFarm1$")
	if acct.KVNO != 1 || !bytes.Equal(acct.Keys.NTHash, fakekds.NTHash(p0.Current)) {
		t.Errorf("account keys in the window: kvno %d", acct.KVNO)
	}
	if !acct.GMSA.NextRotation.Equal(end) {
		t.Errorf("NextRotation %s, want %s", acct.GMSA.NextRotation, end)
	}
	acct, _ = f.d.AccountAt(end.Add(time.Second), "ITFarm1$")
	if acct.KVNO != 2 || !bytes.Equal(acct.Keys.NTHash, fakekds.NTHash(p1.Current)) ||
		acct.GMSA.PreviousKeys == nil || !bytes.Equal(acct.GMSA.PreviousKeys.NTHash, fakekds.NTHash(p0.Current)) {
		t.Errorf("account after the rotation: kvno %d nt-ok %v prev %v", acct.KVNO, bytes.Equal(acct.Keys.NTHash, fakekds.NTHash(p1.Current)), acct.GMSA.PreviousKeys != nil)
	}
}

// Root keys' key material is readable only by Domain Admins, Enterprise Admins and SYSTEM.
func TestRootKeyReadRestricted(t *testing.T) {
	f := newFarm(t)
	dn := f.rk.DN(f.d.DomainDN())
	for who, want := range map[string]bool{"admin": true, "WEB1": false, "alice": false} {
		res := search(t, f.d, f.callers[who], dn, ScopeBase, "(objectClass=*)", "*")
		got := attrOf(res[0], "msKds-RootKeyData") != nil
		if got != want {
			t.Errorf("%s sees msKds-RootKeyData: %v, want %v", who, got, want)
		}
	}
}

// The directory itself may create a gMSA with an id it already knows (an import, a test set-up):
// the keys are derived from that id.
func TestSystemAddKeepsID(t *testing.T) {
	f := newFarm(t)
	idRaw := []byte(readAttr(t, f.d, t0, farmDN, "msDS-ManagedPasswordId"))
	dn := "CN=Copy," + msaDN
	attrs := append(gmsaAttrs("Copy", nil), Attribute{Name: "msDS-ManagedPasswordId", Values: [][]byte{idRaw}})
	if err := f.d.Add(t0, SystemCaller, dn, attrs); err != nil {
		t.Fatal(err)
	}
	if got := readAttr(t, f.d, t0, dn, "msDS-ManagedPasswordId"); got != string(idRaw) {
		t.Errorf("the id given by the system was replaced")
	}
	res, err := f.d.ManagedPassword(t0, dn)
	if err != nil {
		t.Fatal(err)
	}
	acct, _ := f.d.Account("Copy$")
	if !bytes.Equal(acct.Keys.NTHash, fakekds.NTHash(res.Parsed.Current)) || acct.KVNO != 1 {
		t.Errorf("keys of a system-created gMSA: kvno %d", acct.KVNO)
	}
}

// The policy setting: with RuleOneIntervalAgo a key effective at t0 gives new gMSAs their first id
// only from t0 + 10 h 5 min on; with the default, from the next 10-hour boundary.
func TestKDSPolicyCreationRule(t *testing.T) {
	d := newTestDomain(t)[0]
	d.SetKDSPolicy(fakekds.Policy{CreationRule: fakekds.RuleOneIntervalAgo})
	if d.KDSPolicy().CreationRule != fakekds.RuleOneIntervalAgo {
		t.Fatal("policy not set")
	}
	addRootKey(t, d, SystemCaller, t0, fakekds.AddOptions{EffectiveImmediately: true}, &fixedRand{})
	boundary := (fakekds.GKIDFromFileTime(ad.FileTimeFromTime(t0)).StartFileTime() + fakekds.KeyCycleDuration).Time()
	adm := adminCaller(t, d)
	if err := d.Add(boundary.Add(time.Minute), adm, "CN=A1,"+msaDN, gmsaAttrs("A1", nil)); CodeOf(err) != Other {
		t.Errorf("one-interval-ago at the next boundary: %v, want Key does not exist", err)
	}
	if err := d.Add(t0.Add(10*time.Hour+5*time.Minute), adm, "CN=A1,"+msaDN, gmsaAttrs("A1", nil)); err != nil {
		t.Errorf("one-interval-ago at t0 + 10 h 5 min: %v", err)
	}
}

// A root key object that does not parse (version 2) is not usable: the KDS skips it.
func TestMalformedRootKeySkipped(t *testing.T) {
	d := newTestDomain(t)[0]
	eff := ad.FileTimeFromTime(t0.Add(-10 * time.Hour))
	rk, _ := fakekds.AddKdsRootKey(&fixedRand{}, ad.FileTimeFromTime(t0), "CN=DC1,OU=Domain Controllers,DC=contoso,DC=com", fakekds.AddOptions{EffectiveTime: &eff})
	var attrs []Attribute
	for _, a := range rk.Attributes() {
		if a.Name == ad.AttrKdsVersion {
			a.Values = [][]byte{[]byte("2")}
		}
		attrs = append(attrs, Attribute{Name: a.Name, Values: a.Values})
	}
	if err := d.Add(t0, SystemCaller, rk.DN(d.DomainDN()), attrs); err != nil {
		t.Fatal(err)
	}
	if n := len(d.KDSRootKeys()); n != 0 {
		t.Errorf("KDS loaded %d keys from a version-2 object", n)
	}
	if err := d.Add(t0, adminCaller(t, d), farmDN, gmsaAttrs("ITFarm1", nil)); CodeOf(err) != Other {
		t.Errorf("gMSA with only a malformed key: %v", err)
	}
}

// One read past the rotation, whatever the order the attributes are asked in: the entry returned
// shows the rotated state (kvno 2, the new pwdLastSet) beside the new password, as one read on a
// DC does — the password is computed (and the lazy rotation written) before any other attribute.
func TestManagedPasswordReadShowsTheRotatedEntry(t *testing.T) {
	for _, order := range [][]string{
		{"msDS-KeyVersionNumber", "pwdLastSet", "msDS-ManagedPassword"},
		{"msDS-ManagedPassword", "msDS-KeyVersionNumber", "pwdLastSet"},
		{"*", "msDS-KeyVersionNumber", "msDS-ManagedPassword"},
	} {
		f := newFarm(t)
		t2 := t0.Add(30*24*time.Hour + time.Hour)
		res, err := f.d.Search(t2, f.callers["WEB1"], &SearchRequest{BaseDN: farmDN, Scope: ScopeBase,
			Filter: FilterPresent{Attr: "objectClass"}, Attributes: order, SDFlags: -1})
		if err != nil || len(res) != 1 {
			t.Fatalf("%v: %d entries, %v", order, len(res), err)
		}
		kv, pls := attrOf(res[0], "msDS-KeyVersionNumber"), attrOf(res[0], "pwdLastSet")
		if len(kv) != 1 || kv[0] != "2" || len(pls) != 1 || pls[0] != strconv.FormatInt(int64(ad.FileTimeFromTime(t2)), 10) ||
			len(attrOf(res[0], "msDS-ManagedPassword")) != 1 {
			t.Errorf("asked in the order %v: kvno %v, pwdLastSet %v, want 2 and the rotation's time beside the password", order, kv, pls)
		}
	}
}
