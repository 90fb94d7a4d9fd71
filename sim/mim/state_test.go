package mim

import (
	"bytes"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

func TestMIMWorldSaveLoad(t *testing.T) {
	w, m, err := NewDefaultWorld(DefaultOptions{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Host("MIMSYNC")
	newMIMGMSA(t, w, "MIMSyncGMSA", s)
	if _, err := s.ExportKeySet("svc-mimsync", UserPassword(w, "svc-mimsync"), "CONTOSO", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangeMode(ChangeModeRequest{Component: CompSync, Account: `CONTOSO\MIMSyncGMSA$`}); err != nil {
		t.Fatal(err)
	}
	if err := m.Host("MIMSVC").SetRegistryValue(RegFIMServiceKey, "PollExchangeEnabled", "REG_DWORD", "1"); err != nil {
		t.Fatal(err)
	}
	saved, err := Save(m)
	if err != nil {
		t.Fatal(err)
	}
	w2, m2, err := Load(saved, sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !w2.Now().Equal(w.Now()) {
		t.Errorf("time %v, want %v", w2.Now(), w.Now())
	}
	var a, b bytes.Buffer
	if err := w.ExportLDIF("DC1", &a); err != nil {
		t.Fatal(err)
	}
	if err := w2.ExportLDIF("DC1", &b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("the restored replica's LDIF differs")
	}
	again, err := Save(m2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(saved, again) {
		t.Error("saving the restored world gives other bytes")
	}
	s2 := m2.Host("mimsync")
	if s2 == nil || s2.KeysLoaded() || s2.DatabaseKeyID() != s.DatabaseKeyID() {
		t.Fatalf("restored sync host: %+v", s2)
	}
	if v, _ := m2.Host("MIMSVC").Registry(RegFIMServiceKey, "PollExchangeEnabled"); v != "1" {
		t.Errorf("PollExchangeEnabled = %q", v)
	}
	if err := s2.RestoreKeySet(DefaultKeySetPath); err != nil {
		t.Fatal(err)
	}
	if st, err := s2.Start(CompSync); err != nil || st != host.StateRunning {
		t.Fatalf("start after restore in the reloaded world: %s %v", st, err)
	}
	res, err := s2.Host().TestADServiceAccount("MIMSyncGMSA")
	if err != nil || !res.OK {
		t.Errorf("Test-ADServiceAccount = %v %v", res, err)
	}
	// The world goes on: a new gMSA gets a fresh objectGUID, time advances.
	newMIMGMSA(t, w2, "MIMServiceGMSA", m2.Host("MIMSVC"))
	if err := w2.Advance(40 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
}
