package kdc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gokrb5/v8/client"
)

// A DC's own computer account has keys (from its password, with AD's computer salt), so the KDC
// issues tickets for every SPN a DC registers and for the bare account name, each encrypted with
// the key derived independently from the password, under the account's kvno; and the DC's account
// logs on (AS) with its password. Issue 11, item 1.
func TestDCAccountServiceTickets(t *testing.T) {
	f := newFixture(t)
	dc := f.w.DC("DC1")
	pw := dc.MachinePassword()
	if len(pw) < 16 {
		t.Fatalf("DC1's machine password %q", pw)
	}
	const salt = "CONTOSO.COMhostdc1.contoso.com"
	var acct *fakead.Account
	var spns []string
	f.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		a, ok := d.DCAccount()
		if !ok {
			t.Fatal("DC1's replica has no DC account")
		}
		acct, spns = a, a.SPNs
		return nil
	})
	if acct.SAMAccountName != "DC1$" || acct.KVNO != 1 || acct.Keys.Salt != salt {
		t.Errorf("DCAccount: %s kvno %d salt %q; want DC1$, 1, %q", acct.SAMAccountName, acct.KVNO, acct.Keys.Salt, salt)
	}
	key := adKey(t, kdc.EtypeAES256, pw, salt)
	if string(acct.Keys.AES256) != string(key.KeyValue) {
		t.Errorf("DC1$'s stored AES256 key is not string-to-key(password, %q)", salt)
	}
	want := map[string]bool{"ldap/dc1.contoso.com": false, "ldap/DC1": false, "HOST/dc1.contoso.com": false,
		"GC/dc1.contoso.com/contoso.com": false, "RestrictedKrbHost/dc1.contoso.com": false, "RestrictedKrbHost/DC1": false}
	drs := false // E3514235-4B06-11D1-AB04-00C04FC2DCD2/<DSA GUID>/contoso.com: directory replication
	for _, s := range spns {
		if _, ok := want[s]; ok {
			want[s] = true
		}
		drs = drs || (strings.HasPrefix(s, "E3514235-4B06-11D1-AB04-00C04FC2DCD2/") && strings.HasSuffix(s, "/contoso.com") && len(s) == 37+36+12)
	}
	if !drs {
		t.Errorf("DC1$ lacks the replication SPN E3514235-4B06-11D1-AB04-00C04FC2DCD2/<guid>/contoso.com (has %v)", spns)
	}
	for s, ok := range want {
		if !ok {
			t.Errorf("DC1$ lacks the SPN %s (has %v)", s, spns)
		}
	}
	cl, err := f.login("alice", pwAlice, true)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	// Every SPN on the account, host/ in lower case as clients spell it, and the account name.
	names := append([]string{"host/dc1.contoso.com", "host/DC1", "DC1$"}, spns...)
	for _, name := range names {
		tkt, _, err := cl.GetServiceTicket(name)
		if err != nil {
			t.Errorf("service ticket for %s: %v", name, err)
			continue
		}
		if tkt.EncPart.EType != kdc.EtypeAES256 || tkt.EncPart.KVNO != 1 {
			t.Errorf("%s: ticket etype %d kvno %d, want 18 and 1", name, tkt.EncPart.EType, tkt.EncPart.KVNO)
		}
		if err := tkt.Decrypt(key); err != nil {
			t.Errorf("%s: the ticket does not decrypt with DC1$'s key: %v", name, err)
		}
	}
	dcl := client.NewWithPassword("DC1$", realm, pw, f.config(true), client.DisablePAFXFAST(true))
	if err := dcl.Login(); err != nil {
		t.Fatalf("AS logon as DC1$: %v", err)
	}
	if _, _, err := dcl.GetServiceTicket("ldap/dc1.contoso.com"); err != nil {
		t.Errorf("DC1$ asks for its own ldap/ ticket: %v", err)
	}
}
