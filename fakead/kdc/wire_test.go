package kdc_test

import (
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead/kdc"
)

// A world advanced 30 days ahead of the wall clock (serve's time travel) still serves a client
// whose clock is the wall's, when the server stamps the wire with the wall clock (ServerConfig.Wire):
// the logon passes the skew check, the tickets carry wall-clock times, and the gMSA's service
// ticket is sealed with the key of the world's time — the rotated password, its new kvno. Without
// Wire the same client is refused with KRB_AP_ERR_SKEW: the reason the option exists.
func TestServerWireClockAfterTimeTravel(t *testing.T) {
	wall := func() time.Time { return time.Now() } // wallclock: the client under test stamps requests with it
	const spn = "http/ITFarm1.contoso.com"
	for _, withWire := range []bool{true, false} {
		f := newFixtureWith(t, func(c *kdc.ServerConfig) {
			if withWire {
				c.Wire = wall
			}
		})
		before := gmsaKey(t, f.w, "ITFarm1$", kdc.EtypeAES256)
		kvBefore := f.kvno("ITFarm1$")
		if err := f.w.Advance(30*24*time.Hour + time.Minute); err != nil {
			t.Fatal(err)
		}
		cl, err := f.login("alice", pwAlice, true)
		if !withWire {
			if krbCode(err) != 37 {
				t.Errorf("without a wire clock, 30 days ahead: login %v, want KRB_AP_ERR_SKEW (37)", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("login against a world 30 days ahead: %v", err)
		}
		tkt, _, err := cl.GetServiceTicket(spn)
		if err != nil {
			t.Fatalf("service ticket: %v", err)
		}
		after := gmsaKey(t, f.w, "ITFarm1$", kdc.EtypeAES256)
		kvAfter := f.kvno("ITFarm1$")
		if kvAfter != kvBefore+1 || uint32(tkt.EncPart.KVNO) != kvAfter {
			t.Errorf("kvno before %d, after %d, ticket's %d: want the rotated password's kvno, before+1", kvBefore, kvAfter, tkt.EncPart.KVNO)
		}
		if err := tkt.Decrypt(before); err == nil {
			t.Errorf("the ticket decrypts with the key from before the rotation")
		}
		if err := tkt.Decrypt(after); err != nil {
			t.Fatalf("the ticket does not decrypt with the world's current key: %v", err)
		}
		now := wall()
		for name, ts := range map[string]time.Time{"authtime": tkt.DecryptedEncPart.AuthTime, "starttime": tkt.DecryptedEncPart.StartTime} {
			if d := now.Sub(ts); d < -time.Minute || d > time.Minute {
				t.Errorf("%s %v is %v from the wall clock, want the wire's time", name, ts, d)
			}
		}
		if d := tkt.DecryptedEncPart.EndTime.Sub(now); d < 9*time.Hour || d > 11*time.Hour {
			t.Errorf("endtime %v is %v after the wall clock, want 10h", tkt.DecryptedEncPart.EndTime, d)
		}
	}
}
