package sim

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
)

// These are issue 2's acceptance points 4 and 5, against the real directory model.

const (
	usersDN = "CN=Users,DC=contoso,DC=com"
	adminDN = "CN=Administrator,CN=Users,DC=contoso,DC=com"
	guestDN = "CN=Guest,CN=Users,DC=contoso,DC=com"
	krbDN   = "CN=krbtgt,CN=Users,DC=contoso,DC=com"
)

func newTestWorld(t testing.TB, cfg Config) *World {
	t.Helper()
	w, err := New(cfg)
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	return w
}

// addUser adds a user on dc as the directory itself.
func addUser(t testing.TB, w *World, dc, cn string) string {
	t.Helper()
	dn := "CN=" + cn + "," + usersDN
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		return d.Add(now, fakead.SystemCaller, dn, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("user")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte(cn)}},
		})
	})
	if err != nil {
		t.Fatalf("add %s on %s: %v", dn, dc, err)
	}
	return dn
}

// setAttr replaces one attribute on dc as the directory itself.
func setAttr(t testing.TB, w *World, dc, dn, attr, val string) {
	t.Helper()
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		return d.Modify(now, fakead.SystemCaller, dn, []fakead.Modification{
			{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: attr, Values: [][]byte{[]byte(val)}}},
		})
	})
	if err != nil {
		t.Fatalf("modify %s %s on %s: %v", dn, attr, dc, err)
	}
}

// readAttr reads one attribute on dc: ok is false when the object does not exist there.
func readAttr(t testing.TB, w *World, dc, dn, attr string) (val string, ok bool) {
	t.Helper()
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{
			BaseDN: dn, Scope: fakead.ScopeBase, Filter: fakead.FilterPresent{Attr: "objectClass"},
			Attributes: []string{attr}, SDFlags: -1,
		})
		if fakead.CodeOf(err) == fakead.NoSuchObject {
			return nil
		}
		if err != nil {
			return err
		}
		if len(res) != 1 {
			return fmt.Errorf("%d entries for a base search", len(res))
		}
		ok = true
		for _, a := range res[0].Attributes {
			if strings.EqualFold(a.Name, attr) {
				var vs []string
				for _, v := range a.Values {
					vs = append(vs, string(v))
				}
				val = strings.Join(vs, ";")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s %s on %s: %v", dn, attr, dc, err)
	}
	return val, ok
}

func TestWriteReachesOtherDCAfterLinkDelay(t *testing.T) {
	w := newTestWorld(t, twoDCs(time.Hour))
	dn := addUser(t, w, "DC1", "alice")
	setAttr(t, w, "DC1", adminDN, "description", "set on DC1")
	mustAdvance(t, w, 59*time.Minute)
	if _, ok := readAttr(t, w, "DC2", dn, "sAMAccountName"); ok {
		t.Fatal("alice is on DC2 at +59m; the link delay is 1h")
	}
	if v, _ := readAttr(t, w, "DC2", adminDN, "description"); v == "set on DC1" {
		t.Fatal("the description reached DC2 at +59m")
	}
	mustAdvance(t, w, 2*time.Minute)
	if v, ok := readAttr(t, w, "DC2", dn, "sAMAccountName"); !ok || v != "alice" {
		t.Fatalf("DC2 at +61m: alice present=%v sAMAccountName=%q", ok, v)
	}
	if v, _ := readAttr(t, w, "DC2", adminDN, "description"); v != "set on DC1" {
		t.Fatalf("DC2 at +61m: description %q", v)
	}
	// The add and the modify were two operations: two batches, each one link delay after its write.
	if strings.Count(traceText(w), "+1h00m00s DC2 replicated 1 change from DC1\n") != 1 ||
		!strings.HasSuffix(traceText(w), "+1h00m00s DC2 replicated 1 change from DC1") {
		t.Errorf("trace:\n%s", traceText(w))
	}
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	if err := w.CheckConverged(); err != nil {
		t.Error(err)
	}
}

func TestCutLinkHoldsWriteUntilHealed(t *testing.T) {
	w := newTestWorld(t, twoDCs(time.Hour))
	if err := w.CutLink("DC1", "DC2"); err != nil {
		t.Fatal(err)
	}
	dn := addUser(t, w, "DC1", "bob")
	mustAdvance(t, w, 24*time.Hour)
	if _, ok := readAttr(t, w, "DC2", dn, "cn"); ok {
		t.Fatal("bob crossed a cut link")
	}
	if err := w.HealLink("DC1", "DC2"); err != nil {
		t.Fatal(err)
	}
	mustAdvance(t, w, 59*time.Minute)
	if _, ok := readAttr(t, w, "DC2", dn, "cn"); ok {
		t.Fatal("bob arrived before the delay after the heal")
	}
	mustAdvance(t, w, 2*time.Minute)
	if _, ok := readAttr(t, w, "DC2", dn, "cn"); !ok {
		t.Fatal("bob absent 61m after the heal")
	}
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	if err := w.CheckConverged(); err != nil {
		t.Error(err)
	}
}

// invocationID finds a DC's invocationId from the stamp of a write it originated.
func invocationID(t *testing.T, w *World, dc string) ad.GUID {
	t.Helper()
	var inv ad.GUID
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		before := d.HighestUSN()
		if err := d.Modify(now, fakead.SystemCaller, krbDN, []fakead.Modification{
			{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: "info", Values: [][]byte{[]byte("probe " + dc)}}}}); err != nil {
			return err
		}
		for _, c := range d.ChangesSince(before) {
			for _, a := range c.Attrs {
				if strings.EqualFold(a.Name, "info") {
					inv = a.Meta.OrigDSA
				}
			}
		}
		return nil
	})
	if err != nil || inv == (ad.GUID{}) {
		t.Fatalf("invocationId of %s: %v (none found)", dc, err)
	}
	return inv
}

// Concurrent writes converge to AD's winner on both DCs, one rung of the rule at a time.
func TestConcurrentWritesConvergeToADWinner(t *testing.T) {
	w := newTestWorld(t, twoDCs(time.Hour))
	inv1, inv2 := invocationID(t, w, "DC1"), invocationID(t, w, "DC2")
	if w.DC("DC1").InvocationID() != inv1 || w.DC("DC2").InvocationID() != inv2 || inv1 == inv2 {
		t.Fatalf("DC.InvocationID = %x %x, stamps say %x %x", w.DC("DC1").InvocationID(), w.DC("DC2").InvocationID(), inv1, inv2)
	}
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	// Rung 1, version: DC1 writes twice, DC2 once but later. The higher version wins.
	setAttr(t, w, "DC1", adminDN, "description", "dc1 first")
	setAttr(t, w, "DC1", adminDN, "description", "dc1 second")
	// Rung 2, time: one write each, DC2's a minute later. The later one wins.
	setAttr(t, w, "DC1", guestDN, "description", "dc1 earlier")
	mustAdvance(t, w, time.Minute)
	setAttr(t, w, "DC2", adminDN, "description", "dc2 later")
	setAttr(t, w, "DC2", guestDN, "description", "dc2 later")
	// Rung 3, invocationId: one write each at the same instant. The higher invocationId wins.
	setAttr(t, w, "DC1", krbDN, "description", "from DC1")
	setAttr(t, w, "DC2", krbDN, "description", "from DC2")
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	wantKrb := "from DC1"
	if bytes.Compare(inv2[:], inv1[:]) > 0 {
		wantKrb = "from DC2"
	}
	for _, dc := range []string{"DC1", "DC2"} {
		for dn, want := range map[string]string{adminDN: "dc1 second", guestDN: "dc2 later", krbDN: wantKrb} {
			if got, _ := readAttr(t, w, dc, dn, "description"); got != want {
				t.Errorf("%s %s description = %q, want %q (invocationIds DC1 %x DC2 %x)", dc, dn, got, want, inv1, inv2)
			}
		}
	}
	if err := w.CheckConverged(); err != nil {
		t.Error(err)
	}
}

func TestThreeDCChainPropagation(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 4, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}, {Name: "DC3"}},
		Links: []LinkSpec{{A: "DC1", B: "DC2", Delay: time.Hour}, {A: "DC2", B: "DC3", Delay: time.Hour}}})
	dn := addUser(t, w, "DC1", "carol")
	mustAdvance(t, w, 61*time.Minute)
	_, on2 := readAttr(t, w, "DC2", dn, "cn")
	_, on3 := readAttr(t, w, "DC3", dn, "cn")
	if !on2 || on3 {
		t.Fatalf("at +61m: on DC2 %v on DC3 %v, want true false", on2, on3)
	}
	mustAdvance(t, w, time.Hour)
	if _, on3 := readAttr(t, w, "DC3", dn, "cn"); !on3 {
		t.Fatal("carol did not reach DC3 through DC2 by +2h01m")
	}
	setAttr(t, w, "DC3", dn, "description", "back from DC3")
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	if v, _ := readAttr(t, w, "DC1", dn, "description"); v != "back from DC3" {
		t.Fatalf("DC1 description %q", v)
	}
	if err := w.CheckConverged(); err != nil {
		t.Error(err)
	}
}

func TestStoppedDCCatchesUp(t *testing.T) {
	w := newTestWorld(t, twoDCs(15*time.Minute))
	if err := w.StopDC("DC2"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Backend("DC2").Bind(false, adminDN, w.Config().AdminPassword); fakead.CodeOf(err) != fakead.Unavailable {
		t.Errorf("bind on a stopped DC = %v, want unavailable", err)
	}
	dn := addUser(t, w, "DC1", "dave")
	mustAdvance(t, w, 48*time.Hour)
	if err := w.StartDC("DC2"); err != nil {
		t.Fatal(err)
	}
	if _, ok := readAttr(t, w, "DC2", dn, "cn"); ok {
		t.Fatal("dave reached DC2 while it was stopped")
	}
	mustAdvance(t, w, 16*time.Minute)
	if _, ok := readAttr(t, w, "DC2", dn, "cn"); !ok {
		t.Fatal("DC2 did not catch up 16m after starting")
	}
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	if err := w.CheckConverged(); err != nil {
		t.Error(err)
	}
}

func TestEventBudgetExceededNamesTheSeed(t *testing.T) {
	cfg := twoDCs(time.Minute)
	cfg.Seed, cfg.MaxEvents = 2026, 3
	w := newTestWorld(t, cfg)
	for i := 0; i < 5; i++ {
		setAttr(t, w, "DC1", adminDN, "description", fmt.Sprint("v", i))
		mustAdvance(t, w, time.Second) // each write its own delivery
	}
	err := w.Advance(time.Hour)
	if !errors.Is(err, ErrEventBudget) || !strings.HasPrefix(err.Error(), "seed=2026 ") {
		t.Fatalf("err = %v, want ErrEventBudget starting seed=2026", err)
	}
}

// Acceptance 5: the same seed and operations give a byte-identical trace and LDIF export.
func TestSameSeedByteIdenticalTraceAndLDIF(t *testing.T) {
	run := func(seed uint64) (string, string) {
		var traceOut bytes.Buffer
		w := newTestWorld(t, Config{Seed: seed, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2", OS: "2016"}},
			LinkDelay: 30 * time.Minute, TraceWriter: &traceOut})
		be := w.Backend("DC1")
		admin, err := be.Bind(true, "Administrator@contoso.com", w.Config().AdminPassword)
		if err != nil {
			t.Fatalf("bind: %v", err)
		}
		if err := be.Add(admin, "CN=erin,"+usersDN, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("user")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte("erin")}}}); err != nil {
			t.Fatalf("add: %v", err)
		}
		mustAdvance(t, w, 10*time.Minute)
		setAttr(t, w, "DC2", adminDN, "description", "x")
		w.CutLink("DC1", "DC2")
		mustAdvance(t, w, 2*time.Hour)
		w.HealLink("DC1", "DC2")
		if err := w.Settle(); err != nil {
			t.Fatal(err)
		}
		var ldif bytes.Buffer
		for _, dc := range []string{"DC1", "DC2"} {
			if err := w.ExportLDIF(dc, &ldif); err != nil {
				t.Fatalf("export %s: %v", dc, err)
			}
		}
		var tr bytes.Buffer
		w.WriteTrace(&tr)
		if tr.String() != traceOut.String() {
			t.Errorf("trace writer and Trace differ:\n%s\n---\n%s", traceOut.String(), tr.String())
		}
		return tr.String(), ldif.String()
	}
	tr1, ldif1 := run(8)
	tr2, ldif2 := run(8)
	if tr1 != tr2 {
		t.Errorf("same seed, different traces:\n%s\n---\n%s", tr1, tr2)
	}
	if ldif1 != ldif2 {
		t.Errorf("same seed, different LDIF (%d vs %d bytes)", len(ldif1), len(ldif2))
	}
	if !strings.Contains(tr1, "DC1 add CN=erin,CN=Users,DC=contoso,DC=com") {
		t.Errorf("trace lacks the add:\n%s", tr1)
	}
	if _, ldif3 := run(9); ldif3 == ldif1 {
		t.Error("seeds 8 and 9 export the same LDIF: ids do not come from the seed")
	}
}

func TestBackendRunsThroughTheWorld(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	be := w.Backend("dc1")
	if _, err := be.Bind(false, adminDN, "wrong"); fakead.CodeOf(err) != fakead.InvalidCredentials {
		t.Errorf("wrong password = %v, want invalidCredentials", err)
	}
	admin, err := be.Bind(false, "CONTOSO\\Administrator", w.Config().AdminPassword)
	if err != nil || admin.Anonymous() {
		t.Fatalf("bind as Administrator: %+v %v", admin, err)
	}
	res, err := be.Search(admin, &fakead.SearchRequest{BaseDN: "CN=Schema,CN=Configuration,DC=contoso,DC=com",
		Scope: fakead.ScopeBase, Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: []string{"objectVersion"}, SDFlags: -1})
	if err != nil || len(res) != 1 || len(res[0].Attributes) != 1 || string(res[0].Attributes[0].Values[0]) != "88" {
		t.Fatalf("objectVersion: %+v %v", res, err)
	}
	if err := be.Add(admin, "CN=frank,"+usersDN, []fakead.Attribute{
		{Name: "objectClass", Values: [][]byte{[]byte("user")}}, {Name: "sAMAccountName", Values: [][]byte{[]byte("frank")}}}); err != nil {
		t.Fatal(err)
	}
	err = be.Add(admin, "CN=frank,"+usersDN, []fakead.Attribute{
		{Name: "objectClass", Values: [][]byte{[]byte("user")}}, {Name: "sAMAccountName", Values: [][]byte{[]byte("frank2")}}})
	var fe *fakead.Error
	if !errors.As(err, &fe) || fe.Code != fakead.EntryAlreadyExists || fe.Op != "add" {
		t.Errorf("duplicate add = %#v, want entryAlreadyExists", err)
	}
	ok, err := be.Compare(admin, "CN=frank,"+usersDN, "sAMAccountName", []byte("frank"))
	if err != nil || !ok {
		t.Errorf("compare = %v %v", ok, err)
	}
	if err := be.Modify(admin, "CN=frank,"+usersDN, []fakead.Modification{{Op: fakead.ModReplace,
		Attr: fakead.Attribute{Name: "description", Values: [][]byte{[]byte("d")}}}}); err != nil {
		t.Fatal(err)
	}
	if err := be.ModifyDN(admin, "CN=frank,"+usersDN, "CN=frank2", true, ""); err != nil {
		t.Fatal(err)
	}
	if err := be.Delete(admin, "CN=frank2,"+usersDN); err != nil {
		t.Fatal(err)
	}
	tr := w.Trace()
	want := []string{
		"+0s DC1 add CN=frank,CN=Users,DC=contoso,DC=com",
		"+0s DC1 add CN=frank,CN=Users,DC=contoso,DC=com: entryAlreadyExists",
		"+0s DC1 modify CN=frank,CN=Users,DC=contoso,DC=com",
		"+0s DC1 modifyDN CN=frank,CN=Users,DC=contoso,DC=com",
		"+0s DC1 delete CN=frank2,CN=Users,DC=contoso,DC=com",
	}
	if got := strings.Join(tr[1:], "\n"); got != strings.Join(want, "\n") {
		t.Errorf("trace =\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

func TestNewMakesAQueryableDomain(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 3, SchemaVersion: 52, DCs: []DCSpec{{Name: "DC1", OS: "2012"}, {Name: "DC2", OS: "2008R2"}}})
	for _, dc := range []string{"DC1", "DC2"} {
		if v, ok := readAttr(t, w, dc, "CN=Schema,CN=Configuration,DC=contoso,DC=com", "objectVersion"); !ok || v != "52" {
			t.Errorf("%s objectVersion = %q %v, want 52", dc, v, ok)
		}
		if v, _ := readAttr(t, w, dc, "CN=Domain Admins,"+usersDN, "objectSid"); !strings.HasSuffix(fmt.Sprintf("%x", v), "00020000") {
			t.Errorf("%s Domain Admins objectSid = %x, want RID 512", dc, v)
		}
	}
	if err := w.CheckConverged(); err != nil {
		t.Errorf("fresh replicas differ: %v", err)
	}
	if w.DC("dc2").OS() != "2008R2" || len(w.DCs()) != 2 || w.DC("dc9") != nil {
		t.Errorf("DC lookups wrong")
	}
}

// LDAP connection goroutines call the backend concurrently; the world serialises them (run with
// -race). The end state is checked, not the order: that is Go's scheduling.
func TestBackendConcurrentCallsAreSerialised(t *testing.T) {
	w := newTestWorld(t, twoDCs(time.Minute))
	const workers, ops = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*ops+1)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			be := w.Backend("DC1")
			dn := fmt.Sprintf("CN=worker%d,%s", i, usersDN)
			if err := be.Add(fakead.SystemCaller, dn, []fakead.Attribute{
				{Name: "objectClass", Values: [][]byte{[]byte("user")}},
				{Name: "sAMAccountName", Values: [][]byte{[]byte(fmt.Sprint("worker", i))}}}); err != nil {
				errs <- err
				return
			}
			for j := 0; j < ops; j++ {
				if err := be.Modify(fakead.SystemCaller, dn, []fakead.Modification{{Op: fakead.ModReplace,
					Attr: fakead.Attribute{Name: "description", Values: [][]byte{[]byte(fmt.Sprint(j))}}}}); err != nil {
					errs <- err
				}
				// Read every worker's entry and use the result outside the lock, as the LDAP
				// encoder does: -race flags a result that aliases the model's state.
				res, err := be.Search(fakead.SystemCaller, &fakead.SearchRequest{BaseDN: usersDN, Scope: fakead.ScopeOne,
					Filter: fakead.FilterSubstrings{Attr: "cn", Initial: []byte("worker")}, SDFlags: -1})
				if err != nil {
					errs <- err
				}
				n := 0
				for _, e := range res {
					for _, a := range e.Attributes {
						for _, v := range a.Values {
							n += len(v)
						}
					}
				}
				if len(res) > 0 && n == 0 {
					errs <- fmt.Errorf("search returned %d empty entries", len(res))
				}
			}
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := 0; k < 10; k++ {
			if err := w.Advance(10 * time.Second); err != nil {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < workers; i++ {
		if v, _ := readAttr(t, w, "DC2", fmt.Sprintf("CN=worker%d,%s", i, usersDN), "description"); v != fmt.Sprint(ops-1) {
			t.Errorf("worker%d description on DC2 = %q, want %d", i, v, ops-1)
		}
	}
	if got := strings.Count(traceText(w), " DC1 modify "); got != workers*ops {
		t.Errorf("%d modifies traced, want %d", got, workers*ops)
	}
}

// A wall-clock world (serve --realtime): an event due now runs on RunDue, and Advance skips ahead.
func TestRealtimeWorld(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1, Realtime: true})
	fired := 0
	w.After(0, "now", func(time.Time) error { fired++; return nil })
	w.After(time.Hour, "later", func(time.Time) error { fired++; return nil })
	if err := w.RunDue(); err != nil {
		t.Fatal(err)
	}
	if fired != 1 {
		t.Fatalf("fired = %d after RunDue, want 1", fired)
	}
	if err := w.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	if fired != 2 || w.Elapsed() < time.Hour {
		t.Fatalf("after skipping 1h: fired %d elapsed %v", fired, w.Elapsed())
	}
	if v, ok := readAttr(t, w, "DC1", "CN=Schema,CN=Configuration,DC=contoso,DC=com", "objectVersion"); !ok || v != "88" {
		t.Errorf("objectVersion = %q %v", v, ok)
	}
}

// A DC with no link catches up through a link created later (a full sync over the real model).
func TestNewLinkFullSync(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 6, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}}, Links: []LinkSpec{}})
	dn := addUser(t, w, "DC1", "gina")
	setAttr(t, w, "DC2", adminDN, "description", "island")
	mustAdvance(t, w, 24*time.Hour)
	if _, ok := readAttr(t, w, "DC2", dn, "cn"); ok {
		t.Fatal("gina reached an unlinked DC")
	}
	if err := w.SetLinkDelay("DC1", "DC2", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	if _, ok := readAttr(t, w, "DC2", dn, "cn"); !ok {
		t.Fatal("gina absent from DC2 after the full sync")
	}
	if v, _ := readAttr(t, w, "DC1", adminDN, "description"); v != "island" {
		t.Fatalf("DC1 Administrator description %q, want island", v)
	}
	if err := w.CheckConverged(); err != nil {
		t.Fatal(err)
	}
}

// The same name added on two DCs before either hears of the other: after replication both objects
// exist on both DCs, one under AD's CNF-mangled name, the same one everywhere.
func TestSameNameAddedOnTwoDCs(t *testing.T) {
	w := newTestWorld(t, twoDCs(time.Hour))
	addUser(t, w, "DC1", "twin")
	addUser(t, w, "DC2", "twin")
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	if err := w.CheckConverged(); err != nil {
		t.Fatal(err)
	}
	for _, dc := range []string{"DC1", "DC2"} {
		var dns []string
		w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
			res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: usersDN, Scope: fakead.ScopeOne,
				Filter: fakead.FilterEquality{Attr: "sAMAccountName", Value: []byte("twin")}, Attributes: []string{"1.1"}, SDFlags: -1})
			for _, e := range res {
				dns = append(dns, e.DN)
			}
			return err
		})
		mangled := 0
		for _, dn := range dns {
			if strings.HasPrefix(dn, `CN=twin\0ACNF:`) {
				mangled++
			}
		}
		if len(dns) != 2 || mangled != 1 {
			t.Errorf("%s holds %q, want CN=twin and one CN=twin\\0ACNF:<guid>", dc, dns)
		}
	}
}
