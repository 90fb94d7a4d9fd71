package kdc_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
)

// A client whose clock differs from the DC's: within 5 minutes the logon, the TGS request and the
// AP-REQ succeed; beyond, each fails with KRB_AP_ERR_SKEW (37) — the AS pre-authentication
// timestamp, the TGS authenticator, and the service's check of the client's authenticator.
func TestInprocClientClockSkew(t *testing.T) {
	p := newInproc(t)
	web1 := adKey(t, kdc.EtypeAES256, pwWeb1, "CONTOSO.COMhostweb1.contoso.com")
	const spn = "http/ITFarm1.contoso.com"
	code := func(err error) int32 {
		var ke *kdc.Error
		if errors.As(err, &ke) {
			return ke.Code
		}
		if err != nil {
			t.Fatalf("not a KRB-ERROR: %v", err)
		}
		return 0
	}
	key := gmsaKeyOf(t, gmsaPassword(t, p.w, "ITFarm1$"), "ITFarm1$", kdc.EtypeAES256)
	p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		for _, tc := range []struct {
			skew time.Duration
			want int32
		}{{0, 0}, {4*time.Minute + 59*time.Second, 0}, {-5 * time.Minute, 0}, {5*time.Minute + time.Second, 37},
			{10 * time.Minute, 37}, {-10 * time.Minute, 37}} {
			_, err := p.k.LogonAt(now, now.Add(tc.skew), "WEB1$", web1)
			if got := code(err); got != tc.want {
				t.Errorf("logon with the client %v off: code %d, want %d (%v)", tc.skew, got, tc.want, err)
			}
		}
		// Logged on in time, then the client's clock jumps: its TGS request is refused.
		creds, err := p.k.Logon(now, "WEB1$", web1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.k.ServiceTicketAt(now, now.Add(10*time.Minute), creds, spn); code(err) != 37 {
			t.Errorf("TGS with the authenticator 10 min ahead: %v, want KRB_AP_ERR_SKEW", err)
		}
		if _, err := p.k.RenewAt(now, now.Add(-6*time.Minute), creds); code(err) != 37 {
			t.Errorf("renewal with the authenticator 6 min behind: %v, want KRB_AP_ERR_SKEW", err)
		}
		st, err := p.k.ServiceTicketAt(now, now.Add(3*time.Minute), creds, spn)
		if err != nil {
			t.Fatalf("TGS 3 min ahead: %v", err)
		}
		b, err := st.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		// The service whose clock is 10 minutes ahead of the client's refuses the AP-REQ.
		if _, err := kdc.AcceptTicketAt(now.Add(10*time.Minute), now, b, key); code(err) != 37 {
			t.Errorf("service 10 min ahead of the client: %v, want KRB_AP_ERR_SKEW", err)
		}
		acc, err := kdc.AcceptTicketAt(now.Add(4*time.Minute), now, b, key)
		if err != nil || acc.Client != "WEB1$@CONTOSO.COM" {
			t.Errorf("service 4 min ahead: %+v %v, want accepted for WEB1$@CONTOSO.COM", acc, err)
		}
		// A key that does not decrypt is still KRB_AP_ERR_MODIFIED, whatever the clocks.
		if _, err := kdc.AcceptTicketAt(now.Add(10*time.Minute), now, b, web1); code(err) != 41 {
			t.Errorf("wrong key, skewed: %v, want code 41", err)
		}
		return nil
	})
}
