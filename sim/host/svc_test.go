package host

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/sim"
)

// Acceptance 5 of issue 4 (seed 000's known issue): on Windows Server 2012 R2, after a restart,
// a service running as a gMSA hangs in Start Pending unless kdssvc has the network-on trigger;
// `sc triggerinfo kdssvc start/networkon` fixes it from the next boot on.
func TestHostKdssvc2012R2(t *testing.T) {
	mim := Spec{Name: "MIMSync", OS: "2012R2", Groups: []string{"ITFarmHosts"}}
	preset := Spec{Name: "MIMSvc", OS: "2012R2", Groups: []string{"ITFarmHosts"}, KDSSvcTrigger: true}
	w := newFarmWorld(t, sim.Config{Seed: 45}, mim, preset, host("Web2016", "ITFarmHosts"))
	newGMSA(t, w, "28")
	for _, h := range w.Hosts() {
		for _, line := range []struct{ cmd, want string }{
			{`sc.exe create WebSvc binPath= C:\web\websvc.exe start= auto`, "[SC] CreateService SUCCESS"},
			{`sc.exe config WebSvc obj= CONTOSO\ITFarm1$ password= ""`, "[SC] ChangeServiceConfig SUCCESS"},
		} {
			if got := h.SC(line.cmd); got != line.want {
				t.Fatalf("%s: %s: got %q, want %q", h.Name(), line.cmd, got, line.want)
			}
		}
		if st, err := h.Start(KindService, "WebSvc"); err != nil || st != StateRunning {
			t.Fatalf("%s: first start: %s %v", h.Name(), st, err)
		}
	}
	m := w.Host("MIMSync")
	if err := m.Reboot(); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.ServiceState("WebSvc"); st != StateStartPending || m.KDSSvcRunning() {
		t.Errorf("2012 R2 without the trigger after a reboot: %s kdssvc=%t, want StartPending and kdssvc stopped", st, m.KDSSvcRunning())
	}
	wantQuery := "SERVICE_NAME: WebSvc\n        TYPE               : 10  WIN32_OWN_PROCESS\n        STATE              : 2  START_PENDING"
	if got := m.SC("sc query WebSvc"); got != wantQuery {
		t.Errorf("sc query: %q", got)
	}
	if got := m.SC("sc.exe triggerinfo kdssvc start/networkon"); got != "[SC] ChangeServiceConfig2 SUCCESS" {
		t.Errorf("triggerinfo: %q", got)
	}
	if err := m.Reboot(); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.ServiceState("WebSvc"); st != StateRunning || !m.KDSSvcRunning() {
		t.Errorf("2012 R2 with the trigger after a reboot: %s kdssvc=%t, want Running", st, m.KDSSvcRunning())
	}
	for _, name := range []string{"MIMSvc", "Web2016"} {
		h := w.Host(name)
		if err := h.Reboot(); err != nil {
			t.Fatal(err)
		}
		if st, _ := h.ServiceState("WebSvc"); st != StateRunning {
			t.Errorf("%s after a reboot: %s, want Running", name, st)
		}
	}
	// Starting kdssvc by hand releases a hung service.
	m.SetKDSSvcTrigger(false)
	if err := m.Reboot(); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.ServiceState("WebSvc"); st != StateStartPending {
		t.Fatalf("trigger cleared: %s", st)
	}
	if st, err := m.Start(KindService, "kdssvc"); err != nil || st != StateRunning {
		t.Fatalf("start kdssvc: %s %v", st, err)
	}
	if st, _ := m.ServiceState("WebSvc"); st != StateRunning {
		t.Errorf("after kdssvc started: %s, want Running", st)
	}
}

// sc.exe config with the gMSA's name without its $ is refused with 1057 (pain point 6); a missing
// service is 1060.
func TestHostSCConfig(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 46}, host("Host1", "ITFarmHosts"))
	newGMSA(t, w, "28")
	h := w.Host("Host1")
	if got := h.SC(`sc.exe config WebSvc obj= CONTOSO\ITFarm1$ password= ""`); got != "[SC] OpenService FAILED 1060:\n\nThe specified service does not exist as an installed service.\n" {
		t.Errorf("missing service: %q", got)
	}
	if err := h.AddWorkload(KindService, "WebSvc", StartManual); err != nil {
		t.Fatal(err)
	}
	want1057 := "[SC] ChangeServiceConfig FAILED 1057:\n\nThe account name is invalid or does not exist, or the password is invalid for the account name specified.\n"
	for _, bad := range []string{`obj= CONTOSO\ITFarm1 password= ""`, `obj= FABRIKAM\ITFarm1$ password= ""`, `obj= CONTOSO\ITFarm1$ password= secret`} {
		if got := h.SC(`sc.exe config WebSvc ` + bad); got != want1057 {
			t.Errorf("%s: %q", bad, got)
		}
	}
	if got := h.SC(`sc.exe config WebSvc obj= CONTOSO\ITFarm1$ password= ""`); got != "[SC] ChangeServiceConfig SUCCESS" {
		t.Errorf("good config: %q", got)
	}
	wl, _ := h.Workload(KindService, "WebSvc")
	if wl.Account != `CONTOSO\ITFarm1$` || wl.State != StateStopped {
		t.Errorf("workload %+v", wl)
	}
}

// Services, application pools and scheduled tasks under the gMSA: they start only when the host
// can get the current password, accept AP-REQs with the current or previous key, and follow the
// rotation; on a host removed from the group a restart after the rotation fails with a logon
// failure.
func TestHostWorkloadsFollowRotation(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 47}, host("Web1", "ITFarmHosts"), host("Web2", "ITFarmHosts"), host("Out1"))
	newGMSA(t, w, "28")
	for _, name := range []string{"Web1", "Web2", "Out1"} {
		h := w.Host(name)
		for _, k := range []WorkloadKind{KindService, KindAppPool, KindTask} {
			if err := h.AddWorkload(k, "ITFarm", StartAuto); err != nil {
				t.Fatal(err)
			}
			if err := h.SetAccount(k, "ITFarm", `CONTOSO\ITFarm1$`, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Out1 is no member: its service cannot log on.
	st, err := w.Host("Out1").Start(KindService, "ITFarm")
	if st != StateStopped || !errors.Is(err, ErrLogonFailure) || !errors.Is(err, ErrNotAllowed) {
		t.Errorf("Out1: %s %v, want Stopped with a logon failure (not allowed)", st, err)
	}
	if got := w.Host("Out1").SC("sc start ITFarm"); got != "[SC] StartService FAILED 1069:\n\nThe service did not start due to a logon failure.\n" {
		t.Errorf("sc start on Out1: %q", got)
	}
	for _, name := range []string{"Web1", "Web2"} {
		for _, k := range []WorkloadKind{KindService, KindAppPool, KindTask} {
			if st, err := w.Host(name).Start(k, "ITFarm"); err != nil || st != StateRunning {
				t.Fatalf("%s %s: %s %v", name, k, st, err)
			}
		}
	}
	alice, err := w.Logon("DC1", "alice", alicePwd)
	if err != nil {
		t.Fatal(err)
	}
	before, err := alice.ServiceTicket(farmSPN)
	if err != nil {
		t.Fatal(err)
	}
	web1, web2 := w.Host("Web1"), w.Host("Web2")
	if x, err := web1.Accept(KindAppPool, "ITFarm", before); err != nil || x.Previous {
		t.Fatalf("app pool accepts: %v %v", x, err)
	}
	setMember(t, w, web2, false)
	if err := web2.Reboot(); err != nil { // fresh groups; the cached password still lets it start
		t.Fatal(err)
	}
	if st, _ := web2.ServiceState("ITFarm"); st != StateRunning {
		t.Errorf("removed host before the rotation: %s, want Running (cached current password)", st)
	}
	rot := nextRotation(t, w)
	if err := w.AdvanceTo(rot.Add(-30 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	last, err := alice.ServiceTicket(farmSPN)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AdvanceTo(rot.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	after, err := alice.ServiceTicket(farmSPN)
	if err != nil {
		t.Fatal(err)
	}
	if x, err := web1.Accept(KindService, "ITFarm", after); err != nil || x.Previous {
		t.Errorf("service after the rotation, new ticket: %v %v", x, err)
	}
	if x, err := web1.Accept(KindTask, "ITFarm", last); err != nil || !x.Previous {
		t.Errorf("task after the rotation, older ticket: %v %v, want the previous key", x, err)
	}
	if _, err := web2.Accept(KindService, "ITFarm", after); !errors.Is(err, ErrNoKeyDecrypts) {
		t.Errorf("removed host after the rotation: %v, want ErrNoKeyDecrypts", err)
	}
	if err := web2.Stop(KindService, "ITFarm"); err != nil {
		t.Fatal(err)
	}
	if st, err := web2.Start(KindService, "ITFarm"); st != StateStopped || !errors.Is(err, ErrLogonFailure) {
		t.Errorf("removed host restarting its service after the rotation: %s %v, want a logon failure", st, err)
	}
	if err := w.CheckHostCaches(); err != nil {
		t.Errorf("invariant: %v", err)
	}
}

// Same seed, same operations: the same trace, byte for byte.
func TestHostTraceDeterministic(t *testing.T) {
	run := func() []string {
		w := newFarmWorld(t, sim.Config{Seed: 48}, host("Web1", "ITFarmHosts"), host("Web2"))
		newGMSA(t, w, "28")
		if err := w.Host("Web1").InstallADServiceAccount(farmGMSAName); err != nil {
			t.Fatal(err)
		}
		w.Host("Web2").TestADServiceAccount(farmGMSAName)
		if err := w.Advance(61 * 24 * time.Hour); err != nil {
			t.Fatal(err)
		}
		return w.Trace()
	}
	a, b := run(), run()
	if len(a) != len(b) {
		t.Fatalf("traces differ in length: %d vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("line %d differs:\n%s\n%s", i, a[i], b[i])
		}
	}
	refreshes := 0
	for _, l := range a {
		if len(l) > 0 && strings.Contains(l, "host Web1 cached ITFarm1$ password") {
			refreshes++
		}
	}
	if refreshes != 3 {
		t.Errorf("Web1 cached a new password %d times over 61 days, want 3 (install, two rotations):\n%s", refreshes, strings.Join(a, "\n"))
	}
}

// The service cmdlets' texts: Start-Service on a missing service, a logon failure and the 2012 R2
// hang; Get-Service's table.
func TestHostServiceCmdlets(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 51}, Spec{Name: "Sync1", OS: "2012R2"}, host("Out1"))
	newGMSA(t, w, "28")
	sync1, out1 := w.Host("Sync1"), w.Host("Out1")
	if _, err := out1.StartService("Nope"); err == nil || err.Error() != "Start-Service : Cannot find any service with service name 'Nope'." {
		t.Errorf("missing: %v", err)
	}
	for _, h := range []*Host{sync1, out1} {
		if got := h.SC(`sc.exe create FIMSynchronizationService binPath= C:\mim\miiserver.exe start= auto`); got != "[SC] CreateService SUCCESS" {
			t.Fatal(got)
		}
		if got := h.SC(`sc.exe config FIMSynchronizationService obj= CONTOSO\ITFarm1$ password= ""`); got != "[SC] ChangeServiceConfig SUCCESS" {
			t.Fatal(got)
		}
	}
	_, err := out1.StartService("FIMSynchronizationService")
	want := "Start-Service : Service 'FIMSynchronizationService (FIMSynchronizationService)' cannot be started due to the following error: Cannot start service FIMSynchronizationService on computer '.'."
	if err == nil || err.Error() != want || !errors.Is(err, ErrNotAllowed) {
		t.Errorf("Out1 (not allowed): %v", err)
	}
	setMember(t, w, sync1, true)
	if err := sync1.Reboot(); err != nil { // fresh groups; kdssvc not started (no trigger)
		t.Fatal(err)
	}
	out, err := sync1.StartService("FIMSynchronizationService")
	if err != nil || out != "WARNING: Waiting for service 'FIMSynchronizationService (FIMSynchronizationService)' to start..." {
		t.Errorf("2012 R2 hang: %q %v", out, err)
	}
	table, err := sync1.GetService("FIMSynchronizationService")
	wantTable := "Status   Name               DisplayName\n------   ----               -----------\nStartPending FIMSynchronizationService FIMSynchronizationService"
	if err != nil || table != wantTable {
		t.Errorf("Get-Service:\n%s\nwant\n%s", table, wantTable)
	}
	if table, _ := sync1.GetService("kdssvc"); !strings.HasSuffix(table, "Stopped  KdsSvc             Microsoft Key Distribution Service") {
		t.Errorf("Get-Service kdssvc:\n%s", table)
	}
	if _, err := sync1.StartService("kdssvc"); err != nil {
		t.Fatal(err)
	}
	if st, _ := sync1.ServiceState("FIMSynchronizationService"); st != StateRunning {
		t.Errorf("after Start-Service kdssvc: %s", st)
	}
}

// sc.exe never panics and always answers something, whatever the line.
func FuzzHostSC(f *testing.F) {
	for _, s := range []string{`sc.exe config WebSvc obj= CONTOSO\ITFarm1$ password= ""`, `sc start`, `sc "`,
		`sc.exe triggerinfo kdssvc start/networkon`, `sc query kdssvc`, `sc create X start= auto binPath=`, ``} {
		f.Add(s)
	}
	w := newFarmWorld(f, sim.Config{Seed: 52}, host("Fz1", "ITFarmHosts"))
	h := w.Host("Fz1")
	f.Fuzz(func(t *testing.T, line string) {
		if out := h.SC(line); out == "" {
			t.Errorf("sc.exe %q printed nothing", line)
		}
	})
}

// `klist purge` purges the administrator's tickets only; `klist -li 0x3e7 purge` the machine's.
func TestHostKlist(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 54}, host("Host1"))
	newGMSA(t, w, "28")
	h := w.Host("Host1")
	setMember(t, w, h, true)
	out, err := h.Klist("klist purge")
	if err != nil || out != "\nCurrent LogonId is 0:0x6f1c2\n\tDeleting all tickets:\n\tTicket(s) purged!" {
		t.Fatalf("klist purge: %q %v", out, err)
	}
	if res, _ := h.TestADServiceAccount(farmGMSAName); res.OK {
		t.Errorf("after the administrator's klist purge the machine's groups must be unchanged: %v", res)
	}
	out, err = h.Klist("klist -li 0x3e7 purge")
	if err != nil || out != "\nCurrent LogonId is 0:0x6f1c2\nTargeted LogonId is 0:0x3e7\n\tDeleting all tickets:\n\tTicket(s) purged!" {
		t.Fatalf("klist -li 0x3e7 purge: %q %v", out, err)
	}
	if res, _ := h.TestADServiceAccount(farmGMSAName); !res.OK {
		t.Errorf("after the machine's purge: %v", res)
	}
	if _, err := h.Klist("klist tgt"); err == nil {
		t.Errorf("klist tgt accepted")
	}
}
