package host

import (
	"errors"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/sim"
)

// A host whose clock is more than 5 minutes off its DC's: Test-ADServiceAccount is False with
// ErrClockSkew, Install fails, a purge leaves it without tickets (its logon is refused), and a
// user's ticket does not pass its AP-REQ check. 4 minutes off, and back on time, all work.
func TestHostClockSkew(t *testing.T) {
	w := newFarmWorld(t, sim.Config{Seed: 45}, host("Web1", "ITFarmHosts"), host("Web2", "ITFarmHosts"))
	newGMSA(t, w, "28")
	web1, web2 := w.Host("Web1"), w.Host("Web2")
	alice, err := w.Logon("DC1", "alice", alicePwd)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []*Host{web1, web2} {
		if err := h.InstallADServiceAccount("ITFarm1"); err != nil {
			t.Fatal(err)
		}
	}
	test := func(h *Host) TestResult {
		t.Helper()
		r, err := h.TestADServiceAccount("ITFarm1")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	decrypt := func(h *Host) error {
		t.Helper()
		tk, err := alice.ServiceTicket(farmSPN)
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.DecryptTicket(tk)
		return err
	}
	if err := web1.SetClockSkew(4 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := web1.PurgeTickets(); err != nil || !web1.LoggedOn() || !test(web1).OK || decrypt(web1) != nil {
		t.Fatalf("4 minutes off: purge %v, logged on %v, test %v, decrypt %v; want all fine", err, web1.LoggedOn(), test(web1), decrypt(web1))
	}
	if err := web1.SetClockSkew(-10 * time.Minute); err != nil || web1.ClockSkew() != -10*time.Minute {
		t.Fatalf("SetClockSkew: %v, ClockSkew %v", err, web1.ClockSkew())
	}
	if r := test(web1); r.OK || !errors.Is(r.Reason, ErrClockSkew) {
		t.Errorf("10 minutes behind, with a valid TGT: test %+v, want False for ErrClockSkew", r)
	}
	if err := decrypt(web1); !errors.Is(err, ErrClockSkew) {
		t.Errorf("AP-REQ to a host 10 minutes behind: %v, want ErrClockSkew", err)
	}
	if err := web1.PurgeTickets(); err != nil || web1.LoggedOn() {
		t.Errorf("purge: %v, logged on %v; want the purge to succeed and the logon to fail", err, web1.LoggedOn())
	}
	var ce *CmdletError
	if err := web1.InstallADServiceAccount("ITFarm1"); !errors.As(err, &ce) || ce.Text != installFailed || !errors.Is(err, ErrClockSkew) {
		t.Errorf("install while skewed: %v, want the install failure for ErrClockSkew", err)
	}
	if !test(web2).OK || decrypt(web2) != nil {
		t.Errorf("Web2, on time, is affected")
	}
	if err := web1.SetClockSkew(0); err != nil {
		t.Fatal(err)
	}
	if !test(web1).OK || decrypt(web1) != nil || !web1.LoggedOn() {
		t.Errorf("back on time: test %v, logged on %v", test(web1), web1.LoggedOn())
	}
}
