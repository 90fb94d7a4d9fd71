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
// keys across a rotation.
func TestInprocLogonServiceTicketAccept(t *testing.T) {
	p := newInproc(t)
	farmKey := func(pw string) types.EncryptionKey {
		return adKey(t, kdc.EtypeAES256, pw, "CONTOSO.COMhostitfarm1.contoso.com")
	}
	web1 := adKey(t, kdc.EtypeAES256, pwWeb1, "CONTOSO.COMhostweb1.contoso.com")
	var hostsSID string
	var creds *kdc.Credentials
	var old *kdc.ServiceTicket
	err := p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		g, _ := d.Account("ITFarmHosts")
		hostsSID = g.SID.String()
		var err error
		if creds, err = p.k.Logon(now, "WEB1$", web1); err != nil {
			return err
		}
		if !types.IsFlagSet(&creds.Flags, flags.Renewable) || creds.EndTime.Sub(now) != 10*time.Hour {
			t.Errorf("TGT flags %x end +%v", creds.Flags.Bytes, creds.EndTime.Sub(now))
		}
		old, err = p.k.ServiceTicket(now, creds, "http/ITFarm1.contoso.com")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ob, _ := old.Bytes()
	acc, err := kdc.AcceptTicket(p.w.Now(), ob, farmKey(pwFarm))
	if err != nil {
		t.Fatal(err)
	}
	if acc.Client != "WEB1$@CONTOSO.COM" || acc.KeyIndex != 0 || !slices.Contains(acc.Snapshot.Groups, hostsSID) {
		t.Errorf("accepted %+v", acc)
	}
	// The gMSA's password changes (stand-in for a rotation): new tickets use the new key, the old
	// ticket is accepted with the previous one until it expires.
	const newPw = "gmsa-stand-in-password-itfarm1-next"
	var fresh *kdc.ServiceTicket
	err = p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		if err := d.SetPassword(now, fakead.SystemCaller, "CN=ITFarm1,CN=Managed Service Accounts,DC=contoso,DC=com", newPw); err != nil {
			return err
		}
		var err error
		fresh, err = p.k.ServiceTicket(now, creds, "http/ITFarm1.contoso.com")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Ticket.EncPart.KVNO != old.Ticket.EncPart.KVNO+1 {
		t.Errorf("kvno %d after the change, want %d", fresh.Ticket.EncPart.KVNO, old.Ticket.EncPart.KVNO+1)
	}
	keys := []types.EncryptionKey{farmKey(newPw), farmKey(pwFarm)}
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
	if err := p.w.Advance(10*time.Hour + 6*time.Minute); err != nil {
		t.Fatal(err)
	}
	var ke *kdc.Error
	if _, err := kdc.AcceptTicket(p.w.Now(), ob, keys...); !errors.As(err, &ke) || ke.Code != 32 {
		t.Errorf("after expiry: %v, want KRB_AP_ERR_TKT_EXPIRED", err)
	}
	// Logon errors come back typed.
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
			_, err := p.k.Logon(now, tc.name, tc.key)
			if !errors.As(err, &ke) || ke.Code != tc.code {
				t.Errorf("logon %s: %v, want code %d", tc.name, err, tc.code)
			}
		}
		return nil
	})
}
