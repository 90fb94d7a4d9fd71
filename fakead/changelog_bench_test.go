package fakead

import (
	"strconv"
	"testing"
)

// BenchmarkWriteThenChangesSince is what the world does after every operation: one write, then
// "what changed since the last look". With the change log its cost does not grow with the
// directory (it used to scan every entry: ~2.7 ms per add at 8,000 users).
func BenchmarkWriteThenChangesSince(b *testing.B) {
	for _, size := range []int{100, 10000} {
		b.Run("users="+strconv.Itoa(size), func(b *testing.B) {
			d := newTestDomain(b, DCConfig{Name: "DC1", OS: "2022"})[0]
			for i := range size {
				if err := d.Add(t0, SystemCaller, "CN=u"+strconv.Itoa(i)+",CN=Users,DC=contoso,DC=com",
					[]Attribute{sattr("objectClass", "user"), sattr("sAMAccountName", "u"+strconv.Itoa(i))}); err != nil {
					b.Fatal(err)
				}
			}
			last := d.HighestUSN()
			d.ChangesSince(last)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dn := "CN=u" + strconv.Itoa(i%size) + ",CN=Users,DC=contoso,DC=com"
				if err := d.Modify(t0, SystemCaller, dn, []Modification{{Op: ModReplace, Attr: sattr("description", strconv.Itoa(i))}}); err != nil {
					b.Fatal(err)
				}
				if ch := d.ChangesSince(last); len(ch) != 1 {
					b.Fatalf("%d changes, want 1", len(ch))
				}
				last = d.HighestUSN()
			}
		})
	}
}

// An add that fails after the model has started building the object (here: a gMSA refused for
// want of a root key, and a user without its mandatory class) leaves nothing to replicate.
func TestFailedAddIsNotAChange(t *testing.T) {
	d := newTestDomain(t, DCConfig{Name: "DC1", OS: "2022"})[0]
	d.ChangesSince(0) // build the change log
	before := d.HighestUSN()
	err := d.Add(t0, SystemCaller, "CN=ITFarm1,CN=Managed Service Accounts,DC=contoso,DC=com", []Attribute{
		sattr("objectClass", "msDS-GroupManagedServiceAccount"), sattr("sAMAccountName", "ITFarm1$"),
		sattr("dNSHostName", "itfarm1.contoso.com"), sattr("msDS-ManagedPasswordInterval", "30")})
	if err == nil {
		t.Fatal("gMSA add without a KDS root key succeeded")
	}
	if err := d.Add(t0, SystemCaller, "CN=nobody,CN=Users,DC=contoso,DC=com", []Attribute{sattr("sAMAccountName", "nobody")}); err == nil {
		t.Fatal("add without objectClass succeeded")
	}
	if ch := d.ChangesSince(before); len(ch) != 0 {
		t.Fatalf("failed adds replicate: %d changes, first %s", len(ch), ch[0].DN)
	}
	checkChangeLog(t, d, before)
}
