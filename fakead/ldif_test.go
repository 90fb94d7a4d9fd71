package fakead

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func exportString(t testing.TB, d *Directory) string {
	t.Helper()
	var b bytes.Buffer
	if err := d.ExportLDIF(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestLDIFRoundTrip(t *testing.T) {
	p := twoDCs(t)
	t1 := t0.Add(time.Minute)
	addUser(t, p.a, t1, "dave")
	if err := p.a.SetPassword(t1, SystemCaller, "CN=dave,CN=Users,DC=contoso,DC=com", "Dave1!"); err != nil {
		t.Fatal(err)
	}
	if err := p.a.Modify(t1, SystemCaller, "CN=dave,CN=Users,DC=contoso,DC=com", []Modification{{Op: ModReplace,
		Attr: Attribute{Name: "userAccountControl", Values: [][]byte{[]byte("512")}}}}); err != nil {
		t.Fatal(err)
	}
	if err := p.a.Grant("CN=Users,DC=contoso,DC=com", testSID+"-1100", RightCreateChild, "computer"); err != nil {
		t.Fatal(err)
	}
	addUser(t, p.a, t1, "erin")
	if err := p.a.Delete(t1, SystemCaller, "CN=erin,CN=Users,DC=contoso,DC=com"); err != nil {
		t.Fatal(err)
	}
	p.converge(t, t1.Add(time.Hour))
	x := exportString(t, p.a)
	if strings.Contains(x, "Dave1!") {
		t.Fatal("plaintext password in the export")
	}
	if !strings.Contains(x, "dn: CN=erin\\0ADEL:") {
		t.Error("tombstone missing from the export")
	}
	d2, err := ImportLDIF(strings.NewReader(x))
	if err != nil {
		t.Fatal(err)
	}
	if y := exportString(t, d2); y != x {
		t.Fatalf("export(import(x)) != x (%d vs %d bytes)", len(y), len(x))
	}
	if d2.Digest() != p.a.Digest() || d2.HighestUSN() != p.a.HighestUSN() || d2.InvocationID() != p.a.InvocationID() {
		t.Error("imported replica differs")
	}
	if _, err := d2.Bind(t1, "CONTOSO\\dave", "Dave1!", false); err != nil {
		t.Errorf("bind on the imported replica: %v", err)
	}
	// The imported replica keeps working: searches, and writes once it has an id source.
	d2.SetIDSource(&seqIDs{n: 1 << 32})
	addUser(t, d2, t1.Add(2*time.Hour), "frank")
	if res := search(t, d2, SystemCaller, "DC=contoso,DC=com", ScopeSub, "(sAMAccountName=frank)"); len(res) != 1 {
		t.Errorf("frank: %v", dns(res))
	}
	// The same construction twice gives the same bytes.
	q := twoDCs(t)
	if exportString(t, q.a) == "" || exportString(t, q.a) != exportString(t, newTestDomain(t, DCConfig{Name: "DC1", OS: "2022"}, DCConfig{Name: "DC2", OS: "2016"})[0]) {
		t.Error("export is not deterministic")
	}
}

func TestImportLDIFErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"no state":     "dn: DC=contoso,DC=com\nobjectClass: top\n\n",
		"bad format":   "dn:\nx-gmsasim-format: nope\n\n",
		"garbage":      "\x00\x01\x02",
		"orphan entry": "dn:\nx-gmsasim-format: gmsasim-replica-1\nx-gmsasim-dnsName: a.b\nx-gmsasim-netbiosName: A\nx-gmsasim-domainSID: S-1-5-21-1-2-3\nx-gmsasim-schemaVersion: 88\nx-gmsasim-dc: DC1 2022\nx-gmsasim-dcIndex: 0\nx-gmsasim-invocationId: 00000000-0000-0000-0000-000000000001\nx-gmsasim-usn: 1\nx-gmsasim-rid: 1 2\n\ndn: CN=x,CN=y,DC=a,DC=b\nobjectClass: top\n\n",
	} {
		if _, err := ImportLDIF(strings.NewReader(in)); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func FuzzImportLDIF(f *testing.F) {
	ds, err := NewDomain(testConfig(), &seqIDs{}, t0)
	if err != nil {
		f.Fatal(err)
	}
	var b bytes.Buffer
	if err := ds[0].ExportLDIF(&b); err != nil {
		f.Fatal(err)
	}
	full := b.String()
	f.Add(full[:4000])
	f.Add(full[:len(full)/3])
	f.Add("dn:\nx-gmsasim-format: gmsasim-replica-1\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ImportLDIF(strings.NewReader(in))
		if err != nil {
			return
		}
		x := exportString(t, d)
		d2, err := ImportLDIF(strings.NewReader(x))
		if err != nil {
			t.Fatalf("re-import of an export failed: %v", err)
		}
		if y := exportString(t, d2); y != x {
			t.Fatal("export(import(export)) differs")
		}
	})
}
