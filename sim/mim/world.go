package mim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
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

// SyncGroups are the Synchronization Service's security groups; the MIM Service account joins
// MIMSyncBrowse and MIMSyncPasswordSet for SSPR.
func SyncGroups() []string {
	return []string{"MIMSyncAdmins", "MIMSyncOperators", "MIMSyncJoiners", "MIMSyncBrowse", "MIMSyncPasswordSet"}
}

// DefaultOptions shapes the built-in MIM world.
type DefaultOptions struct {
	Seed    uint64
	RootKey RootKeyState // "": RootKeyEligible
	Version string       // MIM build on every host; "": MinGMSAVersion
	OS      string       // the hosts' OS; "": sim.DefaultDCOS
	// Exchange is the MIM Service's mail setting; "": ExchangeOnPremise.
	Exchange ExchangeMode
	Config   *sim.Config // overrides the world configuration (Seed is taken from here when set)
}

// ServiceUsers are the domain accounts the default world's services run as before conversion.
func ServiceUsers() []string {
	return []string{"svc-mimsync", "svc-mimservice", "svc-mimpam", "svc-mimsspr", "svc-mimma"}
}

// NewDefaultWorld builds the built-in MIM world: hosts MIMSYNC (sync, PCNS, an AD MA and the
// MIM Service MA), MIMSVC (MIM Service with Exchange, the MIM Portal on SharePoint), MIMPAM (PAM
// REST API, Monitoring and Component services) and MIMSSPR (both SSPR portals), all running under
// the domain accounts of ServiceUsers with passwords UserPassword gives.
func NewDefaultWorld(opt DefaultOptions) (*sim.World, *Deployment, error) {
	cfg := sim.Config{Seed: opt.Seed}
	if opt.Config != nil {
		cfg = *opt.Config
	}
	if opt.RootKey == "" {
		opt.RootKey = RootKeyEligible
	}
	if opt.Exchange == "" {
		opt.Exchange = ExchangeOnPremise
	}
	w, err := sim.New(cfg)
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
		return nil, nil, &sim.ConfigError{Field: "DefaultMIMOptions.RootKey", Value: opt.RootKey, Reason: "want eligible, fresh or none"}
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := InstallDefault(host.NewFleet(w), opt)
	if err != nil {
		return nil, nil, err
	}
	return w, m, nil
}

// UserPassword is the password of a service user of a MIM world: fixed by the seed and the
// name, so that a rebuilt world and the operator agree on it.
func UserPassword(w *sim.World, name string) string {
	return fmt.Sprintf("Mim-%s-%d!", name, w.Seed()%100000)
}

// InstallDefault installs the default MIM layout on the world of an existing fleet (its first
// DC): the sync groups and service users that are missing, and the hosts MIMSYNC, MIMSVC, MIMPAM
// and MIMSSPR. opt.Seed, opt.Config and opt.RootKey are not used here.
func InstallDefault(f *host.Fleet, opt DefaultOptions) (*Deployment, error) {
	return InstallDefaultOn(New(f), opt)
}

// InstallDefaultOn is InstallDefault adding the hosts to an existing deployment.
func InstallDefaultOn(m *Deployment, opt DefaultOptions) (*Deployment, error) {
	w := m.w
	if opt.Exchange == "" {
		opt.Exchange = ExchangeOnPremise
	}
	dc := w.DCs()[0].Name()
	for _, g := range SyncGroups() {
		if err := sim.EnsureDomainGroup(w, dc, g); err != nil {
			return nil, err
		}
	}
	for _, u := range ServiceUsers() {
		if err := sim.EnsureDomainUser(w, dc, u, UserPassword(w, u)); err != nil {
			return nil, err
		}
	}
	for _, u := range ServiceUserSPNs(w.Config().Domain) {
		if err := setServiceUser(w, dc, u); err != nil {
			return nil, err
		}
	}
	if err := w.ReplicateNow(); err != nil {
		return nil, err
	}
	nb := w.Config().NetBIOS
	acct := func(u string) string { return nb + `\` + u }
	host := func(name string) host.Spec {
		return host.Spec{Name: name, OS: opt.OS, DC: dc}
	}
	specs := []HostSpec{
		{Host: host("MIMSYNC"), Version: opt.Version, Components: []Component{CompSync}, PCNS: true,
			Accounts:  map[Component]string{CompSync: acct("svc-mimsync")},
			Passwords: map[Component]string{CompSync: UserPassword(w, "svc-mimsync")},
			Agents: []ManagementAgent{{Name: "Contoso AD MA", Type: "AD", Account: acct("svc-mimma")},
				{Name: "MIM Service MA", Type: ServiceMA, Account: acct("svc-mimma")}}},
		{Host: host("MIMSVC"), Version: opt.Version, Components: []Component{CompService, CompPortal}, Exchange: opt.Exchange,
			Accounts:  map[Component]string{CompService: acct("svc-mimservice"), CompPortal: acct("svc-mimservice")},
			Passwords: map[Component]string{CompService: UserPassword(w, "svc-mimservice"), CompPortal: UserPassword(w, "svc-mimservice")}},
		{Host: host("MIMPAM"), Version: opt.Version, Components: []Component{CompPAMRestAPI, CompPAMMonitoring, CompPAMComponent},
			Accounts: map[Component]string{CompPAMRestAPI: acct("svc-mimpam"), CompPAMMonitoring: acct("svc-mimpam"),
				CompPAMComponent: acct("svc-mimpam")},
			Passwords: map[Component]string{CompPAMRestAPI: UserPassword(w, "svc-mimpam"),
				CompPAMMonitoring: UserPassword(w, "svc-mimpam"), CompPAMComponent: UserPassword(w, "svc-mimpam")}},
		{Host: host("MIMSSPR"), Version: opt.Version, Components: []Component{CompSSPRRegistration, CompSSPRReset},
			Accounts:  map[Component]string{CompSSPRRegistration: acct("svc-mimsspr"), CompSSPRReset: acct("svc-mimsspr")},
			Passwords: map[Component]string{CompSSPRRegistration: UserPassword(w, "svc-mimsspr"), CompSSPRReset: UserPassword(w, "svc-mimsspr")}},
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

// ServiceUser is what a real MIM install leaves on one service account in the directory: the SPNs
// its services are reached by, and its delegation.
type ServiceUser struct {
	Name                 string
	SPNs                 []string
	DelegateTo           []string // msDS-AllowedToDelegateTo (constrained delegation)
	TrustedForDelegation bool     // userAccountControl TRUSTED_FOR_DELEGATION
}

// ServiceUserSPNs are the default world's SPNs and delegation on the old service accounts, as the
// document (seed 000) sets them up: PCNSCLNT/<sync server> on the sync account (PCNS targets
// MIMSYNC), FIMService/<host> on the MIM Service account with constrained delegation to the
// portal ('http/mim', 'http/mim.contoso.com' in the document; the portal here is MIMSVC), HTTP/
// on the PAM REST API's account, trusted for delegation (the document's -TrustedForDelegation),
// and one HTTP/ host name per SSPR portal (IIS sites of their own, so each its own SPN).
func ServiceUserSPNs(domain string) []ServiceUser {
	return []ServiceUser{
		{Name: "svc-mimsync", SPNs: []string{"PCNSCLNT/mimsync." + domain}},
		{Name: "svc-mimservice", SPNs: []string{"FIMService/mimsvc", "FIMService/mimsvc." + domain},
			DelegateTo: []string{"http/mimsvc", "http/mimsvc." + domain}},
		{Name: "svc-mimpam", SPNs: []string{"HTTP/mimpam", "HTTP/mimpam." + domain}, TrustedForDelegation: true},
		{Name: "svc-mimsspr", SPNs: []string{"HTTP/passwordregistration." + domain, "HTTP/passwordreset." + domain}},
	}
}

// setServiceUser adds the SPNs and delegation u lacks, as SYSTEM on dc.
func setServiceUser(w *sim.World, dc string, u ServiceUser) error {
	return w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		dn := "CN=" + u.Name + ",CN=Users," + d.DomainDN()
		res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: dn, Scope: fakead.ScopeBase,
			Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: []string{"servicePrincipalName", "msDS-AllowedToDelegateTo", "userAccountControl"}, SDFlags: -1})
		if err != nil || len(res) != 1 {
			return nil // an account this deployment did not create: left as it is
		}
		have := map[string]bool{}
		uac := 0
		for _, a := range res[0].Attributes {
			for _, v := range a.Values {
				have[strings.ToLower(a.Name)+"|"+strings.ToLower(string(v))] = true
				if strings.EqualFold(a.Name, "userAccountControl") {
					uac, _ = strconv.Atoi(string(v))
				}
			}
		}
		var mods []fakead.Modification
		missing := func(attr string, vals []string) {
			var add [][]byte
			for _, v := range vals {
				if !have[strings.ToLower(attr)+"|"+strings.ToLower(v)] {
					add = append(add, []byte(v))
				}
			}
			if len(add) > 0 {
				mods = append(mods, fakead.Modification{Op: fakead.ModAdd, Attr: fakead.Attribute{Name: attr, Values: add}})
			}
		}
		missing("servicePrincipalName", u.SPNs)
		missing("msDS-AllowedToDelegateTo", u.DelegateTo)
		if u.TrustedForDelegation && uac&fakead.UACTrustedForDelegation == 0 {
			mods = append(mods, fakead.Modification{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: "userAccountControl",
				Values: [][]byte{[]byte(strconv.Itoa(uac | fakead.UACTrustedForDelegation))}}})
		}
		if len(mods) == 0 {
			return nil
		}
		if err := d.Modify(now, fakead.SystemCaller, dn, mods); err != nil {
			return fmt.Errorf("sim: SPNs and delegation of %s: %w", u.Name, err)
		}
		return nil
	})
}
