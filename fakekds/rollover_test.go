package fakekds

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/gmsasim/gmsasim/ad"
)

// Rollover periods from gkdi.md (Samba gkdi_rollover_interval; Samba gmsa_tests run the same
// intervals against Windows): (days*24/10) whole 10-hour cycles.
func TestRolloverInterval(t *testing.T) {
	for _, tc := range []struct {
		days   int64
		cycles ad.FileTime
	}{{30, 72}, {1, 2}, {14, 33}, {37, 88}, {16, 38}, {60, 144}, {100, 240}} {
		got, err := RolloverInterval(tc.days)
		if err != nil || got != tc.cycles*KeyCycleDuration {
			t.Errorf("%d days: %d, %v; want %d cycles", tc.days, got, err, tc.cycles)
		}
	}
	if r, _ := RolloverInterval(30); r != 30*Day {
		t.Errorf("30 days should be exactly 30 days, got %v", r.Duration())
	}
	for _, bad := range []int64{0, -1, 1 << 40} {
		if _, err := RolloverInterval(bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%d days: err %v, want ErrInvalidArgument", bad, err)
		}
	}
}

// A time 3 h into some interval, so that creation is not on a boundary.
var created = GKID{361, 11, 15}.StartFileTime() + 3*KeyCycleDuration/10

func TestRolloverRules(t *testing.T) {
	r, _ := RolloverInterval(30)
	first := GKIDFromFileTime(created)
	s0 := first.StartFileTime()
	for _, tc := range []struct {
		name     string
		stored   *GKID
		now      ad.FileTime
		current  GKID
		rotated  bool
		previous *GKID
	}{
		{"no id yet: the creation interval", nil, created, first, true, nil},
		{"no id, account 2.5 periods old: previous one period back", nil, created + 5*r/2, GKIDFromFileTime(s0 + 2*r), true, ptr(GKIDFromFileTime(s0 + r))},
		{"before expiry: unchanged", &first, s0 + r - 1, first, false, nil},
		{"at expiry: one step, old id becomes previous", &first, s0 + r, GKIDFromFileTime(s0 + r), true, &first},
		{"2.5 periods late: two steps, previous is one period back", &first, s0 + 3*r + r/2, GKIDFromFileTime(s0 + 3*r), true, ptr(GKIDFromFileTime(s0 + 2*r))},
	} {
		s, err := Rollover(created, tc.stored, 30, tc.now)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s.Current != tc.current || s.Rotated != tc.rotated || !eqGKIDPtr(s.Previous, tc.previous) {
			t.Errorf("%s: got %+v", tc.name, s)
		}
		if s.Interval != r || (s.CurrentStart-s0)%r != 0 || s.NextRotation != s.CurrentStart+r || s.CurrentStart > tc.now {
			t.Errorf("%s: off the grid anchored at the creation interval: %+v", tc.name, s)
		}
	}
	// Interval 0 means the default of 30 days.
	if a, _ := Rollover(created, nil, 0, created+40*Day); a.Interval != r {
		t.Errorf("interval 0 should default to 30 days, got %v", a.Interval.Duration())
	}
}

func TestReadViewRules(t *testing.T) {
	r, _ := RolloverInterval(30)
	first := GKIDFromFileTime(created)
	e := first.StartFileTime() + r
	view := func(now ad.FileTime) ReadView {
		s, err := Rollover(created, &first, 30, now)
		if err != nil {
			t.Fatal(err)
		}
		return s.View(created, nil, now)
	}
	// Young account: no previous password; Query − Unchanged = MaxClockSkew.
	v := view(created + Day)
	if v.Previous != nil || v.Current != first || v.QueryInterval != e-(created+Day) || v.QueryInterval-v.UnchangedInterval != MaxClockSkew {
		t.Errorf("young account: %+v", v)
	}
	// Last 5 minutes: the next password is current, the current one previous, Unchanged += R.
	now := e - MaxClockSkew
	v = view(now)
	if !v.NextPasswordWindow || v.Current != GKIDFromFileTime(e) || v.Previous == nil || *v.Previous != first || v.QueryInterval != MaxClockSkew || v.UnchangedInterval != r {
		t.Errorf("last 5 minutes: %+v", v)
	}
	// Samba's arithmetic: Unchanged = Query + R − 5 min inside the window.
	if v = view(e - MaxClockSkew/2); v.UnchangedInterval != r-MaxClockSkew/2 || v.QueryInterval != MaxClockSkew/2 {
		t.Errorf("mid-window: %+v", v)
	}
	// One second earlier the window is not open.
	if v = view(now - 10000000); v.NextPasswordWindow || v.Current != first || v.Previous != nil {
		t.Errorf("just before the window: %+v", v)
	}
	// After the first rotation, the account is one period old: previous = the first id.
	v = view(e + Day)
	if v.Current != GKIDFromFileTime(e) || v.Previous == nil || *v.Previous != first {
		t.Errorf("after rotation: %+v", v)
	}
}

func ptr(g GKID) *GKID { return &g }

func eqGKIDPtr(a, b *GKID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func goldenLabKey(t testing.TB) *RootKey {
	rk := testRootKey(t, "46e5b8b9-ca57-01e6-e8b9-fbb267e4adeb",
		"c9fae69689abe866d47d9a5e781ba98f474793d5c51e3d3d3cc61b45f288af32a8c00106b9c74438a07db5ed0f739e84636e5d5456484ef448cd11edd8c6dbf3", SHA512)
	rk.CreateTime, rk.UseStartTime = 132895801920510000, 132895441920205022 // GoldenGMSA README
	return rk
}

// The GoldenGMSA lab: a gMSA created shortly after 14:03 on 2022-02-17 with the lab key gets
// exactly the id and the password Windows gave it (README). The README does not give
// whenCreated; any time in the 14:00–24:00 interval gives this id. We use 14:30, late enough
// for both CreationRules (the stricter one needs 14:08:12, key start + 10 h 5 min).
func TestManagedPasswordGoldenGMSALab(t *testing.T) {
	rk := goldenLabKey(t)
	createdAt := ad.FileTime(132895801920510000 + 27*60*10000000) // 14:30:12
	wantID, _ := base64.StdEncoding.DecodeString("AQAAAEtEU0sCAAAAaAEAABAAAAADAAAAubjlRlfK5gHoufuyZ+St6wAAAAAiAAAAIgAAAHMAaABlAG4AYQBuAGkAZwBhAG4AcwAuAGwAYQBiAHMAAABzAGgAZQBuAGEAbgBpAGcAYQBuAHMALgBsAGEAYgBzAAAA")
	for _, rule := range []CreationRule{RuleIntervalStart, RuleOneIntervalAgo} {
		id, err := Policy{CreationRule: rule}.NewAccountID([]*RootKey{rk}, createdAt, "shenanigans.labs", "shenanigans.labs")
		if err != nil {
			t.Fatalf("%v: %v", rule, err)
		}
		if !bytes.Equal(id.Marshal(), wantID) {
			t.Errorf("%v: id %x, want %x", rule, id.Marshal(), wantID)
		}
	}
	sid, _ := ad.ParseSID("S-1-5-21-1437000690-1664695696-1586295871-1112")
	acct := Account{SID: sid, Created: createdAt, CurrentID: wantID, Domain: "shenanigans.labs", Forest: "shenanigans.labs"}
	res, err := NewDeriver().ManagedPassword([]*RootKey{rk}, acct, createdAt+Day)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "652590233e662db11cc3a9a6f09e3d0d60800f10d3ef4dd43c52db45fb434ea13b5b301f99dee642def9a3566f2294ea1a8e68919c9c0f6ad9801755bbdc1b4f12102fa1f885b01c3835b8dd8bf4b57c68d0861a8e10a2cab27b56f721b3875652d0840ffd2939d4adc46d87edd4ab88b82837ad9826eb218d12241c642f2b8139ccfbeee5d4447a93820ee84013a1759a8df790ab69a3b7d6be536042060d22f098aadbf83e763336445962a6cc67086872390c445abd5b3039633619c23e7081e0668bb165d9b726ef5dfd00800866052cd5768c10f5e78e51468b31fcaf2f5bf623acbfa61a1d606d92d9b9102495707187a4b212564ed1ce7dad46f9637b")
	if res.Rotated || !bytes.Equal(res.Parsed.Current, want) || res.Parsed.Previous != nil || !bytes.Equal(res.StoredPassword, want) {
		t.Fatalf("read one day later: rotated=%v current=%x previous=%x", res.Rotated, res.Parsed.Current, res.Parsed.Previous)
	}
	if len(res.Blob) != 290 || !bytes.Equal(res.Blob[16:272], want) || !bytes.Equal(res.Blob[272:274], []byte{0, 0}) {
		t.Errorf("blob layout: %d bytes", len(res.Blob))
	}
	if res.Parsed.QueryInterval != (GKID{360, 16, 3}).StartFileTime()+30*Day-(createdAt+Day) {
		t.Errorf("query interval %d", res.Parsed.QueryInterval)
	}
	// 31 days later the password has rotated once: the Windows password is now the previous one.
	res, err = NewDeriver().ManagedPassword([]*RootKey{rk}, acct, createdAt+31*Day)
	if err != nil {
		t.Fatal(err)
	}
	newID, err := ParsePasswordID(res.NewCurrentID)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rotated || !bytes.Equal(res.NewPreviousID, wantID) || newID.GKID != GKIDFromFileTime(GKID{360, 16, 3}.StartFileTime()+30*Day) || newID.RootKeyID != rk.ID {
		t.Errorf("rotation: new id %+v, previous id %x", newID, res.NewPreviousID)
	}
	if !bytes.Equal(res.Parsed.Previous, want) || bytes.Equal(res.Parsed.Current, want) || len(res.Blob) != 548 {
		t.Errorf("after rotation the lab password must be the previous one (blob %d bytes)", len(res.Blob))
	}
	b, err := ParseManagedPasswordBlob(res.Blob)
	if err != nil || !bytes.Equal(b.Previous, want) {
		t.Errorf("blob with previous password does not parse back: %v", err)
	}
}

// Layout with a previous password: Samba's marshaller, 16 / 274 / 532 / 540, Length 548.
func TestBlobWithPreviousLayout(t *testing.T) {
	m := ManagedPasswordBlob{Current: bytes.Repeat([]byte{0x41, 0x00}, 128), Previous: bytes.Repeat([]byte{0x42, 0x00}, 128), QueryInterval: 7, UnchangedInterval: 3}
	b := m.Marshal()
	want := []byte{1, 0, 0, 0, 0x24, 0x02, 0, 0, 16, 0, 0x12, 0x01, 0x14, 0x02, 0x1c, 0x02}
	if !bytes.Equal(b[:16], want) || len(b) != 548 || b[532] != 7 || b[540] != 3 {
		t.Errorf("header %x, %d bytes", b[:16], len(b))
	}
}

func TestRootKeySelection(t *testing.T) {
	mk := func(id string, create, start ad.FileTime) *RootKey {
		rk := testRootKey(t, id, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", SHA512)
		rk.CreateTime, rk.UseStartTime = create, start
		return rk
	}
	b := GKID{361, 0, 0}.StartFileTime() // an interval boundary
	h := KeyCycleDuration / 10           // one hour
	old := mk("00000000-0000-4000-8000-000000000001", b-100*h, b-100*h)
	newer := mk("00000000-0000-4000-8000-000000000002", b-50*h, b-50*h)
	future := mk("00000000-0000-4000-8000-000000000003", b-10*h, b+100*h)
	keys := []*RootKey{old, future, newer}
	if k, err := SelectRootKey(keys, b); err != nil || k != newer {
		t.Errorf("most recently created eligible key: got %v, %v", k, err)
	}
	if _, err := SelectRootKey(keys, b-200*h); !errors.Is(err, ErrNoRootKey) {
		t.Errorf("no eligible key: %v", err)
	}
	// A key made effective immediately at b+1h.
	fresh := mk("00000000-0000-4000-8000-000000000004", b+h, b+h)
	for _, tc := range []struct {
		rule    CreationRule
		created ad.FileTime
		ok      bool
	}{
		{RuleIntervalStart, b + 2*h, false},           // same interval: refused
		{RuleIntervalStart, b + 10*h, true},           // next boundary: 9 h later
		{RuleOneIntervalAgo, b + 10*h, false},         // needs 10 h 5 min
		{RuleOneIntervalAgo, b + 11*h + 5*h/60, true}, // 10 h 5 min after
	} {
		_, err := Policy{tc.rule}.RootKeyForNewAccount([]*RootKey{fresh}, tc.created)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrNoRootKey)) {
			t.Errorf("%v at +%v: err %v, want ok=%v", tc.rule, (tc.created - b).Duration(), err, tc.ok)
		}
	}
	// Explicit ids: accepted up to 10 h 5 min before the key's start.
	g := GKIDFromFileTime(b)
	for _, tc := range []struct {
		start ad.FileTime
		want  error
	}{{b + RootKeyTolerance, nil}, {b + RootKeyTolerance + 1, ErrRootKeyNotYetValid}, {0, ErrBadRootKey}} {
		k := mk("00000000-0000-4000-8000-000000000005", b, tc.start)
		if _, err := RootKeyForID([]*RootKey{k}, k.ID, g); !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
			t.Errorf("start %d: err %v, want %v", tc.start, err, tc.want)
		}
	}
	if _, err := RootKeyForID(keys, ad.GUID{}, g); !errors.Is(err, ErrNoRootKey) {
		t.Errorf("unknown id: %v", err)
	}
	if err := CheckNotFuture(GKIDFromFileTime(b+KeyCycleDuration), b+KeyCycleDuration-MaxClockSkew); err != nil {
		t.Errorf("the interval of now+5min is allowed: %v", err)
	}
	if err := CheckNotFuture(GKIDFromFileTime(b+KeyCycleDuration), b+KeyCycleDuration-MaxClockSkew-1); !errors.Is(err, ErrInvalidGKID) {
		t.Errorf("a later interval is refused: %v", err)
	}
}

// A previous password whose root key was not yet eligible is left out (Samba: not critical),
// while the current one is still returned.
func TestManagedPasswordPreviousWithoutKey(t *testing.T) {
	rk := goldenLabKey(t) // UseStartTime 2022-02-17T04:03Z
	sid, _ := ad.ParseSID("S-1-5-21-1-2-3-1105")
	createdAt := rk.UseStartTime - 60*Day // created long before the key existed, no id yet
	acct := Account{SID: sid, Created: createdAt, Domain: "x", Forest: "x"}
	res, err := NewDeriver().ManagedPassword([]*RootKey{rk}, acct, rk.UseStartTime+30*Day)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rotated || res.NewPreviousID != nil || res.Parsed.Previous != nil || res.View.Previous != nil || len(res.Blob) != 290 {
		t.Errorf("rotated=%v previous id %x previous %x", res.Rotated, res.NewPreviousID, res.Parsed.Previous)
	}
	// No key at all for the current interval: ErrNoRootKey ("Key does not exist").
	if _, err := NewDeriver().ManagedPassword([]*RootKey{rk}, acct, createdAt+Day); !errors.Is(err, ErrNoRootKey) {
		t.Errorf("err %v, want ErrNoRootKey", err)
	}
}
