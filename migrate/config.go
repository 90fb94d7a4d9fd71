package migrate

import (
	"fmt"
	"strings"
)

// Defaults from Microsoft's procedure.
const (
	DefaultSyncServersGroup    = "MIMSync_Servers"
	DefaultServiceServersGroup = "MIMService_Servers"
	// DefaultKeySetPath is where the Key Management tool exports by default.
	DefaultKeySetPath = `C:\Windows\system32\miiskeys-1.bin`
	// MinMIMVersion is the first MIM build whose installers accept a gMSA (hotfix 4.5.26.0).
	MinMIMVersion = "4.5.26.0"
)

// DefaultSyncGroups are the Synchronization Service security groups the MIM Service account joins
// so that SSPR can reset passwords through the sync engine.
var DefaultSyncGroups = []string{"MIMSyncBrowse", "MIMSyncPasswordSet"}

// defaultNames are the gMSA sAMAccountNames (without '$'), at most 15 characters each.
var defaultNames = map[Component]string{
	CompSync:             "MIMSyncGMSA",
	CompService:          "MIMServiceGMSA",
	CompPAMREST:          "PAMRestGMSA",
	CompPAMMonitoring:    "PAMMonitorGMSA",
	CompPAMComponent:     "PAMCompGMSA",
	CompSSPRRegistration: "SSPRRegGMSA",
	CompSSPRReset:        "SSPRResetGMSA",
}

// AccountSpec is the gMSA one component is converted to.
type AccountSpec struct {
	Name                 string   `json:"name"`                 // sAMAccountName without '$'
	SPNs                 []string `json:"spns,omitempty"`       // servicePrincipalName values
	DelegateTo           []string `json:"delegateTo,omitempty"` // msDS-AllowedToDelegateTo
	TrustedForDelegation bool     `json:"trustedForDelegation,omitempty"`
	// Installer is the account as the operator will type it in the installer's account box
	// (CONTOSO\MIMSyncGMSA$); "" when the engine types it (DOMAIN\Name$). Preflight refuses one
	// without its '$' or naming another account than Name.
	Installer string `json:"installer,omitempty"`
}

// Config is everything the engine needs. Passwords in it are never written to the plan or the
// journal.
type Config struct {
	Domain  string // DNS name, "contoso.com"
	NetBIOS string // "CONTOSO"
	// DC is the domain controller the engine reads and writes.
	DC    Endpoint
	Admin Credentials
	// DCs are the endpoints of other DCs, by DNS name (lower case), for the root-key check on
	// the DCs the hosts use. A DC not listed is reached at its DNS name on DC's port, with DC's
	// TLS settings.
	DCs   map[string]Endpoint
	Hosts []HostAgent
	// Accounts overrides the gMSA of a component (name, SPNs, delegation). Missing components get
	// the default name; the MIM Service gets FIMService/<host> and the sync gMSA
	// PCNSCLNT/<sync host> when PCNS is used, added to whatever is given here.
	Accounts            map[Component]AccountSpec
	SyncServersGroup    string   // "": DefaultSyncServersGroup
	ServiceServersGroup string   // "": DefaultServiceServersGroup
	SyncGroups          []string // nil: DefaultSyncGroups (joined when SSPR is installed)
	// SyncAccount is the CURRENT Synchronization Service account, needed to export the key set.
	SyncAccount KeySetExportRequest
	KeySetPath  string // "": DefaultKeySetPath
	// Exchange overrides what the inventory says of the MIM Service's mail settings; its
	// MailPassword is passed to change mode.
	Exchange *ExchangeOptions
	// PreviousPasswords are the passwords of the accounts the services run under now, by
	// DOMAIN\name, for Rollback.
	PreviousPasswords map[string]string
	// GMSAContainer is the DN the gMSAs are created in; "": CN=Managed Service Accounts,<domain>.
	GMSAContainer string
	// GroupContainer is the DN the groups are created in; "": CN=Users,<domain>.
	GroupContainer string
	// RootKeyRule is the reading of the 10-hour rule the domain's DCs apply ("": RuleIntervalStart).
	RootKeyRule RootKeyRule
	// Mode is how the MIM Service side's services get their gMSAs ("": ModeChange).
	Mode Mode
}

// Mode is how the MIM Service side's services are switched to their gMSAs.
type Mode string

const (
	// ModeChange (the default): the MIM Service MSI's Change run, as seed 000 describes it.
	ModeChange Mode = "change-mode"
	// ModeScript: the document's password-update script ("update the password to your stored
	// accounts without having to run change mode"): each service's or app pool's logon set
	// directly. The Synchronization Service still goes through change mode with its key set, and
	// a MIM Service with a mailbox through the MSI (only the installer re-encrypts the Service
	// Email Account password under the new account).
	ModeScript Mode = "script"
)

// ParseMode reads a mode's name ("" is the default).
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeChange:
		return ModeChange, nil
	case ModeScript:
		return ModeScript, nil
	}
	return "", fmt.Errorf("%w: mode %q: want %s or %s", ErrConfig, s, ModeChange, ModeScript)
}

func (c *Config) normalise() error {
	rule, err := ParseRootKeyRule(string(c.RootKeyRule))
	if err != nil {
		return err
	}
	c.RootKeyRule = rule
	if c.Mode, err = ParseMode(string(c.Mode)); err != nil {
		return err
	}
	if c.Domain == "" || c.NetBIOS == "" {
		return fmt.Errorf("%w: Domain and NetBIOS are required", ErrConfig)
	}
	c.Domain = strings.ToLower(strings.TrimSuffix(c.Domain, "."))
	c.NetBIOS = strings.ToUpper(c.NetBIOS)
	if c.DC.Addr == "" {
		return fmt.Errorf("%w: DC.Addr is required (dc1.%s:636)", ErrConfig, c.Domain)
	}
	if c.SyncServersGroup == "" {
		c.SyncServersGroup = DefaultSyncServersGroup
	}
	if c.ServiceServersGroup == "" {
		c.ServiceServersGroup = DefaultServiceServersGroup
	}
	if c.SyncGroups == nil {
		c.SyncGroups = DefaultSyncGroups
	}
	if c.KeySetPath == "" {
		c.KeySetPath = DefaultKeySetPath
	}
	seen := map[string]bool{}
	for _, h := range c.Hosts {
		n := strings.ToLower(h.Host())
		if n == "" || seen[n] {
			return fmt.Errorf("%w: host %q is empty or listed twice", ErrConfig, h.Host())
		}
		seen[n] = true
	}
	for comp, a := range c.Accounts {
		if !comp.Convertible() {
			return fmt.Errorf("%w: Accounts[%s]: component cannot run under a gMSA", ErrConfig, comp)
		}
		if err := checkGMSAName(strings.TrimSuffix(a.Name, "$")); a.Name != "" && err != nil {
			return fmt.Errorf("%w: Accounts[%s]: %v", ErrConfig, comp, err)
		}
	}
	return nil
}

// checkGMSAName enforces New-ADServiceAccount's name rules: 1-15 characters, no '$' inside, none
// of the characters a sAMAccountName refuses.
func checkGMSAName(n string) error {
	if n == "" || len(n) > 15 {
		return fmt.Errorf("gMSA name %q: want 1-15 characters (the '$' is added)", n)
	}
	if strings.ContainsAny(n, `"/\[]:;|=,+*?<>@$ `) {
		return fmt.Errorf("gMSA name %q: contains a character a sAMAccountName refuses", n)
	}
	return nil
}

// accountFor is the gMSA for comp: the configured name (without '$') or the default.
func (c *Config) accountFor(comp Component) AccountSpec {
	a := c.Accounts[comp]
	a.Name = strings.TrimSuffix(a.Name, "$")
	if a.Name == "" {
		a.Name = defaultNames[comp]
	}
	a.SPNs = append([]string(nil), a.SPNs...)
	a.DelegateTo = append([]string(nil), a.DelegateTo...)
	return a
}

// qualified is DOMAIN\name$, what change mode and the service control manager show.
func (c *Config) qualified(name string) string {
	return c.NetBIOS + `\` + strings.TrimSuffix(name, "$") + "$"
}

func (c *Config) gmsaContainer(domainDN string) string {
	if c.GMSAContainer != "" {
		return c.GMSAContainer
	}
	return "CN=Managed Service Accounts," + domainDN
}

func (c *Config) groupContainer(domainDN string) string {
	if c.GroupContainer != "" {
		return c.GroupContainer
	}
	return "CN=Users," + domainDN
}

func appendUnique(vals []string, v string) []string {
	if hasString(vals, v) {
		return vals
	}
	return append(vals, v)
}
