package sim

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
)

// The built-in MIM world: contoso.com with one DC, the MIM sync groups, domain accounts for the
// current services, and four MIM hosts (sync, service with the portal, PAM, SSPR).

// RootKeyState is what KDS root key a default MIM world starts with.
type RootKeyState string

const (
	RootKeyEligible RootKeyState = "eligible" // created with -EffectiveTime now − 10 h: usable at once
	RootKeyFresh    RootKeyState = "fresh"    // -EffectiveImmediately just now: refused for up to 10 h
	RootKeyNone     RootKeyState = "none"     // no root key
)

// MIMSyncGroups are the Synchronization Service's security groups; the MIM Service account joins
// MIMSyncBrowse and MIMSyncPasswordSet for SSPR.
var MIMSyncGroups = []string{"MIMSyncAdmins", "MIMSyncOperators", "MIMSyncJoiners", "MIMSyncBrowse", "MIMSyncPasswordSet"}

// DefaultMIMOptions shapes the built-in MIM world.
type DefaultMIMOptions struct {
	Seed    uint64
	RootKey RootKeyState // "": RootKeyEligible
	Version string       // MIM build on every host; "": MinGMSAVersion
	OS      string       // the hosts' OS; "": DefaultDCOS
	// Exchange is the MIM Service's mail setting; "": ExchangeOnPremise.
	Exchange ExchangeMode
	Config   *Config // overrides the world configuration (Seed is taken from here when set)
}

// MIMServiceUsers are the domain accounts the default world's services run as before conversion.
var MIMServiceUsers = []string{"svc-mimsync", "svc-mimservice", "svc-mimpam", "svc-mimsspr", "svc-mimma"}

// NewDefaultMIMWorld builds the built-in MIM world: hosts MIMSYNC (sync, PCNS, an AD MA and the
// MIM Service MA), MIMSVC (MIM Service with Exchange, the MIM Portal on SharePoint), MIMPAM (PAM
// REST API, Monitoring and Component services) and MIMSSPR (both SSPR portals), all running under
// the domain accounts of MIMServiceUsers with passwords MIMUserPassword gives.
func NewDefaultMIMWorld(opt DefaultMIMOptions) (*World, *MIM, error) {
	cfg := Config{Seed: opt.Seed}
	if opt.Config != nil {
		cfg = *opt.Config
	}
	if opt.RootKey == "" {
		opt.RootKey = RootKeyEligible
	}
	if opt.Exchange == "" {
		opt.Exchange = ExchangeOnPremise
	}
	w, err := New(cfg)
	if err != nil {
		return nil, nil, err
	}
	dc := w.DCs()[0].Name()
	switch opt.RootKey {
	case RootKeyEligible:
		ft := ad.FileTimeFromTime(w.Now().Add(-10 * time.Hour))
		_, err = w.AddKdsRootKey(dc, fakekds.AddOptions{EffectiveTime: &ft})
	case RootKeyFresh:
		_, err = w.AddKdsRootKey(dc, fakekds.AddOptions{EffectiveImmediately: true})
	case RootKeyNone:
	default:
		return nil, nil, &ConfigError{"DefaultMIMOptions.RootKey", opt.RootKey, "want eligible, fresh or none"}
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := InstallDefaultMIM(w, opt)
	if err != nil {
		return nil, nil, err
	}
	return w, m, nil
}

// MIMUserPassword is the password of a service user of a MIM world: fixed by the seed and the
// name, so that a rebuilt world and the operator agree on it.
func MIMUserPassword(w *World, name string) string {
	return fmt.Sprintf("Mim-%s-%d!", name, w.Seed()%100000)
}

// AddDomainUser creates an enabled user CN=name,CN=Users with a password, as SYSTEM on dc.
func AddDomainUser(w *World, dc, name, password string) error {
	return w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		dn := "CN=" + name + ",CN=Users," + d.DomainDN()
		err := d.Add(now, fakead.SystemCaller, dn, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("user")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte(name)}},
			{Name: "userPrincipalName", Values: [][]byte{[]byte(name + "@" + d.DNSName())}},
			{Name: "userAccountControl", Values: [][]byte{[]byte(strconv.Itoa(fakead.UACNormalAccount))}},
		})
		if err != nil {
			return fmt.Errorf("sim: user %s: %w", name, err)
		}
		if err := d.SetPassword(now, fakead.SystemCaller, dn, password); err != nil {
			return fmt.Errorf("sim: password of %s: %w", name, err)
		}
		w.trace.Logf(now, "%s user %s created", d.DC().Name, name)
		return nil
	})
}

// AddDomainGroup creates a global security group CN=name,CN=Users as SYSTEM on dc.
func AddDomainGroup(w *World, dc, name string) error {
	return w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		dn := "CN=" + name + ",CN=Users," + d.DomainDN()
		err := d.Add(now, fakead.SystemCaller, dn, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("group")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte(name)}},
			{Name: "groupType", Values: [][]byte{[]byte("-2147483646")}},
		})
		if err != nil {
			return fmt.Errorf("sim: group %s: %w", name, err)
		}
		w.trace.Logf(now, "%s group %s created", d.DC().Name, name)
		return nil
	})
}

// InstallDefaultMIM installs the default MIM layout on an existing world (its first DC): the sync
// groups and service users that are missing, and the hosts MIMSYNC, MIMSVC, MIMPAM and MIMSSPR.
// opt.Seed, opt.Config and opt.RootKey are not used here.
func InstallDefaultMIM(w *World, opt DefaultMIMOptions) (*MIM, error) {
	return InstallDefaultMIMOn(NewMIM(w), opt)
}

// InstallDefaultMIMOn is InstallDefaultMIM adding the hosts to an existing deployment.
func InstallDefaultMIMOn(m *MIM, opt DefaultMIMOptions) (*MIM, error) {
	w := m.w
	if opt.Exchange == "" {
		opt.Exchange = ExchangeOnPremise
	}
	dc := w.DCs()[0].Name()
	for _, g := range MIMSyncGroups {
		if err := EnsureDomainGroup(w, dc, g); err != nil {
			return nil, err
		}
	}
	for _, u := range MIMServiceUsers {
		if err := EnsureDomainUser(w, dc, u, MIMUserPassword(w, u)); err != nil {
			return nil, err
		}
	}
	if err := w.ReplicateNow(); err != nil {
		return nil, err
	}
	nb := w.Config().NetBIOS
	acct := func(u string) string { return nb + `\` + u }
	host := func(name string) HostSpec {
		return HostSpec{Name: name, OS: opt.OS, Is64Bit: true, DC: dc}
	}
	specs := []MIMHostSpec{
		{Host: host("MIMSYNC"), Version: opt.Version, Components: []MIMComponent{CompSync}, PCNS: true,
			Accounts:  map[MIMComponent]string{CompSync: acct("svc-mimsync")},
			Passwords: map[MIMComponent]string{CompSync: MIMUserPassword(w, "svc-mimsync")},
			Agents: []ManagementAgent{{Name: "Contoso AD MA", Type: "AD", Account: acct("svc-mimma")},
				{Name: "MIM Service MA", Type: MIMServiceMA, Account: acct("svc-mimma")}}},
		{Host: host("MIMSVC"), Version: opt.Version, Components: []MIMComponent{CompService, CompPortal}, Exchange: opt.Exchange,
			Accounts:  map[MIMComponent]string{CompService: acct("svc-mimservice"), CompPortal: acct("svc-mimservice")},
			Passwords: map[MIMComponent]string{CompService: MIMUserPassword(w, "svc-mimservice"), CompPortal: MIMUserPassword(w, "svc-mimservice")}},
		{Host: host("MIMPAM"), Version: opt.Version, Components: []MIMComponent{CompPAMRestAPI, CompPAMMonitoring, CompPAMComponent},
			Accounts: map[MIMComponent]string{CompPAMRestAPI: acct("svc-mimpam"), CompPAMMonitoring: acct("svc-mimpam"),
				CompPAMComponent: acct("svc-mimpam")},
			Passwords: map[MIMComponent]string{CompPAMRestAPI: MIMUserPassword(w, "svc-mimpam"),
				CompPAMMonitoring: MIMUserPassword(w, "svc-mimpam"), CompPAMComponent: MIMUserPassword(w, "svc-mimpam")}},
		{Host: host("MIMSSPR"), Version: opt.Version, Components: []MIMComponent{CompSSPRRegistration, CompSSPRReset},
			Accounts:  map[MIMComponent]string{CompSSPRRegistration: acct("svc-mimsspr"), CompSSPRReset: acct("svc-mimsspr")},
			Passwords: map[MIMComponent]string{CompSSPRRegistration: MIMUserPassword(w, "svc-mimsspr"), CompSSPRReset: MIMUserPassword(w, "svc-mimsspr")}},
	}
	for _, s := range specs {
		if _, err := m.AddHost(s); err != nil {
			return nil, fmt.Errorf("sim: default MIM world: host %s: %w", s.Host.Name, err)
		}
	}
	if err := w.ReplicateNow(); err != nil {
		return nil, err
	}
	return m, nil
}

// exists reports whether an account of that name exists on dc.
func exists(w *World, dc, name string) bool {
	found := false
	_ = w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		_, found = d.Account(name)
		return nil
	})
	return found
}

// EnsureDomainUser creates the user unless an account of that name exists.
func EnsureDomainUser(w *World, dc, name, password string) error {
	if exists(w, dc, name) {
		return nil
	}
	return AddDomainUser(w, dc, name, password)
}

// EnsureDomainGroup creates the group unless an account of that name exists.
func EnsureDomainGroup(w *World, dc, name string) error {
	if exists(w, dc, name) {
		return nil
	}
	return AddDomainGroup(w, dc, name)
}
