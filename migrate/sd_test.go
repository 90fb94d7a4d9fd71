package migrate_test

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/migrate"
)

// The descriptor New-ADServiceAccount writes for one principal, laid out by hand from [MS-DTYP]
// 2.4.6 (header), 2.4.2.2 (SID), 2.4.5 (ACL) and 2.4.4.2 (ACCESS_ALLOWED_ACE).
func TestGMSAMembershipLayout(t *testing.T) {
	sid, err := migrate.ParseSID("S-1-5-21-1004336348-1177238915-682003330-1105")
	mustf(t, err, "parse")
	got := hex.EncodeToString(migrate.GMSAMembership([]migrate.SID{sid}))
	want := "01000480" + "14000000" + "00000000" + "00000000" + "24000000" + // rev, sbz, control 0x8004, owner@20, group, sacl, dacl@36
		"01020000000000052000000020020000" + // owner S-1-5-32-544
		"02002c00" + "01000000" + // ACL rev 2, size 44, 1 ACE, sbz2
		"00002400" + "ff010f00" + // ACCESS_ALLOWED, flags 0, size 36, mask 0xf01ff
		"010500000000000515000000dcf4dc3b833d2b46828ba628" + "51040000" // the SID
	if got != want {
		t.Errorf("descriptor\n got %s\nwant %s", got, want)
	}
	if s := sid.String(); s != "S-1-5-21-1004336348-1177238915-682003330-1105" {
		t.Errorf("round trip %s", s)
	}
}

// fakead's independent parser reads the engine's descriptor the same way.
func TestGMSAMembershipAgreesWithTheDirectory(t *testing.T) {
	var sids []migrate.SID
	var strs []string
	for _, s := range []string{"S-1-5-21-1-2-3-1105", "S-1-5-21-1-2-3-1106", "S-1-5-32-544"} {
		b, err := migrate.ParseSID(s)
		mustf(t, err, "parse %s", s)
		sids = append(sids, b)
		strs = append(strs, s)
	}
	sd := migrate.GMSAMembership(sids)
	parsed, err := fakead.ParseSecurityDescriptor(sd)
	mustf(t, err, "fakead parse")
	if got := strings.Join(parsed.AllowedSIDs(), ","); got != strings.Join(strs, ",") {
		t.Errorf("fakead reads %s", got)
	}
	if ref, err := fakead.GMSAMembershipSD(strs...); err != nil || hex.EncodeToString(ref) != hex.EncodeToString(sd) {
		t.Errorf("fakead builds\n%x\nthe engine\n%x (%v)", ref, sd, err)
	}
	back, err := migrate.MembershipSIDs(sd)
	mustf(t, err, "MembershipSIDs")
	if len(back) != 3 || back[2].String() != "S-1-5-32-544" {
		t.Errorf("MembershipSIDs %v", back)
	}
}

func TestParseSIDAndDescriptorRejectBadInput(t *testing.T) {
	for _, s := range []string{"", "S-1", "X-1-5-21", "S-2-5-21", "S-1-5-x", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"} {
		if _, err := migrate.ParseSID(s); !errors.Is(err, migrate.ErrConfig) {
			t.Errorf("ParseSID(%q) = %v, want ErrConfig", s, err)
		}
	}
	for _, b := range [][]byte{nil, {1}, make([]byte, 20), append([]byte{1, 0, 4, 0x80, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0}, 0)} {
		if _, err := migrate.MembershipSIDs(b); err == nil && len(b) > 0 && b[0] == 1 && b[2]&4 != 0 {
			t.Errorf("MembershipSIDs(%x) accepted a broken descriptor", b)
		}
	}
}

func FuzzMembershipSIDs(f *testing.F) {
	sid, _ := migrate.ParseSID("S-1-5-21-1-2-3-1105")
	f.Add(migrate.GMSAMembership([]migrate.SID{sid}))
	f.Add([]byte{1, 0, 4, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		sids, err := migrate.MembershipSIDs(b) // must not panic
		if err == nil {
			_ = migrate.GMSAMembership(sids)
		}
	})
}

func TestJournalRefusesAnEditedPlanOrAForeignFile(t *testing.T) {
	dir := t.TempDir()
	p := &migrate.Plan{Version: 1, Domain: "contoso.com", NetBIOS: "CONTOSO", Steps: []migrate.Step{{ID: "group:G", Kind: migrate.StepGroup, Object: "G"}}}
	path := filepath.Join(dir, "j.json")
	j, err := migrate.CreateJournal(path, p)
	mustf(t, err, "create")
	if _, err := migrate.CreateJournal(path, p); !errors.Is(err, migrate.ErrJournalLocked) {
		t.Errorf("second create while the first holds the journal: %v, want ErrJournalLocked", err)
	}
	mustf(t, j.Close(), "close")
	if _, err := migrate.CreateJournal(path, p); !errors.Is(err, migrate.ErrJournal) || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second create: %v", err)
	}
	b, _ := os.ReadFile(path)
	edited := strings.Replace(string(b), `"group:G"`, `"group:H"`, 1)
	mustf(t, os.WriteFile(path, []byte(edited), 0o600), "write")
	if _, err := migrate.OpenJournal(path); !errors.Is(err, migrate.ErrJournal) || !strings.Contains(err.Error(), "edited") {
		t.Errorf("edited plan: %v", err)
	}
	mustf(t, os.WriteFile(path, []byte(`{"format":1,"plan":`), 0o600), "write")
	if _, err := migrate.OpenJournal(path); !errors.Is(err, migrate.ErrJournal) {
		t.Errorf("torn file: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %d entries", len(entries))
	}
}
