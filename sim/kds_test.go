package sim

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
)

const kdsGMSADN = "CN=ITFarm1,CN=Managed Service Accounts,DC=contoso,DC=com"

// twoDCWorld is DC1 and DC2 joined by a one-hour link.
func twoDCWorld(t *testing.T) *World {
	t.Helper()
	return newTestWorld(t, Config{Seed: 3, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}},
		Links: []LinkSpec{{A: "DC1", B: "DC2", Delay: time.Hour}}})
}

// newGMSAOn runs New-ADServiceAccount's LDAP add on dc as Administrator.
func newGMSAOn(w *World, dc, dn, name string) error {
	return w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		c, err := d.Bind(now, "Administrator@contoso.com", w.Config().AdminPassword, true)
		if err != nil {
			return err
		}
		return d.Add(now, c, dn, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("msDS-GroupManagedServiceAccount")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte(name + "$")}},
			{Name: "userAccountControl", Values: [][]byte{[]byte("4096")}},
			{Name: "dNSHostName", Values: [][]byte{[]byte(strings.ToLower(name) + ".contoso.com")}},
			{Name: "msDS-ManagedPasswordInterval", Values: [][]byte{[]byte("30")}},
			{Name: "msDS-SupportedEncryptionTypes", Values: [][]byte{[]byte("28")}},
		})
	})
}

func kvnoOn(t *testing.T, w *World, dc string) string {
	t.Helper()
	var kv string
	if err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		a, ok := d.Account("ITFarm1$")
		if !ok {
			return errors.New("no ITFarm1$")
		}
		kv = string(rune('0' + a.KVNO))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return kv
}

// Acceptance 4: a two-DC world with Add-KdsRootKey -EffectiveImmediately on DC1 and a one-hour
// link. Creating a gMSA on DC2 at +30 min fails with no key; once the key has replicated and
// become eligible it succeeds; the password read from DC1 and DC2 is identical.
func TestKeyReplicationAndEligibility(t *testing.T) {
	w := twoDCWorld(t)
	t0 := w.Now()
	rk, err := w.AddKdsRootKey("DC1", fakekds.AddOptions{EffectiveImmediately: true})
	if err != nil {
		t.Fatal(err)
	}
	eligible := (fakekds.GKIDFromFileTime(rk.UseStartTime).StartFileTime() + fakekds.KeyCycleDuration).Time()
	if err := w.Advance(30 * time.Minute); err != nil {
		t.Fatal(err)
	}
	err = newGMSAOn(w, "DC2", kdsGMSADN, "ITFarm1")
	var ae *fakead.Error
	if !errors.As(err, &ae) || ae.Code != fakead.Other || !strings.HasPrefix(ae.Diag, "8009000D") || !errors.Is(err, fakekds.ErrNoRootKey) {
		t.Fatalf("gMSA on DC2 at +30 min: %v, want Key does not exist", err)
	}
	// The key reaches DC2 at +1 h; before the next 10-hour boundary it is still not eligible.
	if err := w.Advance(31 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if w.Now().Before(eligible) {
		if err := newGMSAOn(w, "DC2", kdsGMSADN, "ITFarm1"); !errors.Is(err, fakekds.ErrNoRootKey) {
			t.Fatalf("gMSA on DC2 after replication, before %s: %v, want Key does not exist", eligible, err)
		}
	}
	if err := w.AdvanceTo(eligible.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := newGMSAOn(w, "DC2", kdsGMSADN, "ITFarm1"); err != nil {
		t.Fatalf("gMSA on DC2 at %s (key effective %s): %v", FormatOffset(w.Now().Sub(t0)), rk.UseStartTime.Time(), err)
	}
	if err := w.Advance(time.Hour + time.Minute); err != nil { // the gMSA reaches DC1
		t.Fatal(err)
	}
	p1, err := w.ManagedPassword("DC1", kdsGMSADN)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := w.ManagedPassword("DC2", kdsGMSADN)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p1.Blob[:16+256], p2.Blob[:16+256]) || !bytes.Equal(p1.Parsed.Current, p2.Parsed.Current) {
		t.Errorf("DC1 and DC2 disagree on the password")
	}
	if p1.Rotated || p2.Rotated {
		t.Errorf("a fresh account rotated on read")
	}
}

// Acceptance 5 in a two-DC world: DC1 rotates the password at +30 days on read, the write
// replicates, DC2 then serves the same password with the old one as previous and the same kvno.
func TestRotationReplicates(t *testing.T) {
	w := twoDCWorld(t)
	eff := ad.FileTimeFromTime(w.Now().Add(-10 * time.Hour))
	if _, err := w.AddKdsRootKey("DC1", fakekds.AddOptions{EffectiveTime: &eff}); err != nil {
		t.Fatal(err)
	}
	if err := newGMSAOn(w, "DC1", kdsGMSADN, "ITFarm1"); err != nil {
		t.Fatal(err)
	}
	if err := w.RunUntilQuiet(); err != nil {
		t.Fatal(err)
	}
	old, err := w.ManagedPassword("DC2", kdsGMSADN)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Advance(30*24*time.Hour + time.Hour); err != nil {
		t.Fatal(err)
	}
	p1, err := w.ManagedPassword("DC1", kdsGMSADN)
	if err != nil {
		t.Fatal(err)
	}
	if !p1.Rotated || bytes.Equal(p1.Parsed.Current, old.Parsed.Current) || !bytes.Equal(p1.Parsed.Previous, old.Parsed.Current) {
		t.Fatalf("DC1 at +30 d: rotated=%v, previous is the old password: %v", p1.Rotated, bytes.Equal(p1.Parsed.Previous, old.Parsed.Current))
	}
	if err := w.Advance(time.Hour + time.Minute); err != nil {
		t.Fatal(err)
	}
	p2, err := w.ManagedPassword("DC2", kdsGMSADN)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Rotated || !bytes.Equal(p2.Parsed.Current, p1.Parsed.Current) || !bytes.Equal(p2.Parsed.Previous, old.Parsed.Current) {
		t.Errorf("DC2 after replication: rotated again=%v, same password=%v", p2.Rotated, bytes.Equal(p2.Parsed.Current, p1.Parsed.Current))
	}
	if a, b := kvnoOn(t, w, "DC1"), kvnoOn(t, w, "DC2"); a != "2" || b != "2" {
		t.Errorf("kvno DC1 %s DC2 %s, want 2 on both", a, b)
	}
	if err := w.CheckConverged(); err != nil {
		t.Errorf("replicas differ after the rotation replicated: %v", err)
	}
}

// A root key deleted on DC1 replicates away from DC2, but DC2's KDS keeps using its cached copy
// until RestartKDS (a traced action).
func TestRestartKDSDropsDeletedKey(t *testing.T) {
	w := twoDCWorld(t)
	eff := ad.FileTimeFromTime(w.Now().Add(-10 * time.Hour))
	rk, err := w.AddKdsRootKey("DC1", fakekds.AddOptions{EffectiveTime: &eff})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RunUntilQuiet(); err != nil {
		t.Fatal(err)
	}
	if err := newGMSAOn(w, "DC2", kdsGMSADN, "ITFarm1"); err != nil {
		t.Fatal(err)
	}
	if err := w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Delete(now, fakead.SystemCaller, rk.DN(d.DomainDN()))
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.RunUntilQuiet(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ManagedPassword("DC2", kdsGMSADN); err != nil {
		t.Fatalf("DC2 with the key deleted but cached: %v", err)
	}
	if err := w.RestartKDS("DC2"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ManagedPassword("DC2", kdsGMSADN); !errors.Is(err, fakekds.ErrNoRootKey) {
		t.Errorf("DC2 after RestartKDS: %v, want Key does not exist", err)
	}
	found := false
	for _, l := range w.Trace() {
		if strings.Contains(l, "DC2 KDS restarted (1 cached root keys dropped)") {
			found = true
		}
	}
	if !found {
		t.Errorf("trace lacks the KDS restart:\n%s", strings.Join(w.Trace(), "\n"))
	}
	if err := w.RestartKDS("DC9"); !errors.Is(err, ErrUnknownDC) {
		t.Errorf("RestartKDS of an unknown DC: %v", err)
	}
}
