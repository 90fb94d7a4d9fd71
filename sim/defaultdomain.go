package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
)

// The default domain that `gmsasim serve`, `selfcheck` and `ldif export` run: contoso.com with the
// accounts the issue names. Every password comes from the world's seed, so a seed gives the same
// credentials.json.

// Population is what PopulateDefault created: account name → password (Administrator and the
// DCs' accounts included), and which of the accounts are computers.
type Population struct {
	Passwords map[string]string
	// Computers are the sAMAccountNames of the domain's computer accounts, the DCs' first
	// ("DC1$", "WEB1$", "WEB2$", "WEB3$"): the accounts a domain join leaves a keytab for.
	Computers []string
}

// NewDefaultDomain builds a world from cfg and populates it with PopulateDefault.
func NewDefaultDomain(cfg Config) (*World, *Population, error) {
	w, err := New(cfg)
	if err != nil {
		return nil, nil, err
	}
	pop, err := PopulateDefault(w)
	if err != nil {
		return nil, nil, fmt.Errorf("populate the default domain: %w", err)
	}
	return w, pop, nil
}

// PopulateDefault adds alice, WEB1$..WEB3$ and the group ITFarmHosts (WEB1, WEB2) to the world
// through its first DC, as the directory itself, a KDS root key usable at once and the gMSA ITFarm1
// whose password ITFarmHosts may retrieve, and lets replication settle.
func PopulateDefault(w *World) (*Population, error) {
	dc := w.DCs()[0].Name()
	base := w.DomainDN()
	realm := strings.ToLower(w.Config().Domain)
	pop := &Population{Passwords: map[string]string{"Administrator": w.Config().AdminPassword}}
	for _, d := range w.DCs() {
		pop.Passwords[d.SAMAccountName()] = d.MachinePassword()
		pop.Computers = append(pop.Computers, d.SAMAccountName())
	}
	rnd := w.Rand("credentials")
	newPassword := func() string { return fixturePassword(rnd) }

	type account struct {
		cn, sam, container string
		classes            []string
		uac                string
		extra              []fakead.Attribute
	}
	accounts := []account{
		{cn: "alice", sam: "alice", container: "CN=Users", classes: []string{"top", "person", "organizationalPerson", "user"}, uac: "512",
			extra: []fakead.Attribute{fixtureAttr("userPrincipalName", "alice@"+realm), fixtureAttr("givenName", "Alice"), fixtureAttr("displayName", "Alice")}},
	}
	for _, h := range []string{"WEB1", "WEB2", "WEB3"} {
		accounts = append(accounts, account{cn: h, sam: h + "$", container: "CN=Computers",
			classes: []string{"top", "person", "organizationalPerson", "user", "computer"}, uac: "4096",
			extra: []fakead.Attribute{fixtureAttr("dNSHostName", strings.ToLower(h)+"."+realm),
				fixtureAttr("operatingSystem", "Windows Server 2019 Datacenter"), fixtureAttr("operatingSystemVersion", "10.0 (17763)")}})
	}
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		for _, a := range accounts {
			dn := "CN=" + a.cn + "," + a.container + "," + base
			attrs := []fakead.Attribute{
				{Name: "objectClass", Values: fixtureValues(a.classes...)},
				fixtureAttr("cn", a.cn), fixtureAttr("sAMAccountName", a.sam), fixtureAttr("userAccountControl", a.uac),
			}
			attrs = append(attrs, a.extra...)
			if err := d.Add(now, fakead.SystemCaller, dn, attrs); err != nil {
				return fmt.Errorf("create %s: %w", a.sam, err)
			}
			pw := newPassword()
			if err := d.SetPassword(now, fakead.SystemCaller, dn, pw); err != nil {
				return fmt.Errorf("set the password of %s: %w", a.sam, err)
			}
			pop.Passwords[a.sam] = pw
			if a.container == "CN=Computers" {
				pop.Computers = append(pop.Computers, a.sam)
			}
		}
		group := "CN=ITFarmHosts,CN=Users," + base
		return d.Add(now, fakead.SystemCaller, group, []fakead.Attribute{
			{Name: "objectClass", Values: fixtureValues("top", "group")},
			fixtureAttr("cn", "ITFarmHosts"), fixtureAttr("sAMAccountName", "ITFarmHosts"),
			fixtureAttr("groupType", "-2147483646"), // global security group
			fixtureAttr("description", "Hosts allowed to retrieve the ITFarm1 gMSA password"),
			{Name: "member", Values: fixtureValues("CN=WEB1,CN=Computers,"+base, "CN=WEB2,CN=Computers,"+base)},
		})
	})
	if err != nil {
		return nil, err
	}
	if err := addFarmGMSA(w, dc); err != nil {
		return nil, err
	}
	if err := w.RunUntilQuiet(); err != nil {
		return nil, err
	}
	return pop, nil
}

// addFarmGMSA gives the domain what the Microsoft guide's lab has before its first gMSA: a KDS root
// key backdated 10 hours (Add-KdsRootKey -EffectiveTime ((Get-Date).AddHours(-10))), so it is usable
// at once, and the gMSA ITFarm1 with SPN http/ITFarm1.contoso.com whose password the hosts of
// ITFarmHosts may retrieve (WEB1$ and WEB2$; not WEB3$).
func addFarmGMSA(w *World, dc string) error {
	eff := ad.FileTimeFromTime(w.Now().Add(-10 * time.Hour))
	if _, err := w.AddKdsRootKey(dc, fakekds.AddOptions{EffectiveTime: &eff}); err != nil {
		return fmt.Errorf("add the KDS root key: %w", err)
	}
	base := w.DomainDN()
	domain := strings.ToLower(w.Config().Domain)
	return w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		group, ok := d.Account("ITFarmHosts")
		if !ok {
			return fmt.Errorf("group ITFarmHosts not found")
		}
		sd, err := ad.GMSAMembershipSD(group.SID.String())
		if err != nil {
			return err
		}
		dn := "CN=ITFarm1,CN=Managed Service Accounts," + base
		err = d.Add(now, fakead.SystemCaller, dn, []fakead.Attribute{
			{Name: "objectClass", Values: fixtureValues("msDS-GroupManagedServiceAccount")},
			fixtureAttr("cn", "ITFarm1"), fixtureAttr("sAMAccountName", "ITFarm1$"),
			fixtureAttr("userAccountControl", "4096"),
			fixtureAttr("dNSHostName", "ITFarm1."+domain),
			fixtureAttr("servicePrincipalName", "http/ITFarm1."+domain),
			fixtureAttr("msDS-ManagedPasswordInterval", "30"),
			fixtureAttr("msDS-SupportedEncryptionTypes", "28"), // RC4, AES128, AES256: what the AD module sets
			{Name: "msDS-GroupMSAMembership", Values: [][]byte{sd}},
		})
		if err != nil {
			return fmt.Errorf("create the gMSA ITFarm1: %w", err)
		}
		return nil
	})
}

func fixtureAttr(name string, values ...string) fakead.Attribute {
	return fakead.Attribute{Name: name, Values: fixtureValues(values...)}
}

func fixtureValues(values ...string) [][]byte {
	out := make([][]byte, len(values))
	for i, v := range values {
		out[i] = []byte(v)
	}
	return out
}

// fixturePassword draws a 20-character password that meets AD's complexity rule (upper, lower,
// digit, symbol) from a seeded stream.
func fixturePassword(r interface{ Read([]byte) (int, error) }) string {
	const (
		upper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		lower  = "abcdefghijkmnopqrstuvwxyz"
		digit  = "23456789"
		symbol = "!#%+-=?@^_"
		all    = upper + lower + digit + symbol
	)
	buf := make([]byte, 20)
	r.Read(buf)
	out := make([]byte, len(buf))
	for i, b := range buf {
		set := all
		switch i {
		case 0:
			set = upper
		case 1:
			set = lower
		case 2:
			set = digit
		case 3:
			set = symbol
		}
		out[i] = set[int(b)%len(set)]
	}
	return string(out)
}
