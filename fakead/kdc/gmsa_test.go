package kdc_test

import (
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
)

// A gMSA's keys are those of its current managed password as the directory computes it:
// AES with the machine salt, RC4 = MD4 of the raw bytes; a gokrb5 client's ticket to its SPN
// decrypts with the AES key derived independently from the password.
func TestGMSAKeysFromManagedPassword(t *testing.T) {
	f := newFixture(t)
	pw := gmsaPassword(t, f.w, "ITFarm1$")
	if len(pw) != 256 {
		t.Fatalf("managed password of %d bytes, want 256", len(pw))
	}
	var p *kdc.Principal
	err := f.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		var err error
		p, err = kdc.NewDirectory(d).Service(now, []string{"http", "ITFarm1.contoso.com"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	const salt = "CONTOSO.COMhostitfarm1.contoso.com"
	for _, et := range []int32{kdc.EtypeAES256, kdc.EtypeAES128, kdc.EtypeRC4} {
		if want := gmsaKeyOf(t, pw, "ITFarm1$", et); string(p.Keys[et]) != string(want.KeyValue) {
			t.Errorf("etype %d: key %x, want %x", et, p.Keys[et], want.KeyValue)
		}
	}
	if p.Kind != kdc.KindGMSA || p.Salt != salt || p.SupportedEncTypes != 28 || p.PreviousKeys != nil {
		t.Errorf("principal: kind %s salt %q types %d previous %v", p.Kind, p.Salt, p.SupportedEncTypes, p.PreviousKeys != nil)
	}
	cl, err := f.login("alice", pwAlice, true)
	if err != nil {
		t.Fatal(err)
	}
	tkt, _, err := cl.GetServiceTicket("http/ITFarm1.contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := tkt.Decrypt(gmsaKeyOf(t, pw, "ITFarm1$", kdc.EtypeAES256)); err != nil {
		t.Errorf("the ticket does not decrypt with the managed password's AES256 key: %v", err)
	}
	if tkt.EncPart.KVNO != int(p.KVNO) {
		t.Errorf("ticket kvno %d, want %d", tkt.EncPart.KVNO, p.KVNO)
	}
}
