package kdc_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/types"
)

// The in-process client a simulated host uses, and the service side with current and previous
// keys across the gMSA's rotation (acceptance 2 at the KDC): new tickets use the new key, a
// ticket issued before the rotation is accepted with the previous key until it expires.
func TestInprocRotationCurrentAndPreviousKeys(t *testing.T) {
	p := newInproc(t)
	web1 := adKey(t, kdc.EtypeAES256, pwWeb1, "CONTOSO.COMhostweb1.contoso.com")
	const spn = "http/ITFarm1.contoso.com"
	var hostsSID string
	var next time.Time
	p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		g, _ := d.Account("ITFarmHosts")
		hostsSID = g.SID.String()
		a, _ := d.AccountAt(now, "ITFarm1$")
		next = a.GMSA.NextRotation
		return nil
	})
	if d := next.Sub(p.w.Now()); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Fatalf("next rotation in %v, want about 30 days", d)
	}
	// Two hours before the rotation WEB1 logs on and a ticket is issued with the current key.
	if err := p.w.AdvanceTo(next.Add(-2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	oldPw := gmsaPassword(t, p.w, "ITFarm1$")
	var old *kdc.ServiceTicket
	err := p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		creds, err := p.k.Logon(now, "WEB1$", web1)
		if err != nil {
			return err
		}
		if !types.IsFlagSet(&creds.Flags, flags.Renewable) || creds.EndTime.Sub(now) != 10*time.Hour {
			t.Errorf("TGT flags %x end +%v", creds.Flags.Bytes, creds.EndTime.Sub(now))
		}
		snap, err := p.k.Snapshot(now, creds)
		if err != nil || !slices.Contains(snap.Groups, hostsSID) || !snap.AuthTime.Equal(now.Truncate(time.Second)) {
			t.Errorf("WEB1's logon snapshot %+v (%v): want ITFarmHosts at %v", snap, err, now)
		}
		old, err = p.k.ServiceTicket(now, creds, spn)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ob, _ := old.Bytes()
	acc, err := kdc.AcceptTicket(p.w.Now(), ob, gmsaKeyOf(t, oldPw, "ITFarm1$", kdc.EtypeAES256))
	if err != nil {
		t.Fatal(err)
	}
	if acc.Client != "WEB1$@CONTOSO.COM" || acc.KeyIndex != 0 || !slices.Contains(acc.Snapshot.Groups, hostsSID) {
		t.Errorf("accepted %+v", acc)
	}
	// An hour after the rotation: a new logon, a new ticket with the new key and kvno.
	if err := p.w.AdvanceTo(next.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var fresh *kdc.ServiceTicket
	var prin *kdc.Principal
	err = p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		creds, err := p.k.Logon(now, "WEB1$", web1)
		if err != nil {
			return err
		}
		if fresh, err = p.k.ServiceTicket(now, creds, spn); err != nil {
			return err
		}
		prin, err = kdc.NewDirectory(d).Service(now, []string{"http", "ITFarm1.contoso.com"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	newPw := gmsaPassword(t, p.w, "ITFarm1$")
	if string(newPw) == string(oldPw) {
		t.Fatal("the managed password did not change at the rotation")
	}
	if fresh.Ticket.EncPart.KVNO <= old.Ticket.EncPart.KVNO {
		t.Errorf("kvno %d after the rotation, %d before", fresh.Ticket.EncPart.KVNO, old.Ticket.EncPart.KVNO)
	}
	oldKey, newKey := gmsaKeyOf(t, oldPw, "ITFarm1$", kdc.EtypeAES256), gmsaKeyOf(t, newPw, "ITFarm1$", kdc.EtypeAES256)
	// The directory may leave the previous password out of the blob right after a rotation; when
	// it gives previous keys they are the old password's. The host keeps the key it had.
	if prin.PreviousKeys != nil && string(prin.PreviousKeys[kdc.EtypeAES256]) != string(oldKey.KeyValue) {
		t.Errorf("the principal's previous AES256 key is not the old password's")
	}
	keys := []types.EncryptionKey{newKey, oldKey}
	fb, _ := fresh.Bytes()
	for _, tc := range []struct {
		name  string
		tkt   []byte
		keys  []types.EncryptionKey
		index int
		code  int32
	}{
		{"new ticket, current key", fb, keys, 0, 0},
		{"old ticket, previous key", ob, keys, 1, 0},
		{"old ticket, current key only", ob, keys[:1], 0, 41},
	} {
		acc, err := kdc.AcceptTicket(p.w.Now(), tc.tkt, tc.keys...)
		var ke *kdc.Error
		switch {
		case tc.code == 0 && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.code == 0 && acc.KeyIndex != tc.index:
			t.Errorf("%s: key %d, want %d", tc.name, acc.KeyIndex, tc.index)
		case tc.code != 0 && (!errors.As(err, &ke) || ke.Code != tc.code):
			t.Errorf("%s: %v, want code %d", tc.name, err, tc.code)
		}
	}
	// The old ticket ends 10 hours after it was issued.
	if err := p.w.AdvanceTo(old.EndTime.Add(6 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	var ke *kdc.Error
	if _, err := kdc.AcceptTicket(p.w.Now(), ob, keys...); !errors.As(err, &ke) || ke.Code != 32 {
		t.Errorf("after expiry: %v, want KRB_AP_ERR_TKT_EXPIRED", err)
	}
}

func TestInprocLogonErrors(t *testing.T) {
	p := newInproc(t)
	web1 := adKey(t, kdc.EtypeAES256, pwWeb1, "CONTOSO.COMhostweb1.contoso.com")
	p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		for _, tc := range []struct {
			name string
			key  types.EncryptionKey
			code int32
		}{
			{"WEB1$", adKey(t, kdc.EtypeAES256, "wrong", "CONTOSO.COMhostweb1.contoso.com"), 24},
			{"bob", adKey(t, kdc.EtypeAES256, "Bob-Pa55word!", "CONTOSO.COMbob"), 18},
			{"nobody", web1, 6},
		} {
			var ke *kdc.Error
			_, err := p.k.Logon(now, tc.name, tc.key)
			if !errors.As(err, &ke) || ke.Code != tc.code {
				t.Errorf("logon %s: %v, want code %d", tc.name, err, tc.code)
			}
		}
		return nil
	})
}

// A renewable TGT renews within its renew-till: the same logon (auth time, PAC), a new end.
func TestInprocRenew(t *testing.T) {
	p := newInproc(t)
	web1 := adKey(t, kdc.EtypeAES256, pwWeb1, "CONTOSO.COMhostweb1.contoso.com")
	t0 := p.w.Now()
	var creds *kdc.Credentials
	p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		var err error
		creds, err = p.k.Logon(now, "WEB1$", web1)
		return err
	})
	if creds == nil || !creds.RenewTill.Equal(t0.Add(7*24*time.Hour)) {
		t.Fatalf("logon: %+v", creds)
	}
	if err := p.w.Advance(5 * time.Hour); err != nil {
		t.Fatal(err)
	}
	var renewed *kdc.Credentials
	err := p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		var err error
		if renewed, err = p.k.Renew(now, creds); err != nil {
			return err
		}
		// The renewed TGT works and carries the logon's PAC.
		snap, err := p.k.Snapshot(now, renewed)
		if err != nil || !snap.AuthTime.Equal(t0) {
			t.Errorf("renewed TGT snapshot %+v %v: want the logon at %v", snap, err, t0)
		}
		_, err = p.k.ServiceTicket(now, renewed, "http/ITFarm1.contoso.com")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	now := p.w.Now()
	if !renewed.AuthTime.Equal(t0) || !renewed.EndTime.Equal(now.Add(10*time.Hour)) || !renewed.RenewTill.Equal(creds.RenewTill) {
		t.Errorf("renewed: auth %v end %v renew-till %v; want %v, %v, %v", renewed.AuthTime, renewed.EndTime, renewed.RenewTill,
			t0, now.Add(10*time.Hour), creds.RenewTill)
	}
	// Past its end a TGT cannot be renewed.
	if err := p.w.Advance(11 * time.Hour); err != nil {
		t.Fatal(err)
	}
	p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		var ke *kdc.Error
		if _, err := p.k.Renew(now, renewed); !errors.As(err, &ke) || ke.Code != 32 {
			t.Errorf("renewing an expired TGT: %v, want KRB_AP_ERR_TKT_EXPIRED", err)
		}
		return nil
	})
}
