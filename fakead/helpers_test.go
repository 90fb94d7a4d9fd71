package fakead

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// seqIDs is a deterministic IDSource for tests.
type seqIDs struct{ n uint64 }

func (s *seqIDs) NewGUID() ad.GUID {
	s.n++
	var g ad.GUID
	binary.BigEndian.PutUint64(g[8:], s.n)
	g[0] = 0x42
	return g
}

var t0 = time.Date(2026, 11, 22, 1, 18, 44, 0, time.UTC)

const testSID = "S-1-5-21-1004336348-1177238915-682003330"

func testConfig(dcs ...DCConfig) DomainConfig {
	if len(dcs) == 0 {
		dcs = []DCConfig{{Name: "DC1", OS: "2022"}}
	}
	return DomainConfig{DNSName: "contoso.com", NetBIOSName: "CONTOSO", DomainSID: testSID,
		SchemaVersion: 88, DCs: dcs, AdminPassword: "P@ssw0rd!"}
}

func newTestDomain(t testing.TB, dcs ...DCConfig) []*Directory {
	t.Helper()
	ds, err := NewDomain(testConfig(dcs...), &seqIDs{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func adminCaller(t testing.TB, d *Directory) Caller {
	t.Helper()
	c, err := d.Bind(t0, "Administrator@contoso.com", "P@ssw0rd!", true)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func search(t testing.TB, d *Directory, c Caller, base string, scope Scope, filter string, attrs ...string) []SearchEntry {
	t.Helper()
	f, err := ParseFilter(filter)
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Search(t0, c, &SearchRequest{BaseDN: base, Scope: scope, Filter: f, Attributes: attrs, SDFlags: -1})
	if err != nil {
		t.Fatalf("search %s %s: %v", base, filter, err)
	}
	return res
}

func attrOf(se SearchEntry, name string) []string {
	for _, a := range se.Attributes {
		if a.Name == name {
			out := make([]string, len(a.Values))
			for i, v := range a.Values {
				out[i] = string(v)
			}
			return out
		}
	}
	return nil
}

func dns(es []SearchEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.DN
	}
	return out
}

func utf16Quoted(pw string) []byte { return fakekds.UTF16LE(`"` + pw + `"`) }
