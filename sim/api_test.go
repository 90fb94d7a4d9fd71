package sim_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/sim"
)

// The guides' lifecycle through the Go API alone: a 2-DC domain, a root key, a gMSA for the farm's
// group, replication, reads as an allowed and a refused host, the rotation at 30 days with the
// previous password kept, a change of principals, a group change, removal; AD's errors typed.
func TestGMSALifecycleAPI(t *testing.T) {
	w, _, err := sim.NewDefaultDomain(sim.Config{Seed: 5, DCs: []sim.DCSpec{{Name: "DC1"}, {Name: "DC2"}}, LinkDelay: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	rk, err := w.AddRootKey("DC1", sim.RootKeyOptions{EffectiveTime: w.Now().Add(-10 * time.Hour)})
	if err != nil || !rk.UsableAt.Equal(w.Now().Add(-10*time.Hour).Truncate(100)) || rk.ID == "" {
		t.Fatalf("root key %+v, %v", rk, err)
	}
	if def, err := w.AddRootKey("DC1", sim.RootKeyOptions{}); err != nil || def.UsableAt.Sub(def.Created) != 10*24*time.Hour {
		t.Errorf("a root key without options: %+v %v, want usable 10 days after creation", def, err)
	}
	g, err := w.NewGMSA("DC1", sim.GMSASpec{Name: "Farm2", DNSHostName: "farm2.contoso.com",
		PrincipalsAllowedToRetrieve: []string{"ITFarmHosts"}, SPNs: []string{"http/farm2.contoso.com"}})
	if err != nil || g.SAMAccountName != "Farm2$" || g.DN != "CN=Farm2,CN=Managed Service Accounts,DC=contoso,DC=com" || g.SID == "" {
		t.Fatalf("NewGMSA: %+v %v", g, err)
	}
	var ade *sim.ADError
	if _, err := w.NewGMSA("DC1", sim.GMSASpec{Name: "Farm2", DNSHostName: "x.contoso.com"}); !errors.As(err, &ade) || ade.Code != 68 {
		t.Errorf("a second Farm2: %v, want AD's entryAlreadyExists (68)", err)
	}
	if _, err := w.NewGMSA("DC1", sim.GMSASpec{Name: "NoHost"}); err == nil || !strings.Contains(err.Error(), "OutboundOnly") {
		t.Errorf("a gMSA without DNSHostName: %v, want an error naming DNSHostName and OutboundOnly", err)
	}
	if out, err := w.NewGMSA("DC1", sim.GMSASpec{Name: "Outbound", OutboundOnly: true, EncryptionTypes: sim.EncAES256}); err != nil || out.SAMAccountName != "Outbound$" {
		t.Errorf("an outbound-only gMSA: %+v %v", out, err)
	}
	if ok, _ := w.Exists("DC2", "Farm2"); ok {
		t.Errorf("Farm2 on DC2 before the link's delay")
	}
	if err := w.Advance(16 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if ok, _ := w.Exists("DC2", "Farm2$"); !ok {
		t.Errorf("Farm2 not on DC2 after the link's delay")
	}
	p1, err := w.ReadManagedPassword("DC2", "WEB1$", "Farm2")
	if err != nil || len(p1.Current) != 256 || p1.Previous != nil || p1.KVNO != 1 || p1.QueryInterval < 29*24*time.Hour || p1.QueryInterval > 30*24*time.Hour {
		t.Fatalf("WEB1 reads on DC2: %+v %v", p1, err)
	}
	if len(p1.NTHash()) != 16 {
		t.Errorf("NT hash %x", p1.NTHash())
	}
	if _, err := w.ReadManagedPassword("DC1", "WEB3$", "Farm2"); !errors.Is(err, sim.ErrPasswordNotReturned) {
		t.Errorf("WEB3 (not in ITFarmHosts) reads: %v, want ErrPasswordNotReturned", err)
	}
	if err := w.Advance(30 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if kv, _ := w.StoredKVNO("DC1", "Farm2"); kv != 1 {
		t.Errorf("stored kvno before any read past the rotation %d, want 1 (the DC rotates lazily)", kv)
	}
	p2, err := w.ReadManagedPassword("DC1", "WEB2$", "Farm2$")
	if err != nil || p2.KVNO != 2 || bytes.Equal(p2.Current, p1.Current) || !bytes.Equal(p2.Previous, p1.Current) {
		t.Fatalf("after 30 days: kvno %d, rotated %v, previous kept %v (%v)", p2.KVNO, !bytes.Equal(p2.Current, p1.Current), bytes.Equal(p2.Previous, p1.Current), err)
	}
	only3 := []string{"WEB3$"}
	if err := w.SetGMSA("DC1", "Farm2", sim.GMSAChange{PrincipalsAllowedToRetrieve: &only3}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ReadManagedPassword("DC1", "WEB1$", "Farm2"); !errors.Is(err, sim.ErrPasswordNotReturned) {
		t.Errorf("WEB1 after Set-ADServiceAccount -PrincipalsAllowedToRetrieveManagedPassword WEB3$: %v", err)
	}
	if _, err := w.ReadManagedPassword("DC1", "WEB3$", "Farm2"); err != nil {
		t.Errorf("WEB3 after the change: %v", err)
	}
	if err := w.AddGroupMembers("DC1", "ITFarmHosts", "WEB3"); err != nil {
		t.Fatal(err)
	}
	if err := w.RemoveGroupMembers("DC1", "ITFarmHosts", "WEB3$"); err != nil {
		t.Fatal(err)
	}
	if err := w.RemoveGroupMembers("DC1", "ITFarmHosts", "WEB3$"); !errors.As(err, &ade) {
		t.Errorf("removing a member twice: %v, want AD's error", err)
	}
	if err := w.RemoveGMSA("DC1", "Farm2"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := w.Exists("DC1", "Farm2"); ok {
		t.Errorf("Farm2 still on DC1 after removal")
	}
	if err := w.SetGMSA("DC1", "Farm2", sim.GMSAChange{}); !errors.As(err, &ade) || ade.Code != 32 {
		t.Errorf("Set on a removed gMSA: %v, want noSuchObject (32)", err)
	}
}
