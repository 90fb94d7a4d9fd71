package mimagent

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/mim"
)

func attr(name string, v ...string) fakead.Attribute {
	a := fakead.Attribute{Name: name}
	for _, s := range v {
		a.Values = append(a.Values, []byte(s))
	}
	return a
}

// gmsa creates NAME$ retrievable by the hosts, with an SPN.
func gmsa(t *testing.T, w *sim.World, name, spn string, hosts ...*mim.Host) {
	t.Helper()
	err := w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		var sids []string
		for _, h := range hosts {
			a, _ := d.Account(h.Host().SAMAccountName())
			sids = append(sids, a.SID.String())
		}
		sd, err := ad.GMSAMembershipSD(sids...)
		if err != nil {
			return err
		}
		return d.Add(now, fakead.SystemCaller, "CN="+name+",CN=Managed Service Accounts,"+d.DomainDN(), []fakead.Attribute{
			attr("objectClass", "msDS-GroupManagedServiceAccount"), attr("sAMAccountName", name+"$"),
			attr("userAccountControl", "4096"), attr("dNSHostName", name+".contoso.com"),
			attr("msDS-ManagedPasswordInterval", "30"), attr("msDS-SupportedEncryptionTypes", "28"),
			{Name: "msDS-GroupMSAMembership", Values: [][]byte{sd}}, attr("servicePrincipalName", spn)})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAgentSync(t *testing.T) {
	ctx := context.Background()
	w, m, err := mim.NewDefaultWorld(mim.DefaultOptions{Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	mh := m.Host("MIMSYNC")
	a := New(mh)
	if a.Host() != "mimsync.contoso.com" {
		t.Errorf("Host() = %q", a.Host())
	}
	osi, err := a.OSInfo(ctx)
	if err != nil || osi.Build != 20348 || !osi.Is64Bit || osi.DC != "dc1.contoso.com" {
		t.Errorf("OSInfo = %+v, %v", osi, err)
	}
	inv, err := a.Components(ctx)
	if err != nil || len(inv.Components) != 1 || inv.Components[0].Component != migrate.CompSync ||
		inv.Components[0].Account != `CONTOSO\svc-mimsync` || !inv.PCNS || len(inv.ManagementAgents) != 2 {
		t.Fatalf("inventory = %+v, %v", inv, err)
	}
	req := migrate.KeySetExportRequest{Path: `C:\keys\miiskeys.bin`, Account: "svc-mimsync",
		Password: mim.UserPassword(w, "svc-mimsync"), Domain: "CONTOSO"}
	info, err := a.ExportKeySet(ctx, req)
	if err != nil || info.KeyID != mh.DatabaseKeyID() || info.SHA256 == "" {
		t.Fatalf("export = %+v, %v", info, err)
	}
	if _, err := a.ExportKeySet(ctx, req); !errors.Is(err, migrate.ErrExists) {
		t.Errorf("second export: %v, want ErrExists", err)
	}
	if f, _ := mh.KeySet(req.Path); f.Writes != 1 {
		t.Errorf("the export was written %d times", f.Writes)
	}
	if got, err := a.VerifyKeySet(ctx, req.Path); err != nil || got.SHA256 != info.SHA256 {
		t.Errorf("verify = %+v, %v", got, err)
	}
	if _, err := a.VerifyKeySet(ctx, `C:\none.bin`); !errors.Is(err, migrate.ErrNotFound) {
		t.Errorf("verify missing: %v", err)
	}
	// The default world's sync account holds the SPN: AD refuses a duplicate, so it comes off
	// first, as the engine's move step does.
	err = w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Modify(now, fakead.SystemCaller, "CN=svc-mimsync,CN=Users,DC=contoso,DC=com", []fakead.Modification{{Op: fakead.ModDelete,
			Attr: fakead.Attribute{Name: "servicePrincipalName", Values: [][]byte{[]byte("PCNSCLNT/mimsync.contoso.com")}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	gmsa(t, w, "MIMSyncGMSA", "PCNSCLNT/mimsync.contoso.com", mh)
	if _, err := a.ChangeMode(ctx, migrate.ChangeModeRequest{Component: migrate.CompSync, Account: `CONTOSO\MIMSyncGMSA`}); !errors.Is(err, migrate.ErrRejected) {
		t.Errorf("change mode without $: %v", err)
	}
	if err := a.StopService(ctx, "FIMSynchronizationService"); err != nil {
		t.Fatal(err)
	}
	res, err := a.ChangeMode(ctx, migrate.ChangeModeRequest{Component: migrate.CompSync, Account: `CONTOSO\MIMSyncGMSA$`})
	if err != nil || len(res.Warnings) != 1 || res.Warnings[0] != mim.LogonUserWarning {
		t.Fatalf("change mode = %+v, %v", res, err)
	}
	if err := a.StartService(ctx, "FIMSynchronizationService"); !errors.Is(err, migrate.ErrServiceFailed) {
		t.Errorf("start without keys: %v", err)
	}
	st, _ := a.QueryService(ctx, "FIMSynchronizationService")
	if st.State != migrate.StateFailed || st.Account != `CONTOSO\MIMSyncGMSA$` {
		t.Errorf("status = %+v", st)
	}
	if err := a.RestoreKeySet(ctx, req.Path); err != nil {
		t.Fatal(err)
	}
	if err := a.StartService(ctx, "FIMSynchronizationService"); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.TestServiceAccount(ctx, "MIMSyncGMSA$"); !ok || err != nil {
		t.Errorf("Test-ADServiceAccount = %t, %v", ok, err)
	}
	who, err := a.VerifyKerberos(ctx, "PCNSCLNT/mimsync.contoso.com")
	if err != nil || who != "MIMSyncGMSA$" {
		t.Errorf("kerberos = %q, %v", who, err)
	}
	if _, err := a.QueryService(ctx, "nope"); !errors.Is(err, migrate.ErrNotFound) {
		t.Errorf("query unknown: %v", err)
	}
}

func TestAgentRegistryAndTrigger(t *testing.T) {
	ctx := context.Background()
	_, m, err := mim.NewDefaultWorld(mim.DefaultOptions{Seed: 12, OS: "2012R2"})
	if err != nil {
		t.Fatal(err)
	}
	a := New(m.Host("MIMSVC"))
	v, err := a.ReadRegistry(ctx, migrate.RegKeyFIMService, migrate.RegValPollExchange)
	if err != nil || v.Kind != migrate.RegDWord || v.DWord != 0 {
		t.Errorf("PollExchangeEnabled = %+v, %v", v, err)
	}
	if err := a.WriteRegistry(ctx, migrate.RegKeyFIMService, migrate.RegValPollExchange, migrate.RegistryValue{Kind: migrate.RegDWord, DWord: 1}); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.ReadRegistry(ctx, migrate.RegKeyFIMService, migrate.RegValPollExchange); v.DWord != 1 {
		t.Errorf("after the write: %+v", v)
	}
	if v, _ := a.ReadRegistry(ctx, migrate.RegKeyFIMServiceConfig, migrate.RegValExchangeOnline); v.Kind != migrate.RegString || v.String != "" {
		t.Errorf("ExchangeOnline = %+v", v)
	}
	if _, err := a.ReadRegistry(ctx, `HKLM\nope`, "x"); !errors.Is(err, migrate.ErrNotFound) {
		t.Errorf("missing value: %v", err)
	}
	if on, _ := a.KDSSvcTrigger(ctx); on {
		t.Error("trigger set before SetKDSSvcTrigger")
	}
	if err := a.SetKDSSvcTrigger(ctx); err != nil {
		t.Fatal(err)
	}
	if on, _ := a.KDSSvcTrigger(ctx); !on {
		t.Error("trigger not set")
	}
	osi, _ := a.OSInfo(ctx)
	if osi.Version != "6.3" || osi.Build != 9600 {
		t.Errorf("2012 R2 facts = %+v", osi)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.Components(cctx); !errors.Is(err, migrate.ErrUnreachable) {
		t.Errorf("cancelled context: %v", err)
	}
}
