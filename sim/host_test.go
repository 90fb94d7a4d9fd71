package sim

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead/kdc"
)

// Acceptance 2 of issue 4: a farm of three hosts in ITFarmHosts. A client's ticket for
// http/ITFarm1.contoso.com decrypts on each host with the keys it derived from the password it
// retrieved; after the 30-day rotation new tickets decrypt with the new key and old tickets still
// decrypt until they expire; a host removed from the group keeps the current key until the
// rotation and then fails.
func TestHostFarmRotation(t *testing.T) {
	w := newFarmWorld(t, Config{Seed: 42}, host("Web1", "ITFarmHosts"), host("Web2", "ITFarmHosts"), host("Web3", "ITFarmHosts"))
	newGMSA(t, w, "28")
	hosts := w.Hosts()
	for _, h := range hosts {
		if err := h.InstallADServiceAccount(farmGMSAName); err != nil {
			t.Fatalf("%s: %v", h.Name(), err)
		}
	}
	alice, err := w.Logon("DC1", "alice", alicePwd)
	if err != nil {
		t.Fatal(err)
	}
	t1, err := alice.ServiceTicket(farmSPN)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		x, err := h.DecryptTicket(t1)
		if err != nil {
			t.Fatalf("%s: %v", h.Name(), err)
		}
		if x.Account != "ITFarm1$" || x.Previous || x.Client != "alice@CONTOSO.COM" {
			t.Errorf("%s decrypted with %s for %s, want ITFarm1$ (current password) for alice@CONTOSO.COM", h.Name(), x, x.Client)
		}
	}

	// Web3 leaves the farm: removed from the group, its tickets purged.
	web3 := w.Host("web3")
	setMember(t, w, web3, false)
	if err := web3.PurgeTickets(); err != nil {
		t.Fatal(err)
	}
	rot := nextRotation(t, w)
	if d := rot.Sub(w.Start()); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Fatalf("next rotation at +%s, want about 30 days", d)
	}
	if err := w.AdvanceTo(rot.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	old, err := alice.ServiceTicket(farmSPN)
	if err != nil {
		t.Fatal(err)
	}
	if x, err := web3.DecryptTicket(old); err != nil || x.Previous {
		t.Fatalf("before the rotation the removed host must still decrypt with the current key: %v %v", x, err)
	}

	if err := w.AdvanceTo(rot.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	fresh, err := alice.ServiceTicket(farmSPN)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.KVNO <= old.KVNO {
		t.Errorf("kvno after rotation %d, before %d: want it to move", fresh.KVNO, old.KVNO)
	}
	for _, h := range hosts[:2] {
		x, err := h.DecryptTicket(fresh)
		if err != nil || x.Previous {
			t.Errorf("%s: new ticket: %v %v, want the current key", h.Name(), x, err)
		}
		x, err = h.DecryptTicket(old)
		if err != nil || !x.Previous {
			t.Errorf("%s: ticket from before the rotation: %v %v, want the previous key", h.Name(), x, err)
		}
	}
	_, err = web3.DecryptTicket(fresh)
	if !errors.Is(err, ErrNoKeyDecrypts) {
		t.Errorf("removed host on a post-rotation ticket: %v, want ErrNoKeyDecrypts", err)
	}
	var ke *kdc.Error
	if !errors.As(err, &ke) || ke.Code != 41 {
		t.Errorf("removed host: %v, want KRB_AP_ERR_MODIFIED (41)", err)
	}
	if err := w.CheckHostCaches(); err != nil {
		t.Errorf("invariant: %v", err)
	}

	// The old ticket expires (10 h lifetime, 5 minutes of skew).
	if err := w.AdvanceTo(old.EndTime.Add(6 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = w.Host("Web1").DecryptTicket(old)
	if !errors.As(err, &ke) || ke.Code != 32 {
		t.Errorf("expired ticket: %v, want KRB_AP_ERR_TKT_EXPIRED (32)", err)
	}
	// A year of rotations: the farm hosts follow, the invariant holds.
	if err := w.Advance(365 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	late, err := alice.ServiceTicket(farmSPN)
	if err != nil {
		t.Fatal(err)
	}
	if x, err := w.Host("Web2").DecryptTicket(late); err != nil || x.Previous {
		t.Errorf("after a year: %v %v", x, err)
	}
	if err := w.CheckHostCaches(); err != nil {
		t.Errorf("invariant after a year: %v", err)
	}
}

// Acceptance 3: a host added to ITFarmHosts tests False until it reboots or purges its tickets.
func TestHostGroupSnapshot(t *testing.T) {
	w := newFarmWorld(t, Config{Seed: 43}, host("Host1"), host("Host2"))
	newGMSA(t, w, "28")
	h1, h2 := w.Host("Host1"), w.Host("Host2")

	res, err := h1.TestADServiceAccount(farmGMSAName)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !errors.Is(res.Reason, ErrHostNotAllowed) {
		t.Fatalf("not a member: %v (%v), want False, not allowed", res, res.Reason)
	}
	want := "False\nWARNING: Test failed for Managed Service Account ITFarm1. If standalone Managed Service Account, the account is linked"
	if !strings.HasPrefix(res.String(), want) {
		t.Errorf("output %q, want it to start %q", res.String(), want)
	}
	err = h1.InstallADServiceAccount(farmGMSAName)
	if err == nil || err.Error() != installFailed {
		t.Errorf("Install on a non-member: %v, want %q", err, installFailed)
	}

	setMember(t, w, h1, true)
	setMember(t, w, h2, true)
	for _, h := range []*Host{h1, h2} {
		res, err := h.TestADServiceAccount(farmGMSAName)
		if err != nil || res.OK || !errors.Is(res.Reason, ErrStaleGroups) {
			t.Errorf("%s added but not refreshed: %v %v (%v), want False: stale groups", h.Name(), res, err, res.Reason)
		}
	}
	if err := h1.PurgeTickets(); err != nil {
		t.Fatal(err)
	}
	if err := h2.Reboot(); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*Host{h1, h2} {
		res, err := h.TestADServiceAccount(farmGMSAName)
		if err != nil || res.String() != "True" {
			t.Errorf("%s after purge/reboot: %v %v, want True", h.Name(), res, err)
		}
		if err := h.InstallADServiceAccount(farmGMSAName); err != nil {
			t.Errorf("%s Install: %v", h.Name(), err)
		}
		if !h.Installed("ITFarm1$") {
			t.Errorf("%s: not installed", h.Name())
		}
	}
	if err := h1.UninstallADServiceAccount(farmGMSAName); err != nil || h1.Installed(farmGMSAName) {
		t.Errorf("Uninstall: %v, installed=%t", err, h1.Installed(farmGMSAName))
	}
	if cur, _ := h1.CachedPassword(farmGMSAName); cur != nil {
		t.Errorf("the cache still holds a password after Uninstall")
	}
	// Test-ADServiceAccount answers from the directory, installed or not.
	if res, _ := h1.TestADServiceAccount(farmGMSAName); !res.OK {
		t.Errorf("after Uninstall: %v", res)
	}
	_, err = h1.TestADServiceAccount("NoSuch")
	if err == nil || err.Error() != "Test-ADServiceAccount : Cannot find an object with identity: 'NoSuch' under: 'DC=contoso,DC=com'." {
		t.Errorf("unknown account: %v", err)
	}
}

// Host requirements: 2008 R2, a cluster node and a 32-bit host are refused; a host that allows
// only RC4 fails Test for an AES256-only gMSA with the encryption-type warning.
func TestHostRequirements(t *testing.T) {
	old := host("Old1", "ITFarmHosts")
	old.OS = "2008R2"
	node := host("Node1", "ITFarmHosts")
	node.Cluster = true
	x86 := host("X86", "ITFarmHosts")
	x86.Is64Bit = false
	w := newFarmWorld(t, Config{Seed: 44}, old, node, x86, host("New1", "ITFarmHosts"))
	newGMSA(t, w, "16") // AES256 only
	for name, reason := range map[string]error{"Old1": ErrHostOSTooOld, "Node1": ErrClusterNode, "X86": ErrHost32Bit} {
		err := w.Host(name).InstallADServiceAccount(farmGMSAName)
		if !errors.Is(err, reason) {
			t.Errorf("%s Install: %v, want %v", name, err, reason)
		}
	}
	if !strings.Contains(w.Host("X86").InstallADServiceAccount(farmGMSAName).Error(), "is not recognized as the name of a cmdlet") {
		t.Errorf("x86 text")
	}
	n := w.Host("New1")
	if res, err := n.TestADServiceAccount(farmGMSAName); err != nil || !res.OK {
		t.Fatalf("New1: %v %v", res, err)
	}
	n.SetEncryptionTypes(0x4) // RC4 only
	res, err := n.TestADServiceAccount(farmGMSAName)
	if err != nil || res.OK || !errors.Is(res.Reason, ErrEncTypes) || !strings.Contains(res.Warning, "does not support all the Kerberos encryption types") {
		t.Errorf("RC4-only host: %v %v (%v)", res, err, res.Reason)
	}
}
