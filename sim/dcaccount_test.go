package sim

import (
	"bytes"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
)

// Each DC's computer account has a password from its own stream of the seed: the same for a seed,
// different per DC and per seed, and the account's stored keys are the ones derived from it with
// AD's computer salt. A world restored from its saved replicas knows the same passwords. The
// administrator's password (stream "passwords") does not move because of them.
func TestDCMachinePasswords(t *testing.T) {
	cfg := Config{Seed: 21, DCs: []DCSpec{{Name: "DC1"}, {Name: "DC2"}}}
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(Config{Seed: 22, DCs: cfg.DCs})
	if err != nil {
		t.Fatal(err)
	}
	pw1, pw2 := w.DC("DC1").MachinePassword(), w.DC("DC2").MachinePassword()
	if len(pw1) != 16 || len(pw2) != 16 || pw1 == pw2 {
		t.Fatalf("DC1 %q, DC2 %q: want two different 16-character passwords", pw1, pw2)
	}
	if again.DC("DC1").MachinePassword() != pw1 || other.DC("DC1").MachinePassword() == pw1 {
		t.Errorf("DC1's password: not the same for seed 21 twice, or the same for seed 22")
	}
	if got, want := w.Config().AdminPassword, GeneratePassword(newStream(21, StreamPasswords)); got != want {
		t.Errorf("Administrator's password %q, want the first draw of stream %q (%q)", got, StreamPasswords, want)
	}
	for _, dc := range w.DCs() {
		want, err := fakekds.KeysFromString(dc.MachinePassword(), fakead.KerberosSalt("contoso.com", dc.SAMAccountName(), true))
		if err != nil {
			t.Fatal(err)
		}
		// Every replica holds every DC's keys (they were created before the replicas were cloned).
		for _, on := range w.DCs() {
			var a *fakead.Account
			w.ExecOn(on.Name(), func(now time.Time, d *fakead.Directory) error {
				a, _ = d.Account(dc.SAMAccountName())
				return nil
			})
			if a == nil {
				t.Fatalf("%s has no account %s", on.Name(), dc.SAMAccountName())
			}
			if !bytes.Equal(a.Keys.AES256, want.AES256) || !bytes.Equal(a.Keys.AES128, want.AES128) ||
				!bytes.Equal(a.Keys.NTHash, want.NTHash) || a.KVNO != 1 {
				t.Errorf("%s's account on %s: keys are not those of its machine password (kvno %d, want 1)", dc.Name(), on.Name(), a.KVNO)
			}
		}
	}
	var self *fakead.Account
	w.ExecOn("DC2", func(now time.Time, d *fakead.Directory) error {
		self, _ = d.DCAccount()
		return nil
	})
	if self == nil || self.SAMAccountName != "DC2$" || !self.HasPassword {
		t.Errorf("DC2's DCAccount is not DC2$ with a password (%v)", self != nil)
	}

	var saved SavedState
	if err := w.Exec(func(time.Time) error {
		var err error
		saved, err = w.Loop().Save()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	restored, err := Restore(saved, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if restored.DC("DC2").MachinePassword() != pw2 {
		t.Errorf("restored world: DC2's password %q, want %q", restored.DC("DC2").MachinePassword(), pw2)
	}
}
