package sim

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Microsoft Identity Manager on member hosts: the Synchronization Service with its encryption key
// set, the MIM Service with its Exchange settings, the PAM services and REST API, the SSPR portals,
// and the components the gMSA conversion leaves alone (the MIM Portal on SharePoint, management
// agents other than the MIM Service MA, Certificate Management, BHOLD). A MIM is a set of MIM
// hosts over one World; each MIMHost is a Host with MIM installed. Every operation runs through
// the world loop.

// MIMComponent is one installable part of MIM.
type MIMComponent string

const (
	CompSync             MIMComponent = "sync"              // Synchronization Service (FIMSynchronizationService)
	CompService          MIMComponent = "service"           // MIM Service (FIMService)
	CompPAMRestAPI       MIMComponent = "pam-rest"          // PAM REST API (IIS application pool)
	CompPAMMonitoring    MIMComponent = "pam-monitoring"    // PamMonitoringService
	CompPAMComponent     MIMComponent = "pam-component"     // PrivilegeManagementComponentService
	CompSSPRRegistration MIMComponent = "sspr-registration" // Password Registration portal (app pool)
	CompSSPRReset        MIMComponent = "sspr-reset"        // Password Reset portal (app pool)
	CompPortal           MIMComponent = "portal"            // MIM Portal on SharePoint: not supported
	CompCertManagement   MIMComponent = "cm"                // Certificate Management: not supported
	CompBHOLD            MIMComponent = "bhold"             // BHOLD: not supported
)

// MIMComponents lists every component in a stable order.
var MIMComponents = []MIMComponent{CompSync, CompService, CompPAMRestAPI, CompPAMMonitoring, CompPAMComponent,
	CompSSPRRegistration, CompSSPRReset, CompPortal, CompCertManagement, CompBHOLD}

// MIMWorkload is the service or application pool a component runs as.
// Divergence: the IIS application pool names of the PAM REST API and the SSPR portals are the
// simulator's; installations may name them differently.
func MIMWorkload(c MIMComponent) (WorkloadKind, string, bool) {
	switch c {
	case CompSync:
		return KindService, "FIMSynchronizationService", true
	case CompService:
		return KindService, "FIMService", true
	case CompPAMRestAPI:
		return KindAppPool, "MIMPAMRestApi", true
	case CompPAMMonitoring:
		return KindService, "PamMonitoringService", true
	case CompPAMComponent:
		return KindService, "PrivilegeManagementComponentService", true
	case CompSSPRRegistration:
		return KindAppPool, "MIMPasswordRegistration", true
	case CompSSPRReset:
		return KindAppPool, "MIMPasswordReset", true
	case CompPortal:
		return KindAppPool, "SharePoint - 80", true
	case CompCertManagement:
		return KindService, "CLMService", true
	case CompBHOLD:
		return KindAppPool, "BHOLD", true
	}
	return "", "", false
}

// MIMSupported reports whether the seed lists the component as convertible to a gMSA.
func MIMSupported(c MIMComponent) bool {
	switch c {
	case CompPortal, CompCertManagement, CompBHOLD:
		return false
	}
	_, _, ok := MIMWorkload(c)
	return ok
}

// MIMComponentByWorkload finds the component of a service or application pool name.
func MIMComponentByWorkload(name string) (MIMComponent, bool) {
	for _, c := range MIMComponents {
		if _, n, _ := MIMWorkload(c); strings.EqualFold(n, name) {
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

// MIMServiceMA is the management agent type the conversion supports.
const MIMServiceMA = "FIM"

// Errors of the MIM installers and tools (wrapped in *HostError).
var (
	ErrMIMNotInstalled = errors.New("the MIM component is not installed on this host")
	ErrMIMVersion      = errors.New("this MIM build does not accept a group managed service account (install 4.5.26.0 or later)")
	ErrMIMNoDollar     = errors.New("the account is a group managed service account named without its trailing $: enter it with the $")
	ErrMIMGMSAPassword = errors.New("a group managed service account takes no password: leave the password box empty")
	ErrMIMCredentials  = errors.New("the user name or password is incorrect")
	ErrMIMKeySet       = errors.New("the Synchronization Service cannot load its encryption key set: restore the key set exported from this database")
	ErrMIMNoKeyFile    = errors.New("the key set file does not exist")
	ErrMIMWrongAccount = errors.New("the account is not the Synchronization Service's account")
	ErrMIMMailPassword = errors.New("the MIM Service with a managed account needs the Service Email Account Password")
)

// MIMHostSpec is a member host with MIM installed.
type MIMHostSpec struct {
	Host       HostSpec
	Version    string                  // "4.5.26.0"; "" means MinGMSAVersion
	Components []MIMComponent          // installed components
	Accounts   map[MIMComponent]string // logon account per component, "CONTOSO\svc-mimsync"; "" LocalSystem
	Passwords  map[MIMComponent]string // their passwords
	Agents     []ManagementAgent       // sync: the management agents
	PCNS       bool                    // sync: Password Change Notification Service targets this server
	Exchange   ExchangeMode            // service: how the MIM Service reaches Exchange
}

// MIM is the MIM deployment of a world: its MIM hosts.
type MIM struct {
	w     *World
	hosts map[string]*MIMHost
	order []*MIMHost
	known map[string]string // every domain account password MIM was configured with, by account
}

// NewMIM starts an empty MIM deployment over w.
func NewMIM(w *World) *MIM {
	return &MIM{w: w, hosts: map[string]*MIMHost{}, known: map[string]string{}}
}

// World is the world the deployment lives in.
func (m *MIM) World() *World { return m.w }

// Host returns the MIM host called name (case-insensitive), or nil.
func (m *MIM) Host(name string) *MIMHost {
	m.w.mu.Lock()
	defer m.w.mu.Unlock()
	return m.hosts[strings.ToUpper(name)]
}

// Hosts returns the MIM hosts in the order they were added.
func (m *MIM) Hosts() []*MIMHost {
	m.w.mu.Lock()
	defer m.w.mu.Unlock()
	return append([]*MIMHost(nil), m.order...)
}

// KnownPasswords are the passwords of the domain accounts MIM components were configured with
// (at installation or in change mode), by the account as configured (CONTOSO\svc-mimsync): what
// the operator knows and types, also after the services moved to gMSAs (for rollback).
func (m *MIM) KnownPasswords() map[string]string {
	m.w.mu.Lock()
	defer m.w.mu.Unlock()
	out := map[string]string{}
	for k, v := range m.known {
		out[k] = v
	}
	return out
}

// MIMHost is a member host with MIM installed.
type MIMHost struct {
	m        *MIM
	h        *Host
	version  string
	comps    map[MIMComponent]bool
	agents   []ManagementAgent
	pcns     bool
	exchange ExchangeMode
	registry map[string]regValue // by lower-case key\value
	files    map[string][]byte   // by lower-case path
	keyDB    string              // the key set the sync database is encrypted with
	keyRun   string              // the key set the sync service has loaded ("" none)
	syncAuto StartType           // the sync service's configured start type
	events   []string            // Application event log
	warnings []string            // installer warnings shown
	writes   map[string]int      // how many times each file was written
}

type regValue struct{ key, name, kind, data string }

// AddHost joins a host (World.AddHost) and installs MIM on it: each component's service or
// application pool (automatic start) under its account, started; a sync database encrypted with a
// fresh key set (stream "mim/<NAME>"); the MIM Service's Exchange registry values.
func (m *MIM) AddHost(spec MIMHostSpec) (*MIMHost, error) {
	if spec.Version == "" {
		spec.Version = MinGMSAVersion
	}
	if _, err := parseVersion(spec.Version); err != nil {
		return nil, &ConfigError{"MIMHostSpec.Version", spec.Version, "want a.b.c.d"}
	}
	h, err := m.w.AddHost(spec.Host)
	if err != nil {
		return nil, err
	}
	mh := &MIMHost{m: m, h: h, version: spec.Version, comps: map[MIMComponent]bool{}, pcns: spec.PCNS,
		exchange: spec.Exchange, registry: map[string]regValue{}, files: map[string][]byte{},
		agents: append([]ManagementAgent(nil), spec.Agents...), syncAuto: StartAuto, writes: map[string]int{}}
	for _, c := range spec.Components {
		kind, name, ok := MIMWorkload(c)
		if !ok {
			return nil, &ConfigError{"MIMHostSpec.Components", c, fmt.Sprintf("want one of %v", MIMComponents)}
		}
		if err := h.AddWorkload(kind, name, StartAuto); err != nil {
			return nil, err
		}
		if acct := spec.Accounts[c]; acct != "" {
			if err := h.SetAccount(kind, name, acct, spec.Passwords[c]); err != nil {
				return nil, err
			}
			if pw := spec.Passwords[c]; pw != "" {
				m.w.mu.Lock()
				m.known[acct] = pw
				m.w.mu.Unlock()
			}
		}
		mh.comps[c] = true
	}
	err = h.exec(func(now time.Time, dc *DC) error {
		if mh.comps[CompSync] {
			mh.keyDB = fmt.Sprintf("%016x", m.w.streams.Get("mim/"+strings.ToUpper(h.name)).Uint64())
			mh.keyRun = mh.keyDB
		}
		if mh.comps[CompService] {
			mh.setExchangeLocked(spec.Exchange)
			mh.setRegLocked(RegFIMServiceKey, "PollExchangeEnabled", "0")
		}
		for _, c := range MIMComponents {
			if mh.comps[c] {
				kind, name, _ := MIMWorkload(c)
				h.startLocked(now, dc, h.work[workKey(kind, name)])
			}
		}
		m.hosts[strings.ToUpper(h.name)] = mh
		m.order = append(m.order, mh)
		m.w.trace.Logf(now, "host %s MIM %s installed: %s", h.name, mh.version, strings.Join(mh.componentsLocked(), ","))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return mh, nil
}

func (mh *MIMHost) componentsLocked() []string {
	var out []string
	for _, c := range MIMComponents {
		if mh.comps[c] {
			out = append(out, string(c))
		}
	}
	return out
}

// Host is the member host MIM runs on.
func (mh *MIMHost) Host() *Host { return mh.h }

// Name is the host's name.
func (mh *MIMHost) Name() string { return mh.h.name }

// DNSDomain is the domain's DNS name, "contoso.com".
func (mh *MIMHost) DNSDomain() string { return mh.m.w.cfg.Domain }

// FQDN is the host's DNS name, "mimsync.contoso.com".
func (mh *MIMHost) FQDN() string { return mh.h.fqdn }

// KDSSvcTrigger reports whether kdssvc has its network-on start trigger.
func (mh *MIMHost) KDSSvcTrigger() bool {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	return mh.h.trigger
}

// SPNOwner is the sAMAccountName of the account holding spn on the host's DC ("" when none).
func (mh *MIMHost) SPNOwner(spn string) string {
	var sam string
	_ = mh.h.exec(func(now time.Time, dc *DC) error {
		if a, ok := dc.dir.Account(spn); ok {
			sam = a.SAMAccountName
		}
		return nil
	})
	return sam
}

// Version is the installed MIM build.
func (mh *MIMHost) Version() string {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	return mh.version
}

// Components lists the installed components in MIMComponents order.
func (mh *MIMHost) Components() []MIMComponent {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	var out []MIMComponent
	for _, c := range MIMComponents {
		if mh.comps[c] {
			out = append(out, c)
		}
	}
	return out
}

// Has reports whether a component is installed.
func (mh *MIMHost) Has(c MIMComponent) bool {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	return mh.comps[c]
}

// Agents are the sync database's management agents.
func (mh *MIMHost) Agents() []ManagementAgent {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	return append([]ManagementAgent(nil), mh.agents...)
}

// PCNS reports whether PCNS targets this sync server.
func (mh *MIMHost) PCNS() bool {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	return mh.pcns
}

// Exchange is the MIM Service's Exchange mode.
func (mh *MIMHost) Exchange() ExchangeMode {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	return mh.exchange
}

// Account is a component's logon account ("LocalSystem", "CONTOSO\MIMSyncGMSA$").
func (mh *MIMHost) Account(c MIMComponent) (string, error) {
	kind, name, _ := MIMWorkload(c)
	if !mh.Has(c) {
		return "", &HostError{Host: mh.h.name, Op: "query " + string(c), Reason: ErrMIMNotInstalled}
	}
	wl, _ := mh.h.Workload(kind, name)
	return wl.Account, nil
}

// State is a component's workload state.
func (mh *MIMHost) State(c MIMComponent) (ServiceState, error) {
	kind, name, _ := MIMWorkload(c)
	if !mh.Has(c) {
		return "", &HostError{Host: mh.h.name, Op: "query " + string(c), Reason: ErrMIMNotInstalled}
	}
	wl, _ := mh.h.Workload(kind, name)
	return wl.State, nil
}

// Warnings are the installer warnings shown on this host, in order.
func (mh *MIMHost) Warnings() []string {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	return append([]string(nil), mh.warnings...)
}

// Events is the host's Application event log (MIM's entries).
func (mh *MIMHost) Events() []string {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	return append([]string(nil), mh.events...)
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
func (mh *MIMHost) Registry(key, name string) (string, bool) {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	v, ok := mh.registry[strings.ToLower(key+`\`+name)]
	return v.data, ok
}

// SetRegistry writes a REG_SZ value (reg add KEY /v NAME /d DATA /f).
func (mh *MIMHost) SetRegistry(key, name, data string) error {
	return mh.SetRegistryValue(key, name, "REG_SZ", data)
}

// SetRegistryValue writes a value of a kind ("REG_SZ", "REG_DWORD" with decimal data).
func (mh *MIMHost) SetRegistryValue(key, name, kind, data string) error {
	return mh.h.exec(func(now time.Time, dc *DC) error {
		mh.setRegLocked(key, name, data)
		v := mh.registry[strings.ToLower(key+`\`+name)]
		v.kind = kind
		mh.registry[strings.ToLower(key+`\`+name)] = v
		mh.m.w.trace.Logf(now, "host %s reg %s\\%s = %s %q", mh.h.name, key, name, kind, data)
		return nil
	})
}

// RegistryKind is a value's kind ("REG_SZ", "REG_DWORD"; "" when absent).
func (mh *MIMHost) RegistryKind(key, name string) string {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	return mh.registry[strings.ToLower(key+`\`+name)].kind
}

// RegistryValues lists every value as KEY\NAME=DATA, sorted.
func (mh *MIMHost) RegistryValues() []string {
	mh.m.w.mu.Lock()
	defer mh.m.w.mu.Unlock()
	var out []string
	for _, v := range mh.registry {
		out = append(out, v.key+`\`+v.name+"="+v.data)
	}
	sort.Strings(out)
	return out
}

func (mh *MIMHost) setRegLocked(key, name, data string) {
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
func (mh *MIMHost) setExchangeLocked(mode ExchangeMode) {
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
