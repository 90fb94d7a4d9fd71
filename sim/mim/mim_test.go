package mim

import (
	"errors"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// newMIMGMSA creates a gMSA the MIM hosts may retrieve (SYSTEM on DC1).
func newMIMGMSA(t *testing.T, w *sim.World, name string, hosts ...*Host) {
	t.Helper()
	err := w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		var sids []string
		for _, h := range hosts {
			a, ok := d.Account(h.Host().SAMAccountName())
			if !ok {
				t.Fatalf("no account for %s", h.Name())
			}
			sids = append(sids, a.SID.String())
		}
		sd, err := ad.GMSAMembershipSD(sids...)
		if err != nil {
			return err
		}
		return d.Add(now, fakead.SystemCaller, "CN="+name+",CN=Managed Service Accounts,"+d.DomainDN(), []fakead.Attribute{
			at("objectClass", "msDS-GroupManagedServiceAccount"), at("sAMAccountName", name+"$"),
			at("userAccountControl", "4096"), at("dNSHostName", name+".contoso.com"),
			at("msDS-ManagedPasswordInterval", "30"), {Name: "msDS-GroupMSAMembership", Values: [][]byte{sd}}})
	})
	if err != nil {
		t.Fatalf("gMSA %s: %v", name, err)
	}
}

func TestMIMDefaultWorld(t *testing.T) {
	w, m, err := NewDefaultWorld(DefaultOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(m.Hosts()); got != 4 {
		t.Fatalf("hosts = %d, want 4", got)
	}
	sync := m.Host("mimsync")
	if acct, _ := sync.Account(CompSync); acct != `CONTOSO\svc-mimsync` {
		t.Errorf("sync account = %q", acct)
	}
	if st, _ := sync.State(CompSync); st != host.StateRunning {
		t.Errorf("sync state = %s", st)
	}
	if !sync.KeysLoaded() || sync.DatabaseKeyID() == "" {
		t.Errorf("keys loaded=%t id=%q", sync.KeysLoaded(), sync.DatabaseKeyID())
	}
	svc := m.Host("MIMSVC")
	if v, ok := svc.Registry(RegMIMServiceKey, "ExchangeOnPremise"); !ok || v == "" {
		t.Errorf("ExchangeOnPremise = %q %t", v, ok)
	}
	if v, _ := svc.Registry(RegMIMServiceKey, "ExchangeOnline"); v != "" {
		t.Errorf("ExchangeOnline = %q, want empty", v)
	}
	if !Supported(CompService) || Supported(CompPortal) {
		t.Error("supported components wrong")
	}
	if got := m.Host("MIMPAM").Components(); len(got) != 3 {
		t.Errorf("PAM components = %v", got)
	}
	_ = w
}

func TestMIMChangeModeChecks(t *testing.T) {
	w, m, err := NewDefaultWorld(DefaultOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	svc := m.Host("MIMSVC")
	newMIMGMSA(t, w, "MIMServiceGMSA", svc)
	cases := []struct {
		acct, pw string
		want     error
	}{
		{`CONTOSO\MIMServiceGMSA`, "", ErrNoDollar},
		{`CONTOSO\MIMServiceGMSA$`, "secret", ErrGMSAPassword},
		{`CONTOSO\svc-mimservice`, "wrong", ErrCredentials},
		{`CONTOSO\nobody`, "x", host.ErrInvalidAccount},
	}
	for _, c := range cases {
		_, err := svc.ChangeMode(ChangeModeRequest{Component: CompService, Account: c.acct, Password: c.pw})
		if !errors.Is(err, c.want) {
			t.Errorf("%s/%q: err = %v, want %v", c.acct, c.pw, err, c.want)
		}
	}
	if acct, _ := svc.Account(CompService); acct != `CONTOSO\svc-mimservice` {
		t.Errorf("a refusal changed the account to %q", acct)
	}
	_, err = svc.ChangeMode(ChangeModeRequest{Component: CompService, Account: `CONTOSO\MIMServiceGMSA$`, Exchange: ExchangeOnline})
	if !errors.Is(err, ErrMailPassword) {
		t.Errorf("a managed account with Exchange and no mail password: %v", err)
	}
	res, err := svc.ChangeMode(ChangeModeRequest{Component: CompService, Account: `CONTOSO\MIMServiceGMSA$`, Exchange: ExchangeOnline,
		MailAccount: "mim@contoso.onmicrosoft.com", MailPassword: "Cloud-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || res.Warnings[0] != LogonUserWarning {
		t.Errorf("warnings = %q", res.Warnings)
	}
	if st, _ := svc.State(CompService); st != host.StateRunning {
		t.Errorf("FIMService = %s after change mode", st)
	}
	if v, _ := svc.Registry(RegMIMServiceKey, "ExchangeOnline"); v == "" {
		t.Error("ExchangeOnline empty after choosing Exchange Online")
	}
	if v, _ := svc.Registry(RegMIMServiceKey, "ExchangeOnPremise"); v != "" {
		t.Errorf("ExchangeOnPremise = %q, want empty", v)
	}
	if got := svc.Warnings(); len(got) != 1 {
		t.Errorf("recorded warnings = %q", got)
	}
}

func TestMIMOldVersionRefusesGMSA(t *testing.T) {
	w, m, err := NewDefaultWorld(DefaultOptions{Seed: 3, Version: "4.5.25.0"})
	if err != nil {
		t.Fatal(err)
	}
	pam := m.Host("MIMPAM")
	newMIMGMSA(t, w, "MIMPAMGMSA", pam)
	_, err = pam.ChangeMode(ChangeModeRequest{Component: CompPAMMonitoring, Account: `CONTOSO\MIMPAMGMSA$`})
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("err = %v, want ErrMIMVersion", err)
	}
}

func TestMIMSyncKeySet(t *testing.T) {
	w, m, err := NewDefaultWorld(DefaultOptions{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Host("MIMSYNC")
	newMIMGMSA(t, w, "MIMSyncGMSA", s)
	pw := UserPassword(w, "svc-mimsync")
	if _, err := s.ExportKeySet("svc-mimsync", "bad", "CONTOSO", ""); !errors.Is(err, ErrCredentials) {
		t.Errorf("export with a wrong password: %v", err)
	}
	if _, err := s.ExportKeySet("svc-other", pw, "CONTOSO", ""); !errors.Is(err, ErrWrongAccount) {
		t.Errorf("export as another account: %v", err)
	}
	f, err := s.ExportKeySet("svc-mimsync", pw, "CONTOSO", "")
	if err != nil {
		t.Fatal(err)
	}
	if f.KeyID != s.DatabaseKeyID() || f.Path != DefaultKeySetPath || f.Writes != 1 {
		t.Errorf("export = %+v, db %s", f, s.DatabaseKeyID())
	}
	if err := s.Stop(CompSync); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangeMode(ChangeModeRequest{Component: CompSync, Account: `CONTOSO\MIMSyncGMSA$`}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(CompSync); !errors.Is(err, ErrKeySet) {
		t.Fatalf("start before the restore: %v, want ErrMIMKeySet", err)
	}
	// A reboot does not bring it up either.
	if err := s.Host().Reboot(); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.State(CompSync); st != host.StateStopped {
		t.Errorf("after a reboot without keys: %s", st)
	}
	s.WriteFile(`C:\other.bin`, []byte("MIISKMU keyset v1\nkeyset=0000\n"))
	if err := s.RestoreKeySet(`C:\other.bin`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(CompSync); !errors.Is(err, ErrKeySet) {
		t.Fatalf("start with a foreign key set: %v", err)
	}
	if err := s.RestoreKeySet(`C:\missing.bin`); !errors.Is(err, ErrNoKeyFile) {
		t.Fatalf("restore of a missing file: %v", err)
	}
	if err := s.RestoreKeySet(DefaultKeySetPath); err != nil {
		t.Fatal(err)
	}
	st, err := s.Start(CompSync)
	if err != nil || st != host.StateRunning {
		t.Fatalf("start after the restore: %s %v", st, err)
	}
	if acct, _ := s.Account(CompSync); acct != `CONTOSO\MIMSyncGMSA$` {
		t.Errorf("sync account = %q", acct)
	}
	if err := s.Host().Reboot(); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.State(CompSync); st != host.StateRunning {
		t.Errorf("after a reboot with keys: %s", st)
	}
}

func at(name string, vals ...string) fakead.Attribute {
	a := fakead.Attribute{Name: name}
	for _, v := range vals {
		a.Values = append(a.Values, []byte(v))
	}
	return a
}
