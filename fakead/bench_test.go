package fakead

import (
	"strings"
	"testing"
)

func BenchmarkNewDomain(b *testing.B) {
	if _, err := NewDomain(testConfig(), &seqIDs{}, t0); err != nil { // warm the parse caches
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewDomain(testConfig(), &seqIDs{}, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExportImportLDIF(b *testing.B) {
	ds, err := NewDomain(testConfig(), &seqIDs{}, t0)
	if err != nil {
		b.Fatal(err)
	}
	x := exportString(b, ds[0])
	b.ReportAllocs()
	for b.Loop() {
		d, err := ImportLDIF(strings.NewReader(x))
		if err != nil {
			b.Fatal(err)
		}
		exportString(b, d)
	}
}

// bigDomain is a domain with n users user0..user(n-1) in CN=Users, each with a description.
func bigDomain(b *testing.B, n int) *Directory {
	b.Helper()
	d := newTestDomain(b)[0]
	for i := 0; i < n; i++ {
		name := "user" + itoa(int64(i))
		err := d.Add(t0, SystemCaller, "CN="+name+",CN=Users,DC=contoso,DC=com", []Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("user")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte(name)}},
			{Name: "description", Values: [][]byte{[]byte("desc " + name)}},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return d
}

func benchSearch(b *testing.B, d *Directory, req *SearchRequest, want int) {
	b.Helper()
	c := adminCaller(b, d)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := d.Search(t0, c, req)
		if err != nil || len(res) != want {
			b.Fatalf("%d entries, %v", len(res), err)
		}
	}
}

func BenchmarkSearchBaseObject(b *testing.B) {
	d := bigDomain(b, 10000)
	benchSearch(b, d, &SearchRequest{BaseDN: "CN=user5000,CN=Users,DC=contoso,DC=com", Scope: ScopeBase,
		Filter: FilterPresent{Attr: "objectClass"}}, 1)
}

func BenchmarkSearchEqualityIndexed(b *testing.B) {
	d := bigDomain(b, 10000)
	benchSearch(b, d, &SearchRequest{BaseDN: "DC=contoso,DC=com", Scope: ScopeSub,
		Filter: FilterEquality{Attr: "sAMAccountName", Value: []byte("user5000")}, Attributes: []string{"cn", "mail"}}, 1)
}

func BenchmarkSearchEqualityUnindexed(b *testing.B) {
	d := bigDomain(b, 10000)
	benchSearch(b, d, &SearchRequest{BaseDN: "DC=contoso,DC=com", Scope: ScopeSub,
		Filter: FilterEquality{Attr: "description", Value: []byte("desc user5000")}, Attributes: []string{"cn"}}, 1)
}

func BenchmarkAdd(b *testing.B) {
	d := newTestDomain(b)[0]
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		name := "u" + itoa(int64(i))
		i++
		if err := d.Add(t0, SystemCaller, "CN="+name+",CN=Users,DC=contoso,DC=com", []Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("user")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte(name)}},
		}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplicate1000(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		ds := newTestDomain(b, DCConfig{Name: "DC1", OS: "2022"}, DCConfig{Name: "DC2", OS: "2022"})
		w := ds[0].HighestUSN()
		for i := 0; i < 1000; i++ {
			name := "r" + itoa(int64(i))
			if err := ds[0].Add(t0, SystemCaller, "CN="+name+",CN=Users,DC=contoso,DC=com", []Attribute{
				{Name: "objectClass", Values: [][]byte{[]byte("user")}},
				{Name: "sAMAccountName", Values: [][]byte{[]byte(name)}},
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		ch := ds[0].ChangesSince(w)
		if len(ch) != 1000 {
			b.Fatalf("%d changes", len(ch))
		}
		if err := ds[1].ApplyReplicated(t0, ch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBind(b *testing.B) {
	d := newTestDomain(b)[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Bind(t0, "CONTOSO\\Administrator", "P@ssw0rd!", false); err != nil {
			b.Fatal(err)
		}
	}
}
