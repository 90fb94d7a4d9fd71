package host

import (
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
)

const (
	farmSPN      = "http/ITFarm1.contoso.com"
	alicePwd     = "Pa55w.rd-alice!"
	farmGroupDN  = "CN=ITFarmHosts,CN=Users,DC=contoso,DC=com"
	farmGMSADN   = "CN=ITFarm1,CN=Managed Service Accounts,DC=contoso,DC=com"
	farmGMSAName = "ITFarm1"
)

func at(name string, vals ...string) fakead.Attribute {
	a := fakead.Attribute{Name: name}
	for _, v := range vals {
		a.Values = append(a.Values, []byte(v))
	}
	return a
}

// newFarmWorld is seed 001's lab: a root key effective 10 hours ago (Add-KdsRootKey
// -EffectiveTime ((Get-Date).AddHours(-10))), the group ITFarmHosts, the user alice, and the
// hosts given (added before the gMSA, as in "Deploying a new server farm").
func newFarmWorld(t testing.TB, cfg sim.Config, hosts ...Spec) *farmWorld {
	t.Helper()
	sw, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &farmWorld{sw, NewFleet(sw)}
	rnd := sim.NewStreams(cfg.Seed).Get("test-root-key")
	err = w.ExecOn(w.Config().DCs[0].Name, func(now time.Time, d *fakead.Directory) error {
		eff := ad.FileTimeFromTime(now.Add(-10 * time.Hour))
		rk, err := fakekds.AddKdsRootKey(rnd, ad.FileTimeFromTime(now), "CN=DC1,OU=Domain Controllers,DC=contoso,DC=com",
			fakekds.AddOptions{EffectiveTime: &eff})
		if err != nil {
			return err
		}
		var attrs []fakead.Attribute
		for _, a := range rk.Attributes() {
			attrs = append(attrs, fakead.Attribute{Name: a.Name, Values: a.Values})
		}
		if err := d.Add(now, fakead.SystemCaller, rk.DN(d.DomainDN()), attrs); err != nil {
			return err
		}
		if err := d.Add(now, fakead.SystemCaller, farmGroupDN, []fakead.Attribute{at("objectClass", "group"),
			at("sAMAccountName", "ITFarmHosts"), at("groupType", "-2147483646")}); err != nil {
			return err
		}
		alice := "CN=alice,CN=Users,DC=contoso,DC=com"
		if err := d.Add(now, fakead.SystemCaller, alice, []fakead.Attribute{at("objectClass", "user"),
			at("sAMAccountName", "alice"), at("userPrincipalName", "alice@contoso.com")}); err != nil {
			return err
		}
		if err := d.SetPassword(now, fakead.SystemCaller, alice, alicePwd); err != nil {
			return err
		}
		return d.Modify(now, fakead.SystemCaller, alice, []fakead.Modification{{Op: fakead.ModReplace, Attr: at("userAccountControl", "512")}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Settle(); err != nil { // the objects reach every DC
		t.Fatal(err)
	}
	for _, h := range hosts {
		if _, err := w.AddHost(h); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// newGMSA creates ITFarm1 (New-ADServiceAccount ITFarm1 -DNSHostName ITFarm1.contoso.com
// -PrincipalsAllowedToRetrieveManagedPassword ITFarmHosts -ServicePrincipalNames http/ITFarm1.contoso.com)
// with the given msDS-SupportedEncryptionTypes.
func newGMSA(t testing.TB, w *farmWorld, enc string) {
	t.Helper()
	err := w.ExecOn(w.Config().DCs[0].Name, func(now time.Time, d *fakead.Directory) error {
		g, ok := d.Account("ITFarmHosts")
		if !ok {
			t.Fatal("no ITFarmHosts")
		}
		sd, err := ad.GMSAMembershipSD(g.SID.String())
		if err != nil {
			return err
		}
		return d.Add(now, fakead.SystemCaller, farmGMSADN, []fakead.Attribute{
			at("objectClass", "msDS-GroupManagedServiceAccount"), at("sAMAccountName", "ITFarm1$"),
			at("userAccountControl", "4096"), at("dNSHostName", "ITFarm1.contoso.com"),
			at("msDS-ManagedPasswordInterval", "30"), at("msDS-SupportedEncryptionTypes", enc),
			{Name: "msDS-GroupMSAMembership", Values: [][]byte{sd}}, at("servicePrincipalName", farmSPN)})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// setMember adds (or removes) a host's computer account to (from) ITFarmHosts.
func setMember(t *testing.T, w *farmWorld, h *Host, add bool) {
	t.Helper()
	op := fakead.ModAdd
	if !add {
		op = fakead.ModDelete
	}
	err := w.ExecOn(h.spec.DC, func(now time.Time, d *fakead.Directory) error {
		return d.Modify(now, fakead.SystemCaller, farmGroupDN, []fakead.Modification{{Op: op, Attr: at("member", h.DN())}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// nextRotation is when ITFarm1's stored password id expires, as DC1 computes it.
func nextRotation(t *testing.T, w *farmWorld) time.Time {
	t.Helper()
	var next time.Time
	err := w.ExecOn(w.Config().DCs[0].Name, func(now time.Time, d *fakead.Directory) error {
		a, ok := d.AccountAt(now, "ITFarm1$")
		if !ok || a.GMSA == nil {
			t.Fatal("ITFarm1$ is not a gMSA")
		}
		next = a.GMSA.NextRotation
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return next
}

// farmWorld is a test's world with its fleet, and the calls the tests make on the pair.
type farmWorld struct {
	*sim.World
	*Fleet
}

func (w *farmWorld) AddHost(s Spec) (*Host, error) { return w.Fleet.Add(s) }
func (w *farmWorld) CheckHostCaches() error        { return w.Fleet.CheckCaches() }
func (w *farmWorld) Logon(dc, name, password string) (*Client, error) {
	return Logon(w.World, dc, name, password)
}
func (w *farmWorld) LogonAccount(dc, name string) (*Client, error) {
	return LogonAccount(w.World, dc, name)
}

func host(name string, groups ...string) Spec {
	return Spec{Name: name, OS: "2016", Groups: groups}
}
