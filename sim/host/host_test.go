package host

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/sim"
)

// Acceptance 2 of issue 4: a farm of three hosts in ITFarmHosts. A client's ticket for
// http/ITFarm1.contoso.com decrypts on each host with the keys it derived from the password it
// retrieved; after the 30-day rotation new tickets decrypt with the new key and old tickets still
// decrypt until they expire; a host removed from the group keeps the current key until the
// rotation and then fails.
func TestHostFarmRotation(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 42}, host("Web1", "ITFarmHosts"), host("Web2", "ITFarmHosts"), host("Web3", "ITFarmHosts"))
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
	w := newFarmWorld(t, sim.Config{Seed: 43}, host("Host1"), host("Host2"))
	newGMSA(t, w, "28")
	h1, h2 := w.Host("Host1"), w.Host("Host2")

	res, err := h1.TestADServiceAccount(farmGMSAName)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !errors.Is(res.Reason, ErrNotAllowed) {
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

// Host requirements: a 2008 R2 host is refused; a cluster node installs the gMSA (services on
// top of the Cluster service may use one) but its Cluster service may not run as it; an x86 host
// cannot join (no x86 Windows Server from 2008 R2 on); a host that allows only RC4 fails Test for
// an AES256-only gMSA with the encryption-type warning.
func TestHostRequirements(t *testing.T) {
	old := host("Old1", "ITFarmHosts")
	old.OS = "2008R2"
	node := host("Node1", "ITFarmHosts")
	node.Cluster = true
	w := newFarmWorld(t, sim.Config{Seed: 44}, old, node, host("New1", "ITFarmHosts"))
	newGMSA(t, w, "16") // AES256 only
	if err := w.Host("Old1").InstallADServiceAccount(farmGMSAName); !errors.Is(err, ErrOSTooOld) {
		t.Errorf("Old1 Install: %v, want %v", err, ErrOSTooOld)
	}
	nd := w.Host("Node1")
	if err := nd.InstallADServiceAccount(farmGMSAName); err != nil {
		t.Errorf("cluster node Install: %v, want nil", err)
	}
	if err := nd.AddWorkload(KindService, "WebSvc", StartManual); err != nil {
		t.Fatal(err)
	}
	acct := "CONTOSO\\" + farmGMSAName + "$"
	if err := nd.SetAccount(KindService, "WebSvc", acct, ""); err != nil {
		t.Errorf("service on a cluster node as the gMSA: %v", err)
	}
	if st, err := nd.Start(KindService, "WebSvc"); err != nil || st != StateRunning {
		t.Errorf("service on a cluster node: %v %v, want Running", st, err)
	}
	if st, _ := nd.ServiceState(clusterService); st != StateRunning {
		t.Errorf("ClusSvc %v, want Running", st)
	}
	if err := nd.SetAccount(KindService, clusterService, acct, ""); !errors.Is(err, ErrClusterNode) {
		t.Errorf("ClusSvc as the gMSA: %v, want %v", err, ErrClusterNode)
	}
	if got := nd.SC(`config ClusSvc obj= ` + acct + ` password= ""`); !strings.Contains(got, "ChangeServiceConfig FAILED 50") {
		t.Errorf("sc config ClusSvc: %q", got)
	}
	x86 := host("X86", "ITFarmHosts")
	x86.X86 = true
	var ce *sim.ConfigError
	if _, err := w.Fleet.Add(x86); !errors.As(err, &ce) || ce.Field != "HostSpec.X86" {
		t.Errorf("x86 host: %v, want a ConfigError on HostSpec.X86", err)
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

// A DC without a usable root key cannot compute the password (the key deleted and the DC's KDS
// restarted): Install fails and Test is False; a stopped DC makes the AD module say it cannot
// reach the server, while a service still starts from a cached password that is current.
func TestHostDCRefusals(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 49, DCs: []sim.DCSpec{{Name: "DC1"}, {Name: "DC2"}}},
		host("Web1", "ITFarmHosts"), Spec{Name: "Web2", OS: "2019", DC: "DC2", Groups: []string{"ITFarmHosts"}})
	newGMSA(t, w, "28")
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	web1, web2 := w.Host("Web1"), w.Host("Web2")
	if err := web2.PurgeTickets(); err != nil { // its group membership was written on DC1
		t.Fatal(err)
	}
	if err := web2.InstallADServiceAccount(farmGMSAName); err != nil {
		t.Fatalf("Web2 via DC2: %v", err)
	}
	if err := web1.AddWorkload(KindService, "WebSvc", StartAuto); err != nil {
		t.Fatal(err)
	}
	if err := web1.SetAccount(KindService, "WebSvc", `CONTOSO\ITFarm1$`, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := web1.Start(KindService, "WebSvc"); err != nil {
		t.Fatal(err)
	}
	// DC1 stops: Web1's cmdlets cannot reach it; its service restarts from the cache.
	if err := w.StopDC("DC1"); err != nil {
		t.Fatal(err)
	}
	err := web1.InstallADServiceAccount(farmGMSAName)
	want := "Install-ADServiceAccount : Unable to contact the server. This may be because this server does not exist, it is currently down, or it does not have the Active Directory Web Services running."
	if err == nil || err.Error() != want || !errors.Is(err, ErrDCUnavailable) {
		t.Errorf("Install with the DC stopped: %v", err)
	}
	if err := web1.Reboot(); err != nil {
		t.Fatal(err)
	}
	if st, _ := web1.ServiceState("WebSvc"); st != StateRunning || web1.LoggedOn() {
		t.Errorf("after a reboot with the DC down: service %s, logged on %t; want Running from the cache, no TGT", st, web1.LoggedOn())
	}
	if err := w.StartDC("DC1"); err != nil {
		t.Fatal(err)
	}
	// The root key goes away on DC2 and its KDS restarts: DC2 can no longer compute the password.
	err = w.ExecOn("DC2", func(now time.Time, d *fakead.Directory) error {
		res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: d.RootKeyContainerDN(), Scope: fakead.ScopeOne,
			Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: []string{"1.1"}, SDFlags: -1})
		if err != nil || len(res) != 1 {
			t.Fatalf("root keys on DC2: %v %v", res, err)
		}
		if err := d.Delete(now, fakead.SystemCaller, res[0].DN); err != nil {
			return err
		}
		d.RestartKDS()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := web2.TestADServiceAccount(farmGMSAName)
	if err != nil || res.OK || !errors.Is(res.Reason, ErrDCNoPassword) {
		t.Errorf("Test via a DC without the root key: %v %v (%v), want False: %v", res, err, res.Reason, ErrDCNoPassword)
	}
	if err := web2.InstallADServiceAccount(farmGMSAName); !errors.Is(err, ErrDCNoPassword) || err.Error() != installFailed {
		t.Errorf("Install via a DC without the root key: %v", err)
	}
}

// The host's snapshot is what its TGT says; a wrong password gets PREAUTH_FAILED; a host asks for
// a service ticket as itself.
func TestHostSnapshotAndClients(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 50}, host("Web1"))
	newGMSA(t, w, "28")
	web1 := w.Host("Web1")
	var groupSID string
	w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		a, _ := d.Account("ITFarmHosts")
		groupSID = a.SID.String()
		return nil
	})
	has := func() bool {
		for _, s := range web1.GroupSnapshot() {
			if s == groupSID {
				return true
			}
		}
		return false
	}
	setMember(t, w, web1, true)
	if has() {
		t.Fatal("the snapshot changed without a new logon")
	}
	if err := web1.PurgeTickets(); err != nil {
		t.Fatal(err)
	}
	if !has() {
		t.Fatalf("after klist purge the snapshot %v lacks %s", web1.GroupSnapshot(), groupSID)
	}
	tk, err := web1.ServiceTicket(farmSPN)
	if err != nil {
		t.Fatal(err)
	}
	if err := web1.InstallADServiceAccount(farmGMSAName); err != nil {
		t.Fatal(err)
	}
	x, err := web1.DecryptTicket(tk)
	if err != nil || x.Client != "WEB1$@CONTOSO.COM" || x.Account != "ITFarm1$" {
		t.Errorf("host's own ticket to the farm: %v %v", x, err)
	}
	found := false
	for _, g := range x.Groups {
		found = found || g == groupSID
	}
	if !found {
		t.Errorf("the ticket's groups %v lack ITFarmHosts %s", x.Groups, groupSID)
	}
	bob, err := w.LogonAccount("DC1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if tk, err := bob.ServiceTicket(farmSPN); err != nil || tk.Client != "alice" {
		t.Errorf("LogonAccount: %v %v", tk, err)
	} else if x, err := web1.DecryptTicket(tk); err != nil || x.Client != "alice@CONTOSO.COM" {
		t.Errorf("LogonAccount ticket: %v %v", x, err)
	}
	_, err = w.Logon("DC1", "alice", "wrong")
	var ke *kdc.Error
	if !errors.As(err, &ke) || ke.Code != 24 {
		t.Errorf("wrong password: %v, want KDC_ERR_PREAUTH_FAILED (24)", err)
	}
	if _, err := w.AddHost(host("web1")); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate host: %v", err)
	}
	if _, err := w.AddHost(Spec{Name: "Bad", OS: "2003"}); err == nil {
		t.Errorf("OS 2003 accepted")
	}
}

// The cache as a probe sees it: installed, current until the rotation, a failing refresh counted.
func TestHostCacheView(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 53}, host("Web1", "ITFarmHosts"))
	newGMSA(t, w, "28")
	web1 := w.Host("Web1")
	if err := web1.InstallADServiceAccount(farmGMSAName); err != nil {
		t.Fatal(err)
	}
	rot := nextRotation(t, w)
	c := web1.Cache()
	if len(c) != 1 || c[0].SAMAccountName != "ITFarm1$" || !c[0].Installed || !c[0].ValidUntil.Equal(rot) || c[0].HasPrevious || c[0].Failures != 0 {
		t.Fatalf("cache %+v, want ITFarm1$ installed, current until %s", c, rot)
	}
	setMember(t, w, web1, false)
	if err := web1.Reboot(); err != nil {
		t.Fatal(err)
	}
	if err := w.AdvanceTo(rot.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	c = web1.Cache()
	if len(c) != 1 || c[0].Failures != 1 || !errors.Is(c[0].LastFailure, ErrNotAllowed) || !c[0].ValidUntil.Equal(rot) {
		t.Errorf("after a refused refresh: %+v", c)
	}
}

// A Host getter called inside the loop panics like a World method (World.Locked), naming the
// getter rather than Locked.
func TestHostGetterReentry(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 5}, host("Web1"))
	h := w.Host("Web1")
	var re *sim.ReentryError
	func() {
		defer func() {
			r := recover()
			var ok bool
			if re, ok = r.(*sim.ReentryError); !ok {
				t.Fatalf("recovered %v, want a *sim.ReentryError", r)
			}
		}()
		_ = w.Exec(func(time.Time) error { h.Boots(); return nil })
	}()
	if want := "sim/host.(*Host).Boots"; re.Method != want {
		t.Errorf("Method %q, want %q", re.Method, want)
	}
	if !strings.Contains(re.Error(), "sim/host.(*Host).Boots called inside the world loop") {
		t.Errorf("message: %s", re.Error())
	}
}

// Seed 001: "Windows Server 2012 DCs available for host to retrieve the password". A host whose DC
// is 2008 R2 (no KDS: the entry comes back without msDS-ManagedPassword) cannot install or test
// the gMSA; `nltest /sc_reset` to the 2016 DC fixes it.
func TestHostDC2008R2(t *testing.T) {
	web := host("Web1", "ITFarmHosts")
	web.DC = "DC2"
	w := newFarmWorld(t, sim.Config{Seed: 52, SchemaVersion: 87, DCs: []sim.DCSpec{{Name: "DC1", OS: "2016"}, {Name: "DC2", OS: "2008R2"}}}, web)
	newGMSA(t, w, "28")
	if err := w.ReplicateNow(); err != nil {
		t.Fatal(err)
	}
	h := w.Host("Web1")
	if err := h.InstallADServiceAccount(farmGMSAName); !errors.Is(err, ErrDCNoKDS) {
		t.Errorf("Install at a 2008 R2 DC: %v, want %v", err, ErrDCNoKDS)
	}
	if res, err := h.TestADServiceAccount(farmGMSAName); err != nil || res.OK || !errors.Is(res.Reason, ErrDCNoKDS) {
		t.Errorf("Test at a 2008 R2 DC: %v %v (%v)", res, err, res.Reason)
	}
	err := w.ExecOn("DC2", func(now time.Time, d *fakead.Directory) error {
		if _, err := d.ManagedPassword(now, farmGMSADN); !errors.Is(err, fakead.ErrNoKDS) {
			t.Errorf("DC2 ManagedPassword: %v, want ErrNoKDS", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Nltest(`nltest /sc_reset:CONTOSO\DC9`); err == nil || !strings.Contains(err.Error(), "ERROR_NO_LOGON_SERVERS") {
		t.Errorf("nltest to no DC: %v", err)
	}
	out, err := h.Nltest(`nltest /sc_reset:contoso.com\DC1`)
	if err != nil || !strings.Contains(out, `Trusted DC Name \\dc1.contoso.com`) || h.DC() != "DC1" {
		t.Fatalf("nltest /sc_reset: %q %v (DC %s)", out, err, h.DC())
	}
	if err := h.InstallADServiceAccount(farmGMSAName); err != nil {
		t.Errorf("Install at the 2016 DC: %v", err)
	}
}

// NetRemoveServiceAccount removes the cached gMSA like Uninstall-ADServiceAccount, without asking
// a DC: a second call finds nothing to remove.
func TestNetRemoveServiceAccount(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 53}, host("Web1", "ITFarmHosts"))
	newGMSA(t, w, "28")
	h := w.Host("Web1")
	if err := h.InstallADServiceAccount(farmGMSAName); err != nil || !h.Installed(farmGMSAName) {
		t.Fatalf("Install: %v", err)
	}
	if err := h.NetRemoveServiceAccount(`CONTOSO\ITFarm1$`, 0); err != nil {
		t.Fatalf("NetRemoveServiceAccount: %v", err)
	}
	if h.Installed(farmGMSAName) || len(h.Cache()) != 0 {
		t.Errorf("still cached: %+v", h.Cache())
	}
	if err := h.NetRemoveServiceAccount("ITFarm1", 0); !errors.Is(err, ErrNoSuchAccount) {
		t.Errorf("second remove: %v, want %v", err, ErrNoSuchAccount)
	}
}
