package fakead

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
)

// pair replicates between two replicas with USN watermarks, as the world does.
type pair struct {
	a, b     *Directory
	wAB, wBA uint64
}

func (p *pair) ab(t *testing.T, now time.Time) {
	t.Helper()
	ch := p.a.ChangesSince(p.wAB)
	p.wAB = p.a.HighestUSN()
	if err := p.b.ApplyReplicated(now, ch); err != nil {
		t.Fatal(err)
	}
}

func (p *pair) ba(t *testing.T, now time.Time) {
	t.Helper()
	ch := p.b.ChangesSince(p.wBA)
	p.wBA = p.b.HighestUSN()
	if err := p.a.ApplyReplicated(now, ch); err != nil {
		t.Fatal(err)
	}
}

func (p *pair) converge(t *testing.T, now time.Time) {
	t.Helper()
	for i := 0; i < 4; i++ {
		p.ab(t, now)
		p.ba(t, now)
	}
	if p.a.Digest() != p.b.Digest() {
		t.Fatalf("replicas differ:\n%s", strings.Join(DigestDiff(p.a, p.b), "\n"))
	}
}

func twoDCs(t *testing.T) *pair {
	ds := newTestDomain(t, DCConfig{Name: "DC1", OS: "2022"}, DCConfig{Name: "DC2", OS: "2016"})
	if ds[0].Digest() != ds[1].Digest() {
		t.Fatalf("fresh replicas differ:\n%s", strings.Join(DigestDiff(ds[0], ds[1]), "\n"))
	}
	if ds[0].InvocationID() == ds[1].InvocationID() {
		t.Fatal("replicas share an invocationId")
	}
	return &pair{a: ds[0], b: ds[1], wAB: ds[0].HighestUSN(), wBA: ds[1].HighestUSN()}
}

func addUser(t *testing.T, d *Directory, now time.Time, name string) {
	t.Helper()
	c := adminCaller(t, d)
	err := d.Add(now, c, "CN="+name+",CN=Users,DC=contoso,DC=com", []Attribute{
		{Name: "objectClass", Values: [][]byte{[]byte("user")}},
		{Name: "sAMAccountName", Values: [][]byte{[]byte(name)}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func descOf(t *testing.T, d *Directory, dn string) []string {
	t.Helper()
	res := search(t, d, SystemCaller, dn, ScopeBase, "(objectClass=*)", "description")
	return attrOf(res[0], "description")
}

func TestReplicationAddModifyDelete(t *testing.T) {
	p := twoDCs(t)
	t1 := t0.Add(time.Minute)
	addUser(t, p.a, t1, "bob")
	if res := search(t, p.b, SystemCaller, "DC=contoso,DC=com", ScopeSub, "(sAMAccountName=bob)"); len(res) != 0 {
		t.Fatal("bob on DC2 before replication")
	}
	p.ab(t, t1.Add(time.Hour))
	res := search(t, p.b, SystemCaller, "DC=contoso,DC=com", ScopeSub, "(sAMAccountName=bob)", "objectSid", "whenCreated")
	if len(res) != 1 || attrOf(res[0], "whenCreated")[0] != ad.GeneralizedTime(t1) {
		t.Fatalf("bob on DC2: %+v", res)
	}
	p.converge(t, t1.Add(2*time.Hour))
	// Concurrent writes of one attribute: both version 2; the later originating time wins.
	bob := "CN=bob,CN=Users,DC=contoso,DC=com"
	mod := func(d *Directory, at time.Time, v string) {
		if err := d.Modify(at, SystemCaller, bob, []Modification{{Op: ModReplace, Attr: Attribute{Name: "description", Values: [][]byte{[]byte(v)}}}}); err != nil {
			t.Fatal(err)
		}
	}
	mod(p.a, t1.Add(3*time.Hour), "from DC1")
	mod(p.b, t1.Add(3*time.Hour+time.Second), "from DC2")
	p.converge(t, t1.Add(4*time.Hour))
	if got := descOf(t, p.a, bob); !slices.Equal(got, []string{"from DC2"}) {
		t.Errorf("later write should win, got %v", got)
	}
	// Higher version beats later time.
	mod(p.a, t1.Add(5*time.Hour), "DC1 v3")
	mod(p.a, t1.Add(5*time.Hour), "DC1 v4")
	mod(p.b, t1.Add(6*time.Hour), "DC2 v3 later")
	p.converge(t, t1.Add(7*time.Hour))
	if got := descOf(t, p.b, bob); !slices.Equal(got, []string{"DC1 v4"}) {
		t.Errorf("higher version should win, got %v", got)
	}
	// Delete replicates as a tombstone.
	if err := p.b.Delete(t1.Add(8*time.Hour), SystemCaller, bob); err != nil {
		t.Fatal(err)
	}
	p.converge(t, t1.Add(9*time.Hour))
	if res := search(t, p.a, SystemCaller, "DC=contoso,DC=com", ScopeSub, "(sAMAccountName=bob)"); len(res) != 0 {
		t.Errorf("bob still visible on DC1: %v", dns(res))
	}
}

func TestReplicationNameConflict(t *testing.T) {
	p := twoDCs(t)
	t1 := t0.Add(time.Minute)
	addUser(t, p.a, t1, "carol")
	// The same DN created on DC2 a second later, with another sAMAccountName.
	c := adminCaller(t, p.b)
	if err := p.b.Add(t1.Add(time.Second), c, "CN=carol,CN=Users,DC=contoso,DC=com", []Attribute{
		{Name: "objectClass", Values: [][]byte{[]byte("user")}}, {Name: "sAMAccountName", Values: [][]byte{[]byte("carol2")}}}); err != nil {
		t.Fatal(err)
	}
	p.converge(t, t1.Add(time.Hour))
	res := search(t, p.a, SystemCaller, "CN=Users,DC=contoso,DC=com", ScopeOne, "(|(sAMAccountName=carol)(sAMAccountName=carol2))", "sAMAccountName")
	if len(res) != 2 {
		t.Fatalf("want both objects, got %v", dns(res))
	}
	for _, r := range res {
		switch attrOf(r, "sAMAccountName")[0] {
		case "carol2": // the later name wins the DN
			if r.DN != "CN=carol,CN=Users,DC=contoso,DC=com" {
				t.Errorf("winner DN %q", r.DN)
			}
		default:
			if !strings.HasPrefix(r.DN, "CN=carol\\0ACNF:") {
				t.Errorf("loser DN %q", r.DN)
			}
		}
	}
}

func TestReplicationMoveUnderYoungerParent(t *testing.T) {
	p := twoDCs(t)
	t1 := t0.Add(time.Minute)
	addUser(t, p.a, t1, "gina")
	if err := p.a.Add(t1, SystemCaller, "OU=Later,DC=contoso,DC=com", []Attribute{sattr("objectClass", "organizationalUnit")}); err != nil {
		t.Fatal(err)
	}
	if err := p.a.ModifyDN(t1.Add(time.Second), SystemCaller, "CN=gina,CN=Users,DC=contoso,DC=com", "CN=gina", true, "OU=Later,DC=contoso,DC=com"); err != nil {
		t.Fatal(err)
	}
	p.converge(t, t1.Add(time.Hour))
	if res := search(t, p.b, SystemCaller, "OU=Later,DC=contoso,DC=com", ScopeOne, "(sAMAccountName=gina)", "1.1"); len(res) != 1 {
		t.Errorf("gina on DC2: %v", dns(res))
	}
}

func TestReplicationOrphanGoesToLostAndFound(t *testing.T) {
	p := twoDCs(t)
	t1 := t0.Add(time.Minute)
	if err := p.a.Add(t1, SystemCaller, "OU=Doomed,DC=contoso,DC=com", []Attribute{sattr("objectClass", "organizationalUnit")}); err != nil {
		t.Fatal(err)
	}
	p.converge(t, t1.Add(time.Hour))
	if err := p.a.Delete(t1.Add(2*time.Hour), SystemCaller, "OU=Doomed,DC=contoso,DC=com"); err != nil {
		t.Fatal(err)
	}
	if err := p.b.Add(t1.Add(2*time.Hour), SystemCaller, "CN=hal,OU=Doomed,DC=contoso,DC=com", []Attribute{sattr("objectClass", "user"), sattr("sAMAccountName", "hal")}); err != nil {
		t.Fatal(err)
	}
	p.ab(t, t1.Add(3*time.Hour)) // DC2 learns of the delete while holding hal under it
	p.ba(t, t1.Add(3*time.Hour)) // DC1 receives hal whose parent it deleted
	p.converge(t, t1.Add(4*time.Hour))
	for _, d := range []*Directory{p.a, p.b} {
		res := search(t, d, SystemCaller, "DC=contoso,DC=com", ScopeSub, "(sAMAccountName=hal)", "1.1")
		if len(res) != 1 || res[0].DN != "CN=hal,CN=LostAndFound,DC=contoso,DC=com" {
			t.Errorf("orphan on %s: %v", d.DC().Name, dns(res))
		}
	}
}

func TestReplAttributeMetaData(t *testing.T) {
	p := twoDCs(t)
	t1 := t0.Add(time.Minute)
	addUser(t, p.a, t1, "ivy")
	dn := "CN=ivy,CN=Users,DC=contoso,DC=com"
	if err := p.a.Modify(t1.Add(time.Hour), SystemCaller, dn, []Modification{{Op: ModReplace, Attr: sattr("description", "x")}}); err != nil {
		t.Fatal(err)
	}
	p.ab(t, t1.Add(2*time.Hour))
	res := search(t, p.b, SystemCaller, dn, ScopeBase, "(objectClass=*)", "msDS-ReplAttributeMetaData")
	var desc string
	for _, v := range attrOf(res[0], "msDS-ReplAttributeMetaData") {
		if strings.Contains(v, "<pszAttributeName>description</pszAttributeName>") {
			desc = v
		}
	}
	for _, want := range []string{"<dwVersion>1</dwVersion>", "<ftimeLastOriginatingChange>2026-11-22T02:19:44Z</ftimeLastOriginatingChange>",
		"<uuidLastOriginatingDsaInvocationID>" + p.a.InvocationID().String() + "</uuidLastOriginatingDsaInvocationID>"} {
		if !strings.Contains(desc, want) {
			t.Errorf("description metadata on DC2 lacks %s:\n%s", want, desc)
		}
	}
	if strings.Contains(desc, "<usnLocalChange>"+itoa(int64(p.a.HighestUSN()))+"</usnLocalChange>") && p.a.HighestUSN() != p.b.HighestUSN() {
		t.Errorf("local USN should be DC2's own:\n%s", desc)
	}
}
