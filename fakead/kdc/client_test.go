package kdc_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/types"
)

func (f *fixture) login(user, pw string, tcp bool) (*client.Client, error) {
	cl := client.NewWithPassword(user, realm, pw, f.config(tcp), client.DisablePAFXFAST(true))
	return cl, cl.Login()
}

// adKey derives a key the way AD does, independently of the KDC: gokrb5's string-to-key with
// the AD salt spelled out.
func adKey(t testing.TB, et int32, pw, salt string) types.EncryptionKey {
	t.Helper()
	e, err := crypto.GetEtype(et)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := e.StringToKey(pw, salt, e.GetDefaultStringToKeyParams())
	if err != nil {
		t.Fatal(err)
	}
	return types.EncryptionKey{KeyType: et, KeyValue: kb}
}

func TestGokrb5LoginAndServiceTicket(t *testing.T) {
	for _, tc := range []struct {
		name string
		tcp  bool
	}{{"tcp", true}, {"udp", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			cl, err := f.login("alice", pwAlice, tc.tcp)
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			tkt, skey, err := cl.GetServiceTicket("http/ITFarm1.contoso.com")
			if err != nil {
				t.Fatalf("service ticket: %v", err)
			}
			if skey.KeyType != kdc.EtypeAES256 || len(skey.KeyValue) != 32 {
				t.Errorf("session key etype %d len %d, want 18/32", skey.KeyType, len(skey.KeyValue))
			}
			// The ticket is encrypted with the gMSA's current AES256 key (machine salt) and kvno.
			if got, want := tkt.EncPart.KVNO, int(f.kvno("ITFarm1$")); got != want || want == 0 {
				t.Errorf("ticket kvno %d, want msDS-KeyVersionNumber %d", got, want)
			}
			if tkt.EncPart.EType != kdc.EtypeAES256 {
				t.Errorf("ticket etype %d, want 18", tkt.EncPart.EType)
			}
			key := gmsaKey(t, f.w, "ITFarm1$", kdc.EtypeAES256)
			if err := tkt.Decrypt(key); err != nil {
				t.Fatalf("the service ticket does not decrypt with the independently derived key: %v", err)
			}
			ep := tkt.DecryptedEncPart
			if ep.CName.PrincipalNameString() != "alice" || ep.CRealm != realm {
				t.Errorf("ticket client %s@%s", ep.CName.PrincipalNameString(), ep.CRealm)
			}
			if got := ep.EndTime.Sub(ep.StartTime); got != 10*time.Hour {
				t.Errorf("lifetime %v, want 10h", got)
			}
			if !types.IsFlagSet(&ep.Flags, flags.Forwardable) || !types.IsFlagSet(&ep.Flags, flags.Renewable) ||
				!types.IsFlagSet(&ep.Flags, flags.PreAuthent) || types.IsFlagSet(&ep.Flags, flags.OKAsDelegate) {
				t.Errorf("flags %x: want forwardable, renewable, pre-authent and not ok-as-delegate", ep.Flags.Bytes)
			}
			// gokrb5 asks for its own renew lifetime (48 h); the KDC grants it as it is under 7 days.
			if got := ep.RenewTill.Sub(f.w.Now()).Truncate(time.Hour); got != 48*time.Hour {
				t.Errorf("renew-till %v after now, want the 48h gokrb5 asks for", got)
			}
			// The group snapshot of alice's logon travels in the service ticket.
			b, _ := tkt.Marshal()
			groups, err := kdc.TicketGroups(b, key)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(groups, f.groups["Web Admins"]) {
				t.Errorf("snapshot %v lacks Web Admins %s", groups, f.groups["Web Admins"])
			}
			if tr := f.traceLines(); len(tr) != 3 || tr[0] != "AS alice@CONTOSO.COM -> krbtgt/CONTOSO.COM: KDC_ERR_PREAUTH_REQUIRED (25)" ||
				tr[1] != "AS alice@CONTOSO.COM -> krbtgt/CONTOSO.COM: ok" || tr[2] != "TGS alice@CONTOSO.COM -> http/ITFarm1.contoso.com: ok" {
				t.Errorf("trace %q", tr)
			}
		})
	}
}

func TestGokrb5Errors(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, user, pw string
		want           int
	}{
		{"bad password", "alice", "wrong", 24},
		{"unknown principal", "nobody", "x", 6},
		{"disabled account", "bob", "Bob-Pa55word!", 18},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.login(tc.user, tc.pw, true)
			if got := krbCode(err); got != tc.want {
				t.Errorf("code %d (%v), want %d", got, err, tc.want)
			}
		})
	}
	t.Run("unsupported etype", func(t *testing.T) {
		cfg := f.config(true)
		cfg.LibDefaults.DefaultTktEnctypeIDs = []int32{kdc.EtypeRC4}
		cfg.LibDefaults.DefaultTktEnctypes = []string{"rc4-hmac"}
		cl := client.NewWithPassword("carol", realm, "Carol-Pa55word!", cfg, client.DisablePAFXFAST(true))
		if got := krbCode(cl.Login()); got != 14 {
			t.Errorf("AES-only carol with an RC4-only client: code %d, want 14", got)
		}
	})
	t.Run("unknown service", func(t *testing.T) {
		cl, err := f.login("alice", pwAlice, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, spn := range []string{"http/nowhere.contoso.com", "Outbound1$", "host/Outbound1.contoso.com"} {
			_, _, err := cl.GetServiceTicket(spn)
			if got := krbCode(err); got != 7 {
				t.Errorf("%s: code %d (%v), want 7", spn, got, err)
			}
		}
	})
}

func TestGokrb5Skew(t *testing.T) {
	f := newFixture(t)
	cl, err := f.login("alice", pwAlice, true)
	if err != nil {
		t.Fatal(err)
	}
	// The DC's clock runs 10 minutes ahead of the client's: both exchanges refuse.
	if err := f.w.Advance(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	_, _, err = cl.GetServiceTicket("http/ITFarm1.contoso.com")
	if got := krbCode(err); got != 37 {
		t.Errorf("TGS: code %d (%v), want 37", got, err)
	}
	_, err = f.login("alice", pwAlice, true)
	if got := krbCode(err); got != 37 {
		t.Errorf("AS: code %d (%v), want 37", got, err)
	}
}

func TestGokrb5ServiceLookup(t *testing.T) {
	f := newFixture(t)
	cl, err := f.login("alice", pwAlice, true)
	if err != nil {
		t.Fatal(err)
	}
	// WEB1 has msDS-SupportedEncryptionTypes 28 (as a joined Windows computer writes it): AES256
	// tickets. WEB2 and svc_http have none: as in AD since November 2022
	// (DefaultDomainSupportedEncTypes 0x27) the ticket is RC4 and the session key AES (AES-SK).
	for _, tc := range []struct {
		spn, pw, salt string
		etype         int32
		delegate      bool
	}{
		{"HOST/web1.contoso.com", pwWeb1, "CONTOSO.COMhostweb1.contoso.com", 18, false}, // explicit SPN
		{"cifs/web2.contoso.com", "machine-password-web2", "", 23, false},               // implicit host/ mapping
		{"host/WEB2", "machine-password-web2", "", 23, false},                           // implicit host/NAME
		{"WEB1$", pwWeb1, "CONTOSO.COMhostweb1.contoso.com", 18, false},                 // sAMAccountName
		{"http/app.contoso.com", pwSvc, "", 23, true},                                   // user service, trusted for delegation
	} {
		tkt, skey, err := cl.GetServiceTicket(tc.spn)
		if err != nil {
			t.Errorf("%s: %v", tc.spn, err)
			continue
		}
		if tkt.EncPart.EType != tc.etype || skey.KeyType != kdc.EtypeAES256 {
			t.Errorf("%s: ticket etype %d, session key etype %d; want %d and 18", tc.spn, tkt.EncPart.EType, skey.KeyType, tc.etype)
		}
		if err := tkt.Decrypt(adKey(t, tc.etype, tc.pw, tc.salt)); err != nil {
			t.Errorf("%s: ticket does not decrypt with the account's key: %v", tc.spn, err)
			continue
		}
		if got := types.IsFlagSet(&tkt.DecryptedEncPart.Flags, flags.OKAsDelegate); got != tc.delegate {
			t.Errorf("%s: ok-as-delegate %v, want %v", tc.spn, got, tc.delegate)
		}
	}
}

// A gMSA logs on with its own keys (outbound authentication), even without an SPN.
func TestGokrb5GMSAOutbound(t *testing.T) {
	f := newFixture(t)
	// gokrb5 takes the password as a string: the managed password converted as Windows does before
	// string-to-key (AES only: the RC4 key is MD4 of the raw bytes).
	for _, name := range []string{"ITFarm1$", "Outbound1$"} {
		cl, err := f.login(name, utf16leToString(gmsaPassword(t, f.w, name)), false)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, _, err := cl.GetServiceTicket("HOST/web1.contoso.com"); err != nil {
			t.Errorf("%s to HOST/web1: %v", name, err)
		}
	}
}
