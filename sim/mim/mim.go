package mim

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// Microsoft Identity Manager on member hosts: the Synchronization Service with its encryption key
// set, the MIM Service with its Exchange settings, the PAM services and REST API, the SSPR portals,
// and the components the gMSA conversion leaves alone (the MIM Portal on SharePoint, management
// agents other than the MIM Service MA, Certificate Management, BHOLD). A MIM is a set of MIM
// hosts over one sim.World; each Host is a Host with MIM installed. Every operation runs through
// the world loop.

// Component is one installable part of MIM.
type Component string

const (
	CompSync             Component = "sync"              // Synchronization Service (FIMSynchronizationService)
	CompService          Component = "service"           // MIM Service (FIMService)
	CompPAMRestAPI       Component = "pam-rest"          // PAM REST API (IIS application pool)
	CompPAMMonitoring    Component = "pam-monitoring"    // PamMonitoringService
	CompPAMComponent     Component = "pam-component"     // PrivilegeManagementComponentService
	CompSSPRRegistration Component = "sspr-registration" // Password Registration portal (app pool)
	CompSSPRReset        Component = "sspr-reset"        // Password Reset portal (app pool)
	CompPortal           Component = "portal"            // MIM Portal on SharePoint: not supported
	CompCertManagement   Component = "cm"                // Certificate Management: not supported
	CompBHOLD            Component = "bhold"             // BHOLD: not supported
)

// Components lists every component in a stable order. A new slice each call.
func Components() []Component {
	return []Component{CompSync, CompService, CompPAMRestAPI, CompPAMMonitoring, CompPAMComponent,
		CompSSPRRegistration, CompSSPRReset, CompPortal, CompCertManagement, CompBHOLD}
}

// Workload is the service or application pool a component runs as.
// Divergence: the IIS application pool names of the PAM REST API and the SSPR portals are the
// simulator's; installations may name them differently.
func Workload(c Component) (host.WorkloadKind, string, bool) {
	switch c {
	case CompSync:
		return host.KindService, "FIMSynchronizationService", true
	case CompService:
		return host.KindService, "FIMService", true
	case CompPAMRestAPI:
		return host.KindAppPool, "MIMPAMRestApi", true
	case CompPAMMonitoring:
		return host.KindService, "PamMonitoringService", true
	case CompPAMComponent:
		return host.KindService, "PrivilegeManagementComponentService", true
	case CompSSPRRegistration:
		return host.KindAppPool, "MIMPasswordRegistration", true
	case CompSSPRReset:
		return host.KindAppPool, "MIMPasswordReset", true
	case CompPortal:
		return host.KindAppPool, "SharePoint - 80", true
	case CompCertManagement:
		return host.KindService, "CLMService", true
	case CompBHOLD:
		return host.KindAppPool, "BHOLD", true
	}
	return "", "", false
}

// Supported reports whether the seed lists the component as convertible to a gMSA.
func Supported(c Component) bool {
	switch c {
	case CompPortal, CompCertManagement, CompBHOLD:
		return false
	}
	_, _, ok := Workload(c)
	return ok
}

// ComponentByWorkload finds the component of a service or application pool name.
func ComponentByWorkload(name string) (Component, bool) {
	for _, c := range Components() {
		if _, n, _ := Workload(c); strings.EqualFold(n, name) {
			return c, true
		}
	}
	return "", false
}

// MinGMSAVersion is the first MIM build whose installers accept a gMSA (the seed's hotfix).
const MinGMSAVersion = "4.5.26.0"

// Registry keys the MIM Service installer and the seed name.
const (
	RegFIMServiceKey  = `HKLM\SYSTEM\CurrentControlSet\Services\FIMService`
	RegMIMServiceKey  = `HKLM\SOFTWARE\Microsoft\Forefront Identity Manager\2010\Service`
	DefaultKeySetPath = `C:\Windows\system32\miiskeys-1.bin`
	// LogonUserWarning is what the installers show for a managed account (LogonUser cannot check it).
	LogonUserWarning = "Please check if Service Account is secure in its current configuration."
)

// ExchangeMode is how the MIM Service reaches its mailbox.
type ExchangeMode string

const (
	ExchangeNone      ExchangeMode = ""
	ExchangeOnPremise ExchangeMode = "onpremise"
	ExchangeOnline    ExchangeMode = "online"
)

// ManagementAgent is a connector in the sync database with its own credentials.
type ManagementAgent struct {
	Name    string // "Contoso AD MA"
	Type    string // "FIM" (the MIM Service MA, the only one the conversion supports), "AD", "SQL", ...
	Account string // the account it connects as
}

// ServiceMA is the management agent type the conversion supports.
const ServiceMA = "FIM"

// Errors of the MIM installers and tools (wrapped in *host.Error).
var (
	ErrNotInstalled = errors.New("the MIM component is not installed on this host")
	ErrVersion      = errors.New("this MIM build does not accept a group managed service account (install 4.5.26.0 or later)")
	ErrNoDollar     = errors.New("the account is a group managed service account named without its trailing $: enter it with the $")
	ErrGMSAPassword = errors.New("a group managed service account takes no password: leave the password box empty")
	ErrCredentials  = errors.New("the user name or password is incorrect")
	ErrKeySet       = errors.New("the Synchronization Service cannot load its encryption key set: restore the key set exported from this database")
	ErrNoKeyFile    = errors.New("the key set file does not exist")
	ErrWrongAccount = errors.New("the account is not the Synchronization Service's account")
	ErrMailPassword = errors.New("the MIM Service with a managed account needs the Service Email Account Password")
	ErrScriptSync   = errors.New("the Synchronization Service's encryption keys are bound to its account: change it in change mode with the key set, not by script")
)

// HostSpec is a member host with MIM installed.
type HostSpec struct {
	Host       host.Spec
	Version    string               // "4.5.26.0"; "" means MinGMSAVersion
	Components []Component          // installed components
	Accounts   map[Component]string // logon account per component, "CONTOSO\svc-mimsync"; "" LocalSystem
	Passwords  map[Component]string // their passwords
	Agents     []ManagementAgent    // sync: the management agents
	PCNS       bool                 // sync: Password Change Notification Service targets this server
	Exchange   ExchangeMode         // service: how the MIM Service reaches Exchange
}

// Deployment is the MIM deployment of a world: its MIM hosts, on member hosts of one fleet.
type Deployment struct {
	w     *sim.World
	fleet *host.Fleet
	hosts map[string]*Host
	order []*Host
	known map[string]string // every domain account password MIM was configured with, by account
}

// New starts an empty MIM deployment whose hosts join the fleet f.
func New(f *host.Fleet) *Deployment {
	return &Deployment{w: f.World(), fleet: f, hosts: map[string]*Host{}, known: map[string]string{}}
}

// Fleet is the member hosts the deployment's hosts are among.
func (m *Deployment) Fleet() *host.Fleet { return m.fleet }

// World is the world the deployment lives in.
func (m *Deployment) World() *sim.World { return m.w }

// Host returns the MIM host called name (case-insensitive), or nil.
func (m *Deployment) Host(name string) *Host {
	return sim.LockedValue(m.w, func() *Host {
		return m.hosts[strings.ToUpper(name)]
	})
}

// Hosts returns the MIM hosts in the order they were added.
func (m *Deployment) Hosts() []*Host {
	return sim.LockedValue(m.w, func() []*Host {
		return append([]*Host(nil), m.order...)
	})
}

// KnownPasswords are the passwords of the domain accounts MIM components were configured with
// (at installation or in change mode), by the account as configured (CONTOSO\svc-mimsync): what
// the operator knows and types, also after the services moved to gMSAs (for rollback).
func (m *Deployment) KnownPasswords() map[string]string {
	return sim.LockedValue(m.w, func() map[string]string {
		out := map[string]string{}
		for k, v := range m.known {
			out[k] = v
		}
		return out
	})
}

// Host is a member host with MIM installed.
type Host struct {
	m        *Deployment
	h        *host.Host
	version  string
	comps    map[Component]bool
	agents   []ManagementAgent
	pcns     bool
	exchange ExchangeMode
	registry map[string]regValue // by lower-case key\value
	files    map[string][]byte   // by lower-case path
	keyDB    string              // the key set the sync database is encrypted with
	keyRun   string              // the key set the sync service has loaded ("" none)
	syncAuto host.StartType      // the sync service's configured start type
	events   []string            // Application event log
	warnings []string            // installer warnings shown
	writes   map[string]int      // how many times each file was written
}

type regValue struct{ key, name, kind, data string }

// AddHost joins a host to the deployment's fleet (host.Fleet.Add) and installs MIM on it: each component's service or
// application pool (automatic start) under its account, started; a sync database encrypted with a
// fresh key set (stream "mim/<NAME>"); the MIM Service's Exchange registry values.
func (m *Deployment) AddHost(spec HostSpec) (*Host, error) {
	if spec.Version == "" {
		spec.Version = MinGMSAVersion
	}
	if _, err := parseVersion(spec.Version); err != nil {
		return nil, &sim.ConfigError{Field: "MIMHostSpec.Version", Value: spec.Version, Reason: "want a.b.c.d"}
	}
	h, err := m.fleet.Add(spec.Host)
	if err != nil {
		return nil, err
	}
	mh := &Host{m: m, h: h, version: spec.Version, comps: map[Component]bool{}, pcns: spec.PCNS,
		exchange: spec.Exchange, registry: map[string]regValue{}, files: map[string][]byte{},
		agents: append([]ManagementAgent(nil), spec.Agents...), syncAuto: host.StartAuto, writes: map[string]int{}}
	for _, c := range spec.Components {
		kind, name, ok := Workload(c)
		if !ok {
			return nil, &sim.ConfigError{Field: "MIMHostSpec.Components", Value: c, Reason: fmt.Sprintf("want one of %v", Components())}
		}
		if err := h.AddWorkload(kind, name, host.StartAuto); err != nil {
			return nil, err
		}
		if acct := spec.Accounts[c]; acct != "" {
			if err := h.SetAccount(kind, name, acct, spec.Passwords[c]); err != nil {
				return nil, err
			}
			if pw := spec.Passwords[c]; pw != "" {
				m.w.Locked(func() { m.known[acct] = pw })
			}
		}
		mh.comps[c] = true
	}
	err = h.Exec(func(now time.Time, dc *sim.DC) error {
		if mh.comps[CompSync] {
			mh.keyDB = fmt.Sprintf("%016x", m.w.Loop().Rand("mim/"+strings.ToUpper(h.Name())).Uint64())
			mh.keyRun = mh.keyDB
		}
		if mh.comps[CompService] {
			mh.setExchangeLocked(spec.Exchange)
			mh.setRegLocked(RegFIMServiceKey, "PollExchangeEnabled", "0")
		}
		for _, c := range Components() {
			if mh.comps[c] {
				kind, name, _ := Workload(c)
				h.StartLocked(now, dc, h.WorkloadLocked(kind, name))
			}
		}
		m.hosts[strings.ToUpper(h.Name())] = mh
		m.order = append(m.order, mh)
		m.w.Loop().Logf("host %s MIM %s installed: %s", h.Name(), mh.version, strings.Join(mh.componentsLocked(), ","))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return mh, nil
}

func (mh *Host) componentsLocked() []string {
	var out []string
	for _, c := range Components() {
		if mh.comps[c] {
			out = append(out, string(c))
		}
	}
	return out
}

// Host is the member host MIM runs on.
func (mh *Host) Host() *host.Host { return mh.h }

// Name is the host's name.
func (mh *Host) Name() string { return mh.h.Name() }

// DNSDomain is the domain's DNS name, "contoso.com".
func (mh *Host) DNSDomain() string { return mh.m.w.Config().Domain }

// FQDN is the host's DNS name, "mimsync.contoso.com".
func (mh *Host) FQDN() string { return mh.h.FQDN() }

// KDSSvcTrigger reports whether kdssvc has its network-on start trigger.
func (mh *Host) KDSSvcTrigger() bool {
	return mh.h.KDSSvcTrigger()
}

// SPNOwner is the sAMAccountName of the account holding spn on the host's DC ("" when none).
func (mh *Host) SPNOwner(spn string) string {
	var sam string
	_ = mh.h.Exec(func(now time.Time, dc *sim.DC) error {
		if a, ok := dc.Directory().Account(spn); ok {
			sam = a.SAMAccountName
		}
		return nil
	})
	return sam
}

// Version is the installed MIM build.
func (mh *Host) Version() string {
	return sim.LockedValue(mh.m.w, func() string {
		return mh.version
	})
}

// Components lists the installed components in Components order.
func (mh *Host) Components() []Component {
	return sim.LockedValue(mh.m.w, func() []Component {
		var out []Component
		for _, c := range Components() {
			if mh.comps[c] {
				out = append(out, c)
			}
		}
		return out
	})
}

// Has reports whether a component is installed.
func (mh *Host) Has(c Component) bool {
	return sim.LockedValue(mh.m.w, func() bool {
		return mh.comps[c]
	})
}

// Agents are the sync database's management agents.
func (mh *Host) Agents() []ManagementAgent {
	return sim.LockedValue(mh.m.w, func() []ManagementAgent {
		return append([]ManagementAgent(nil), mh.agents...)
	})
}

// PCNS reports whether PCNS targets this sync server.
func (mh *Host) PCNS() bool {
	return sim.LockedValue(mh.m.w, func() bool {
		return mh.pcns
	})
}

// Exchange is the MIM Service's Exchange mode.
func (mh *Host) Exchange() ExchangeMode {
	return sim.LockedValue(mh.m.w, func() ExchangeMode {
		return mh.exchange
	})
}

// Account is a component's logon account ("LocalSystem", "CONTOSO\MIMSyncGMSA$").
func (mh *Host) Account(c Component) (string, error) {
	kind, name, _ := Workload(c)
	if !mh.Has(c) {
		return "", &host.Error{Host: mh.h.Name(), Op: "query " + string(c), Reason: ErrNotInstalled}
	}
	wl, _ := mh.h.Workload(kind, name)
	return wl.Account, nil
}

// State is a component's workload state.
func (mh *Host) State(c Component) (host.ServiceState, error) {
	kind, name, _ := Workload(c)
	if !mh.Has(c) {
		return "", &host.Error{Host: mh.h.Name(), Op: "query " + string(c), Reason: ErrNotInstalled}
	}
	wl, _ := mh.h.Workload(kind, name)
	return wl.State, nil
}

// Warnings are the installer warnings shown on this host, in order.
func (mh *Host) Warnings() []string {
	return sim.LockedValue(mh.m.w, func() []string {
		return append([]string(nil), mh.warnings...)
	})
}

// Events is the host's Application event log (MIM's entries).
func (mh *Host) Events() []string {
	return sim.LockedValue(mh.m.w, func() []string {
		return append([]string(nil), mh.events...)
	})
}

// parseVersion reads "a.b.c.d".
func parseVersion(v string) ([4]int, error) {
	var out [4]int
	parts := strings.Split(v, ".")
	if len(parts) != 4 {
		return out, fmt.Errorf("version %q: want a.b.c.d", v)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, fmt.Errorf("version %q: want a.b.c.d", v)
		}
		out[i] = n
	}
	return out, nil
}

// VersionAtLeast compares two a.b.c.d versions (false when either does not parse).
func VersionAtLeast(v, min string) bool {
	a, err1 := parseVersion(v)
	b, err2 := parseVersion(min)
	if err1 != nil || err2 != nil {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

// Registry reads a value (ok false when absent).
func (mh *Host) Registry(key, name string) (data string, ok bool) {
	mh.m.w.Locked(func() {
		var v regValue
		v, ok = mh.registry[strings.ToLower(key+`\`+name)]
		data = v.data
	})
	return data, ok
}

// SetRegistry writes a REG_SZ value (reg add KEY /v NAME /d DATA /f).
func (mh *Host) SetRegistry(key, name, data string) error {
	return mh.SetRegistryValue(key, name, "REG_SZ", data)
}

// SetRegistryValue writes a value of a kind ("REG_SZ", "REG_DWORD" with decimal data).
func (mh *Host) SetRegistryValue(key, name, kind, data string) error {
	return mh.h.Exec(func(now time.Time, dc *sim.DC) error {
		mh.setRegLocked(key, name, data)
		v := mh.registry[strings.ToLower(key+`\`+name)]
		v.kind = kind
		mh.registry[strings.ToLower(key+`\`+name)] = v
		mh.m.w.Loop().Logf("host %s reg %s\\%s = %s %q", mh.h.Name(), key, name, kind, data)
		return nil
	})
}

// RegistryKind is a value's kind ("REG_SZ", "REG_DWORD"; "" when absent).
func (mh *Host) RegistryKind(key, name string) string {
	return sim.LockedValue(mh.m.w, func() string {
		return mh.registry[strings.ToLower(key+`\`+name)].kind
	})
}

// RegistryValues lists every value as KEY\NAME=DATA, sorted.
func (mh *Host) RegistryValues() []string {
	return sim.LockedValue(mh.m.w, func() []string {
		var out []string
		for _, v := range mh.registry {
			out = append(out, v.key+`\`+v.name+"="+v.data)
		}
		sort.Strings(out)
		return out
	})
}

func (mh *Host) setRegLocked(key, name, data string) {
	k := strings.ToLower(key + `\` + name)
	kind := mh.registry[k].kind
	if kind == "" {
		kind = "REG_SZ"
		if strings.EqualFold(name, "PollExchangeEnabled") {
			kind = "REG_DWORD"
		}
	}
	mh.registry[k] = regValue{key, name, kind, data}
}

// setExchangeLocked writes the two values the installer keeps the encrypted Exchange password in:
// one of them is empty.
func (mh *Host) setExchangeLocked(mode ExchangeMode) {
	mh.exchange = mode
	switch mode {
	case ExchangeOnline:
		mh.setRegLocked(RegMIMServiceKey, "ExchangeOnline", "(encrypted)")
		mh.setRegLocked(RegMIMServiceKey, "ExchangeOnPremise", "")
	case ExchangeOnPremise:
		mh.setRegLocked(RegMIMServiceKey, "ExchangeOnline", "")
		mh.setRegLocked(RegMIMServiceKey, "ExchangeOnPremise", "(encrypted)")
	}
}
