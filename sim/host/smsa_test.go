package host

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/sim"
)

const smsaDN = "CN=SQLSvc,CN=Managed Service Accounts,DC=contoso,DC=com"

// newSMSA creates SQLSvc (New-ADServiceAccount SQLSvc -RestrictToSingleComputer).
func newSMSA(t *testing.T, w *farmWorld) {
	t.Helper()
	err := w.ExecOn(w.Config().DCs[0].Name, func(now time.Time, d *fakead.Directory) error {
		return d.Add(now, fakead.SystemCaller, smsaDN, []fakead.Attribute{at("objectClass", "msDS-ManagedServiceAccount"),
			at("sAMAccountName", "SQLSvc$"), at("userAccountControl", "4096"), at("msDS-SupportedEncryptionTypes", "28")})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hostServiceAccounts is the computer's msDS-HostServiceAccount as DC1 stores it.
func hostServiceAccounts(t *testing.T, w *farmWorld, h *Host) []string {
	t.Helper()
	var out []string
	err := w.ExecOn(w.Config().DCs[0].Name, func(now time.Time, d *fakead.Directory) error {
		res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: h.DN(), Scope: fakead.ScopeBase,
			Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: []string{attrHostServiceAccount}})
		if err != nil {
			return err
		}
		for _, a := range res[0].Attributes {
			for _, v := range a.Values {
				out = append(out, string(v))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Seed 001: "A Windows computer account, or a Windows 7 standalone Managed Service Account (sMSA),
// or virtual accounts cannot be shared across multiple systems." Install-ADServiceAccount links
// the sMSA to the first computer (msDS-HostServiceAccount) and sets its password there; a service
// runs as it; the second computer is refused, cannot run a service as it, and its test fails.
func TestHostSMSAOneComputer(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 61}, host("Web1"), host("Web2"))
	newSMSA(t, w)
	web1, web2 := w.Host("Web1"), w.Host("Web2")
	if err := web1.InstallADServiceAccount("SQLSvc"); err != nil {
		t.Fatalf("install on Web1: %v", err)
	}
	if got := hostServiceAccounts(t, w, web1); len(got) != 1 || !strings.EqualFold(got[0], smsaDN) {
		t.Errorf("Web1's msDS-HostServiceAccount = %q, want [%s]", got, smsaDN)
	}
	if res, err := web1.TestADServiceAccount("SQLSvc"); err != nil || !res.OK {
		t.Errorf("Test on Web1: %v %v, want True", res, err)
	}
	for _, cmd := range []string{`sc.exe create SQL binPath= C:\sql.exe`, `sc.exe config SQL obj= CONTOSO\SQLSvc$ password= ""`} {
		if got := web1.SC(cmd); !strings.Contains(got, "SUCCESS") {
			t.Fatalf("Web1 %s: %q", cmd, got)
		}
	}
	if st, err := web1.Start(KindService, "SQL"); err != nil || st != StateRunning {
		t.Errorf("Web1 start SQL as the sMSA: %s %v, want Running", st, err)
	}
	// The password the host set is the one the directory holds: the account logs on with it.
	c, err := w.LogonAccount("DC1", "SQLSvc$")
	if err != nil {
		t.Fatalf("SQLSvc$ logon with the stored key: %v", err)
	}
	_ = c

	err = web2.InstallADServiceAccount("SQLSvc")
	var ce *CmdletError
	if !errors.As(err, &ce) || !errors.Is(err, ErrLinkedElsewhere) || !strings.HasPrefix(ce.Text, "Install-ADServiceAccount : Cannot install service account.") {
		t.Errorf("install on Web2: %v, want a CmdletError with ErrLinkedElsewhere", err)
	}
	if got := hostServiceAccounts(t, w, web2); len(got) != 0 {
		t.Errorf("Web2 linked after a refused install: %q", got)
	}
	res, err := web2.TestADServiceAccount("SQLSvc")
	if err != nil || res.OK || !errors.Is(res.Reason, ErrLinkedElsewhere) || !strings.Contains(res.Warning, "linked to another computer object") {
		t.Errorf("Test on Web2: %+v %v, want False (linked elsewhere)", res, err)
	}
	_ = web2.SC(`sc.exe create SQL binPath= C:\sql.exe`)
	if got := web2.SC(`sc.exe config SQL obj= CONTOSO\SQLSvc$ password= ""`); !strings.Contains(got, "SUCCESS") {
		t.Fatalf("Web2 config: %q", got)
	}
	if st, err := web2.Start(KindService, "SQL"); !errors.Is(err, ErrLogonFailure) || st != StateStopped {
		t.Errorf("Web2 start SQL as the sMSA: %s %v, want Stopped with a logon failure", st, err)
	}
	// Web1 still runs it: the refusal changed nothing there.
	if res, err := web1.TestADServiceAccount("SQLSvc"); err != nil || !res.OK {
		t.Errorf("Test on Web1 after Web2's attempt: %v %v", res, err)
	}
}

// Seed 001: "Virtual Account | Local | Limited to one server". A service configured as
// NT SERVICE\<its name> starts without a password; on the network it is the computer: it accepts
// a ticket for the computer's own SPN (decrypted with WEB1$'s keys), not one for the farm's SPN
// registered on the gMSA, even on a host that holds the gMSA.
func TestHostVirtualAccount(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 62}, host("Web1", "ITFarmHosts"))
	newGMSA(t, w, "28")
	web1 := w.Host("Web1")
	if err := web1.InstallADServiceAccount(farmGMSAName); err != nil {
		t.Fatal(err)
	}
	_ = web1.SC(`sc.exe create WebSvc binPath= C:\web.exe`)
	for _, tc := range []struct{ cmd, want string }{
		{`sc.exe config WebSvc obj= "NT SERVICE\Other"`, "[SC] ChangeServiceConfig FAILED 1057"},
		{`sc.exe config WebSvc obj= "NT SERVICE\WebSvc"`, "[SC] ChangeServiceConfig SUCCESS"},
	} {
		if got := web1.SC(tc.cmd); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	if st, err := web1.Start(KindService, "WebSvc"); err != nil || st != StateRunning {
		t.Fatalf("start as NT SERVICE\\WebSvc: %s %v", st, err)
	}
	if wl, _ := web1.Workload(KindService, "WebSvc"); wl.Account != `NT SERVICE\WebSvc` || wl.GMSA() != "" {
		t.Errorf("WebSvc runs as %q (gMSA %q)", wl.Account, wl.GMSA())
	}
	alice, err := w.Logon("DC1", "alice", alicePwd)
	if err != nil {
		t.Fatal(err)
	}
	own, err := alice.ServiceTicket("host/web1.contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if x, err := web1.Accept(KindService, "WebSvc", own); err != nil || !strings.EqualFold(x.Account, "WEB1$") {
		t.Errorf("the virtual account accepting a ticket for the computer's SPN: %v %v, want WEB1$", x, err)
	}
	farm, err := alice.ServiceTicket(farmSPN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := web1.Accept(KindService, "WebSvc", farm); !errors.Is(err, ErrNoKeyDecrypts) {
		t.Errorf("the virtual account accepting a ticket for the farm's SPN: %v, want ErrNoKeyDecrypts", err)
	}
}
