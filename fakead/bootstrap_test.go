package fakead

import (
	"slices"
	"strings"
	"testing"

	"github.com/gmsasim/gmsasim/ad"
)

// TestBootstrapSatisfiesSchema: every object of a fresh domain passes the checks an add would
// run (the fast bootstrap path skips them).
func TestBootstrapSatisfiesSchema(t *testing.T) {
	d := newTestDomain(t)[0]
	n := 0
	for _, e := range d.all {
		if e == nil {
			continue
		}
		n++
		if err := d.checkContent("add", e.dn.String(), e); err != nil {
			t.Errorf("%s: %v", e.dn, err)
		}
		if e.guid.IsZero() || e.get(d.at.objectGUID) == nil {
			t.Errorf("%s: no objectGUID", e.dn)
		}
		if strings.Contains(strings.ToLower(e.dn.String()), "contoso") != true {
			t.Errorf("%s: outside the domain", e.dn)
		}
	}
	if n < 320 {
		t.Errorf("fresh domain has %d objects, want the reference's ~330", n)
	}
}

// TestBootstrapRenames: a domain with other names and SID has none of the reference's left.
func TestBootstrapRenames(t *testing.T) {
	cfg := DomainConfig{DNSName: "fabrikam.local", NetBIOSName: "FABRIKAM", DomainSID: "S-1-5-21-1-2-3",
		SchemaVersion: 52, DCs: []DCConfig{{Name: "ADDS01", OS: "2012"}}, AdminPassword: "x"}
	ds, err := NewDomain(cfg, &seqIDs{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	d := ds[0]
	x := exportString(t, d)
	for _, bad := range []string{"contoso", "CONTOSO", "CN=DC1,", "dc1.", "1099459271"} {
		if strings.Contains(x, bad) {
			i := strings.Index(x, bad)
			t.Errorf("export still mentions %q: ...%s...", bad, x[max(0, i-80):i+20])
		}
	}
	res := search(t, d, SystemCaller, "CN=Schema,CN=Configuration,DC=fabrikam,DC=local", ScopeBase, "(objectClass=dMD)", "objectVersion")
	if len(res) != 1 || attrOf(res[0], "objectVersion")[0] != "52" {
		t.Errorf("schema version: %+v", res)
	}
	res = search(t, d, SystemCaller, "DC=fabrikam,DC=local", ScopeBase, "(objectClass=*)", "objectSid", "dc")
	sid, _ := ad.SIDFromBytes([]byte(attrOf(res[0], "objectSid")[0]))
	if sid.String() != "S-1-5-21-1-2-3" || attrOf(res[0], "dc")[0] != "fabrikam" {
		t.Errorf("domain head: sid %s dc %v", sid, attrOf(res[0], "dc"))
	}
	res = search(t, d, SystemCaller, "CN=Partitions,CN=Configuration,DC=fabrikam,DC=local", ScopeOne, "(nETBIOSName=*)", "nETBIOSName", "dnsRoot", "nCName")
	if len(res) != 1 || attrOf(res[0], "nETBIOSName")[0] != "FABRIKAM" || attrOf(res[0], "dnsRoot")[0] != "fabrikam.local" ||
		attrOf(res[0], "nCName")[0] != "DC=fabrikam,DC=local" {
		t.Errorf("crossRef: %+v", res)
	}
	rd := search(t, d, SystemCaller, "", ScopeBase, "(objectClass=*)")
	if got := attrOf(rd[0], "domainControllerFunctionality"); !slices.Equal(got, []string{"5"}) {
		t.Errorf("2012 DC functionality %v", got)
	}
	if got := attrOf(rd[0], "dsServiceName")[0]; got != "CN=NTDS Settings,CN=ADDS01,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=fabrikam,DC=local" {
		t.Errorf("dsServiceName %s", got)
	}
	// the group memberships of the reference survive the renaming
	adm, err := d.Bind(t0, "FABRIKAM\\Administrator", "x", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"S-1-5-21-1-2-3-512", "S-1-5-21-1-2-3-513", "S-1-5-21-1-2-3-519", "S-1-5-21-1-2-3-518", "S-1-5-32-544"} {
		if !slices.Contains(adm.Token, want) {
			t.Errorf("token lacks %s: %v", want, adm.Token)
		}
	}
}

func TestBootstrapSameSeedSameBytes(t *testing.T) {
	a := exportString(t, newTestDomain(t)[0])
	b := exportString(t, newTestDomain(t)[0])
	if a != b {
		t.Fatal("two domains from the same ids differ")
	}
}

// TestBootstrapMatchesReference compares every reference object a fresh domain copies with the
// copy: objectClass, objectSid (the domain SID swapped), memberOf (computed from member) and
// sAMAccountName / groupType / userAccountControl.
func TestBootstrapMatchesReference(t *testing.T) {
	cfg := testConfig()
	ds, err := NewDomain(cfg, &seqIDs{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	d := ds[0]
	recs, err := ReadLDIF(strings.NewReader(string(domainLDIF) + "\n" + string(configurationLDIF)))
	if err != nil {
		t.Fatal(err)
	}
	ref := ad.MustParseSID(refDomainSID)
	checked := 0
	for _, r := range recs {
		if skipTemplateDN(r.DN) || strings.Contains(strings.ToLower(r.DN), "cn=displayspecifiers") {
			continue
		}
		want := recordValues(r)
		res, err := d.Search(t0, SystemCaller, &SearchRequest{BaseDN: r.DN, Scope: ScopeBase, Filter: FilterPresent{Attr: "objectClass"},
			Attributes: []string{"objectClass", "objectSid", "memberOf", "sAMAccountName", "groupType", "userAccountControl"}})
		if err != nil {
			if strings.Contains(r.DN, "CN=RID Set") || strings.Contains(r.DN, "CN=NTDS Settings") || strings.Contains(r.DN, "CN=DC1,") {
				continue // per-DC objects are made anew
			}
			t.Errorf("%s: %v", r.DN, err)
			continue
		}
		checked++
		got := res[0]
		if !slices.Equal(attrOf(got, "objectClass"), want["objectclass"]) {
			t.Errorf("%s: objectClass %v, reference %v", r.DN, attrOf(got, "objectClass"), want["objectclass"])
		}
		for _, a := range []string{"sAMAccountName", "groupType", "userAccountControl"} {
			if w := want[strings.ToLower(a)]; w != nil && !slices.Equal(attrOf(got, a), w) {
				t.Errorf("%s: %s %v, reference %v", r.DN, a, attrOf(got, a), w)
			}
		}
		if w := want["objectsid"]; w != nil && !strings.HasPrefix(r.DN, "DC=") {
			rs, _ := ad.SIDFromBytes([]byte(w[0]))
			gs, _ := ad.SIDFromBytes([]byte(attrOf(got, "objectSid")[0]))
			if rs.Domain().Equal(ref) {
				if gs.String() != testSID+"-"+itoa(int64(rs.RID())) {
					t.Errorf("%s: objectSid %s, reference %s", r.DN, gs, rs)
				}
			} else if !gs.Equal(rs) {
				t.Errorf("%s: objectSid %s, reference %s", r.DN, gs, rs)
			}
		}
		wm := slices.Clone(want["memberof"])
		gm := slices.Clone(attrOf(got, "memberOf"))
		slices.Sort(wm)
		slices.Sort(gm)
		if !slices.Equal(wm, gm) {
			t.Errorf("%s: memberOf %v, reference %v", r.DN, gm, wm)
		}
	}
	t.Logf("checked %d reference objects", checked)
	if checked < 300 {
		t.Errorf("checked %d reference objects", checked)
	}
}
