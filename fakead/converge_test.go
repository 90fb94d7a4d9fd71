package fakead

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestRandomWritesConverge (200 seeds pass; 20 run by default): random adds, modifies, renames and deletes on three replicas with
// random partial replication in between; after a full exchange every replica has the same digest.
func TestRandomWritesConverge(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { randomConverge(t, seed) })
	}
}

func randomConverge(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	ds := newTestDomain(t, DCConfig{Name: "DC1", OS: "2022"}, DCConfig{Name: "DC2", OS: "2022"}, DCConfig{Name: "DC3", OS: "2016"})
	// water[i][j]: what j has seen of i.
	water := [3][3]uint64{}
	for i := range ds {
		for j := range ds {
			water[i][j] = ds[i].HighestUSN()
		}
	}
	now := t0
	sync := func(from, to int) {
		checkChangeLog(t, ds[from], water[from][to])
		ch := ds[from].ChangesSince(water[from][to])
		water[from][to] = ds[from].HighestUSN()
		if err := ds[to].ApplyReplicated(now, ch); err != nil {
			t.Fatalf("seed %d: apply %d→%d: %v", seed, from, to, err)
		}
	}
	names := []string{"u1", "u2", "u3", "u4", "u5"}
	ous := []string{"CN=Users,DC=contoso,DC=com", "OU=A,DC=contoso,DC=com"}
	if err := ds[0].Add(now, SystemCaller, "OU=A,DC=contoso,DC=com", []Attribute{sattr("objectClass", "organizationalUnit")}); err != nil {
		t.Fatal(err)
	}
	group := "CN=G,CN=Users,DC=contoso,DC=com"
	if err := ds[0].Add(now, SystemCaller, group, []Attribute{sattr("objectClass", "group")}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			if i != j {
				sync(i, j)
			}
		}
	}
	find := func(d *Directory, name string) string {
		res := search(t, d, SystemCaller, "DC=contoso,DC=com", ScopeSub, "(cn="+name+")", "1.1")
		if len(res) == 0 {
			return ""
		}
		return res[0].DN
	}
	for step := 0; step < 150; step++ {
		now = now.Add(time.Duration(1+rng.IntN(120)) * time.Second)
		d := ds[rng.IntN(3)]
		name := names[rng.IntN(len(names))]
		dn := find(d, name)
		switch op := rng.IntN(11); {
		case op < 3 && dn == "":
			_ = d.Add(now, SystemCaller, "CN="+name+","+ous[rng.IntN(2)], []Attribute{sattr("objectClass", "user"),
				sattr("sAMAccountName", name+fmt.Sprint(rng.IntN(1000)))})
		case op < 6 && dn != "":
			_ = d.Modify(now, SystemCaller, dn, []Modification{{Op: ModReplace, Attr: sattr("description", fmt.Sprint("d", step))}})
		case op < 7 && dn != "":
			_ = d.ModifyDN(now, SystemCaller, dn, "CN="+name, true, ous[rng.IntN(2)])
		case op < 8 && dn != "":
			_ = d.Delete(now, SystemCaller, dn)
		case op < 9 && dn != "":
			mop := ModAdd
			if rng.IntN(2) == 0 {
				mop = ModDelete
			}
			_ = d.Modify(now, SystemCaller, group, []Modification{{Op: mop, Attr: sattr("member", dn)}})
		default:
			from, to := rng.IntN(3), rng.IntN(3)
			if from != to {
				sync(from, to)
			}
		}
	}
	for round := 0; round < 4; round++ {
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				if i != j {
					sync(i, j)
				}
			}
		}
	}
	for i := 1; i < 3; i++ {
		if ds[0].Digest() != ds[i].Digest() {
			t.Fatalf("seed %d: DC1 and DC%d differ:\n%s", seed, i+1, strings.Join(DigestDiff(ds[0], ds[i]), "\n"))
		}
	}
}

// checkChangeLog pins the change log against the definition it replaces: the entries with an
// attribute whose local USN is above usn, found by scanning the whole replica, parents first.
func checkChangeLog(t *testing.T, d *Directory, usn uint64) {
	t.Helper()
	var want []*entry
	for depth := 0; ; depth++ {
		more := false
		for _, e := range d.all {
			if e == nil || e.depth < depth {
				continue
			}
			if e.depth > depth {
				more = true
				continue
			}
			if e.changedSince(usn) {
				want = append(want, e)
			}
		}
		if !more {
			break
		}
	}
	got := d.changedEntries(usn)
	if len(got) != len(want) {
		t.Fatalf("change log: %d entries changed since USN %d, a full scan finds %d", len(got), usn, len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("change log: entry %d is %s, a full scan gives %s", i, got[i].dn, want[i].dn)
		}
	}
}
