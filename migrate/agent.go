package migrate

import (
	"context"
	"errors"
	"fmt"
)

// HostAgent is everything the engine does on one Windows host running MIM
// components. The engine never touches a host any other way.
//
// The interface is shaped so that a production implementation over WinRM /
// PowerShell remoting can exist (Invoke-Command against the host, the MIM MSIs
// run with msiexec in change mode, miiskmu.exe for the key set, sc.exe, the
// registry provider, the ActiveDirectory module's Test-/Install-ADServiceAccount).
// That implementation is out of scope here; the simulator implements HostAgent
// for its simulated MIM hosts. Each method's doc names its Windows equivalent.
//
// Contract for implementations:
//   - Methods are safe to call more than once (the engine resumes after a crash
//     and may repeat a read or a stop/start of an already stopped/started service).
//   - Errors are *AgentError (errors.As) carrying one of the Err* sentinels below
//     (errors.Is), so the engine can tell "not there" from "refused" from "broken".
//   - ExportKeySet never overwrites an existing file and no method ever deletes a
//     key-set export: the export is the only copy of the sync database's keys.
//   - Names of services are the Windows service name (FIMService) or, for the
//     components that run as IIS application pools (PAM REST API, SSPR portals),
//     the application pool name; ServiceKind tells which.
type HostAgent interface {
	// Host is the host's DNS name (mimsync.contoso.com). Pure; no I/O.
	Host() string

	// OSInfo reports the OS facts preflight needs.
	// Windows: Get-CimInstance Win32_OperatingSystem (Version, BuildNumber,
	// OSArchitecture), Get-Cluster / the ClusSvc service, nltest /dsgetdc for the
	// DC the host currently uses.
	OSInfo(ctx context.Context) (OSInfo, error)

	// Components lists the installed MIM components with their versions,
	// service/app-pool names and logon accounts (inventory).
	// Windows: the uninstall registry keys (HKLM\SOFTWARE\Microsoft\Windows\
	// CurrentVersion\Uninstall) / Get-Package for the MIM products and their
	// versions, Get-CimInstance Win32_Service for StartName, Get-IISAppPool for
	// processModel.userName, the Synchronization Service's management agents
	// (Get-CimInstance -Namespace root\MicrosoftIdentityIntegrationServer
	// MIIS_ManagementAgent), and PCNS (the PCNS service on the DCs / the
	// PCNSCLNT SPN configured in the sync server).
	Components(ctx context.Context) (Inventory, error)

	// QueryService returns a service's (or app pool's) state, start type and
	// logon account. ErrNotFound when there is no such service.
	// Windows: Get-CimInstance Win32_Service -Filter "Name='FIMService'"
	// (State, StartMode, StartName); Get-IISAppPool for app pools.
	QueryService(ctx context.Context, name string) (ServiceStatus, error)

	// StopService stops a service (or app pool) and waits until it is stopped.
	// Stopping a stopped service succeeds.
	// Windows: Stop-Service -Name NAME; Stop-WebAppPool -Name NAME.
	StopService(ctx context.Context, name string) error

	// StartService starts a service (or app pool) and waits until it runs or
	// fails. Starting a running service succeeds. A service that cannot log on
	// (gMSA password not retrievable, key set not restored) returns
	// ErrServiceFailed with the reason.
	// Windows: Start-Service -Name NAME; Start-WebAppPool -Name NAME.
	StartService(ctx context.Context, name string) error

	// ChangeMode runs a MIM installer in change (Configure) mode with new
	// service accounts: one component's, or (req.More) every page of one run. For a gMSA the account ends in '$'
	// and the password is empty. It returns the installer's warnings (for
	// managed accounts: "Please check if Service Account is secure in its current
	// configuration", since LogonUser does not work for them).
	// Windows: msiexec /i "<MIM product>.msi" with the product's change-mode
	// properties (SERVICE_ACCOUNT_NAME, SERVICE_ACCOUNT_PASSWORD,
	// SERVICE_ACCOUNT_DOMAIN, the Exchange / mailbox properties, ...) /qn, and the
	// installer log read back for warnings. ErrRejected when the installer
	// refuses the input (a gMSA without '$', a password given with a gMSA).
	ChangeMode(ctx context.Context, req ChangeModeRequest) (ChangeModeResult, error)

	// SetServiceAccount sets a service's (or app pool's) logon account without
	// the installer, the document's password-update script ("update the
	// password to your stored accounts without having to run change mode"),
	// and leaves it stopped. For a gMSA the account ends in '$' and the
	// password is empty. Never used for the Synchronization Service, whose
	// encryption keys are bound to its account (ErrRejected).
	// Windows: Stop-Service NAME; (Get-CimInstance Win32_Service -Filter
	// "Name='NAME'") | Invoke-CimMethod -MethodName Change -Arguments
	// @{StartName='DOMAIN\gmsa$'; StartPassword=''} / for an app pool
	// Set-ItemProperty IIS:\AppPools\NAME -Name processModel -Value
	// @{userName='DOMAIN\gmsa$'; password=''; identityType=3}.
	SetServiceAccount(ctx context.Context, name, account, password string) error

	// ExportKeySet exports the Synchronization Service encryption key set to
	// req.Path. It needs the CURRENT sync service account's name, password and
	// domain. It never overwrites: ErrExists when req.Path already exists.
	// Windows: miiskmu.exe /e <path> /u:<domain>\<account> <password>.
	ExportKeySet(ctx context.Context, req KeySetExportRequest) (KeySetInfo, error)

	// VerifyKeySet checks that the export at path exists, is readable and holds
	// the key set the sync database on this host needs. ErrNotFound when there is
	// no file, ErrInvalid when it does not match the database.
	// Windows: Test-Path + Get-FileHash of the export, and the Synchronization
	// Service Key Management tool's key-set id compared with the database's
	// (mms_server_configuration).
	VerifyKeySet(ctx context.Context, path string) (KeySetInfo, error)

	// RestoreKeySet restores the key set from the export at path into the sync
	// service (after change mode, before the service is started). It neither
	// moves nor deletes the file.
	// Windows: miiskmu.exe /i <path> {0E3F1AFC-...} (the key set's id) /q, or the
	// restore page of the change-mode installer.
	RestoreKeySet(ctx context.Context, path string) error

	// ReadRegistry reads one value; ErrNotFound when the key or value is absent.
	// Windows: Get-ItemProperty -Path HKLM:\... -Name VALUE.
	ReadRegistry(ctx context.Context, key, value string) (RegistryValue, error)

	// WriteRegistry writes one value, creating the key if needed.
	// Windows: Set-ItemProperty / New-ItemProperty -PropertyType DWord|String.
	WriteRegistry(ctx context.Context, key, value string, v RegistryValue) error

	// KDSSvcTrigger reports whether the Microsoft Key Distribution Service
	// (kdssvc) has the network-on start trigger.
	// Windows: sc.exe qtriggerinfo kdssvc.
	KDSSvcTrigger(ctx context.Context) (bool, error)

	// SetKDSSvcTrigger adds the network-on start trigger to kdssvc, the
	// workaround for 2012 R2 hosts whose gMSA services hang after a reboot.
	// Windows: sc.exe triggerinfo kdssvc start/networkon.
	SetKDSSvcTrigger(ctx context.Context) error

	// TestServiceAccount reports whether this host can use the gMSA (it is an
	// allowed principal and a password can be retrieved). name is the
	// sAMAccountName without '$' or with it; both are accepted.
	// Windows: Test-ADServiceAccount -Identity NAME.
	TestServiceAccount(ctx context.Context, name string) (bool, error)

	// PurgeMachineTickets drops the computer account's Kerberos tickets so that
	// a group membership added in the directory (MIMSync_Servers) takes effect
	// without a reboot: the host's group SIDs come from its ticket.
	// Windows: klist.exe -li 0x3e7 purge.
	PurgeMachineTickets(ctx context.Context) error

	// InstallServiceAccount installs the gMSA on this host.
	// Windows: Install-ADServiceAccount -Identity NAME.
	InstallServiceAccount(ctx context.Context, name string) error

	// VerifyKerberos gets a service ticket for spn and has the service on this
	// host accept it (the ticket decrypts with the key of the account the
	// service runs under). Returns the account whose key decrypted it.
	// Windows: klist get SPN, then an authenticated request to the service
	// (Invoke-WebRequest -UseDefaultCredentials for HTTP/, a bind for others);
	// failure shows as KRB_AP_ERR_MODIFIED in the System log.
	VerifyKerberos(ctx context.Context, spn string) (string, error)
}

// Component is a MIM component kind. The values are stable: they appear in the
// plan JSON and the journal.
type Component string

// MIM components. The first seven are convertible to a gMSA; the rest are
// reported and left alone (seed: "Unsupported services").
const (
	CompSync             Component = "sync"              // FIMSynchronizationService
	CompService          Component = "service"           // FIMService
	CompPAMREST          Component = "pam-rest"          // PAM REST API (IIS app pool)
	CompPAMMonitoring    Component = "pam-monitoring"    // PamMonitoringService
	CompPAMComponent     Component = "pam-component"     // PrivilegeManagementComponentService
	CompSSPRRegistration Component = "sspr-registration" // Password Registration portal (app pool)
	CompSSPRReset        Component = "sspr-reset"        // Password Reset portal (app pool)
	CompPortal           Component = "portal"            // MIM Portal on SharePoint: unsupported
	CompCertManagement   Component = "cm"                // Certificate Management: unsupported
	CompBHOLD            Component = "bhold"             // BHOLD: unsupported
)

// Convertible reports whether the seed lists c among the supported services.
func (c Component) Convertible() bool {
	switch c {
	case CompSync, CompService, CompPAMREST, CompPAMMonitoring, CompPAMComponent,
		CompSSPRRegistration, CompSSPRReset:
		return true
	}
	return false
}

// ServiceKind says whether a component runs as a Windows service or an IIS
// application pool.
type ServiceKind string

// Service kinds.
const (
	KindService ServiceKind = "service"
	KindAppPool ServiceKind = "apppool"
)

// ServiceState is a service's (or app pool's) run state.
type ServiceState string

// Service states.
const (
	StateRunning ServiceState = "Running"
	StateStopped ServiceState = "Stopped"
	StateFailed  ServiceState = "Failed" // could not start (logon failure, missing keys)
)

// ServiceStatus is what QueryService returns.
type ServiceStatus struct {
	Name      string       `json:"name"`
	Kind      ServiceKind  `json:"kind"`
	State     ServiceState `json:"state"`
	StartType string       `json:"startType"` // Automatic, Manual, Disabled
	Account   string       `json:"account"`   // logon account, DOMAIN\name or DOMAIN\name$
}

// OSInfo is what OSInfo returns.
type OSInfo struct {
	Version   string `json:"version"` // NT version: "6.2" = 2012, "6.3" = 2012 R2, "10.0" = 2016+
	Build     int    `json:"build"`   // 9200, 9600, 14393, 17763, 20348, ...
	Caption   string `json:"caption"` // "Windows Server 2012 R2 Standard"
	Is64Bit   bool   `json:"is64Bit"`
	Clustered bool   `json:"clustered"`
	DC        string `json:"dc"` // DNS name of the DC the host currently uses (nltest /dsgetdc)
}

// Inventory is what Components returns for one host.
type Inventory struct {
	Components []InstalledComponent `json:"components"`
	// ManagementAgents are the Synchronization Service's MAs (sync hosts only).
	ManagementAgents []ManagementAgent `json:"managementAgents,omitempty"`
	// PCNS is true when Password Change Notification Service targets this sync
	// server (it then needs the PCNSCLNT/<host> SPN on the sync gMSA).
	PCNS bool `json:"pcns,omitempty"`
	// Exchange is the MIM Service's mail configuration (service hosts only).
	Exchange *ExchangeOptions `json:"exchange,omitempty"`
}

// InstalledComponent is one MIM component on a host.
type InstalledComponent struct {
	Component Component   `json:"component"`
	Version   string      `json:"version"` // product version, "4.5.26.0"
	Service   string      `json:"service"` // service or app pool name
	Kind      ServiceKind `json:"kind"`
	Account   string      `json:"account"` // current logon account, DOMAIN\name
}

// ManagementAgent is one Synchronization Service management agent. Only the
// MIM Service MA (Type "FIM") is supported with a gMSA.
type ManagementAgent struct {
	Name string `json:"name"`
	Type string `json:"type"` // "FIM" (MIM Service MA), "AD", "SQL", ...
	// Account is the MA's connect-as account (DOMAIN\name), stored with its password in the sync
	// database; "" when the agent cannot tell.
	Account string `json:"account,omitempty"`
}

// ExchangeOptions are the MIM Service installer's mail-server choices in change
// mode ("Use different user for Exchange (for managed accounts)").
type ExchangeOptions struct {
	Online      bool   `json:"online"`                // Exchange Online (else on-premises)
	MailAccount string `json:"mailAccount,omitempty"` // the mailbox account
	// MailPassword is the Service Email Account password; never printed or
	// journaled (the journal stores "<redacted>").
	MailPassword string `json:"-"`
}

// ChangeModeRequest is the input of one change-mode run: its first (or only) account page, and
// the further pages of the same run.
type ChangeModeRequest struct {
	Component Component `json:"component"`
	Account   string    `json:"account"` // DOMAIN\name$ for a gMSA
	// Password is empty for a gMSA (the installer rejects one).
	Password string           `json:"-"`
	Exchange *ExchangeOptions `json:"exchange,omitempty"` // CompService only
	// More are the run's further account pages, in the installer's page order. The MIM Service
	// MSI's one Change run shows a page per feature installed on the host (seed 000: MIM Service,
	// PAM REST API, PAM Component, PAM Monitoring, SSPR registration portal, SSPR reset portal).
	// A refused page fails the whole run, which then changes nothing (the MSI rolls back).
	More []ChangeModePage `json:"more,omitempty"`
}

// ChangeModePage is one account page of a change-mode run.
type ChangeModePage struct {
	Component Component `json:"component"`
	Account   string    `json:"account"`
	Password  string    `json:"-"`
}

// Pages is every account page of the run, the first one included.
func (r ChangeModeRequest) Pages() []ChangeModePage {
	return append([]ChangeModePage{{Component: r.Component, Account: r.Account, Password: r.Password}}, r.More...)
}

// ChangeModeResult is what the installer reported.
type ChangeModeResult struct {
	Account  string   `json:"account"`  // the account the component now runs under
	Warnings []string `json:"warnings"` // e.g. the LogonUser warning
}

// KeySetExportRequest is the input of ExportKeySet: the current sync service
// account's credentials and the destination file.
type KeySetExportRequest struct {
	Path     string `json:"path"`
	Account  string `json:"account"` // the sync service account name, without domain
	Password string `json:"-"`
	Domain   string `json:"domain"` // NetBIOS domain name
}

// KeySetInfo describes a key-set export file.
type KeySetInfo struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex digest of the file
	KeyID  string `json:"keyId"`  // the key set's id as the Key Management tool shows it
}

// RegistryKind is a registry value type.
type RegistryKind string

// Registry value types.
const (
	RegDWord  RegistryKind = "REG_DWORD"
	RegString RegistryKind = "REG_SZ"
)

// RegistryValue is one registry value.
type RegistryValue struct {
	Kind   RegistryKind `json:"kind"`
	DWord  uint32       `json:"dword,omitempty"`
	String string       `json:"string,omitempty"`
}

// Registry locations the engine reads and writes (seed, MIM Service section).
const (
	RegKeyFIMService       = `HKLM\SYSTEM\CurrentControlSet\Services\FIMService`
	RegValPollExchange     = "PollExchangeEnabled"
	RegKeyFIMServiceConfig = `HKLM\SOFTWARE\Microsoft\Forefront Identity Manager\2010\Service`
	RegValExchangeOnline   = "ExchangeOnline"
	RegValExchangeOnPrem   = "ExchangeOnPremise"
)

// Sentinel conditions an AgentError carries (errors.Is).
var (
	ErrNotFound      = errors.New("not found")               // service, file, registry value, account
	ErrExists        = errors.New("already exists")          // export path taken: never overwritten
	ErrRejected      = errors.New("rejected by installer")   // change mode refused the input
	ErrInvalid       = errors.New("invalid")                 // key set does not match, bad input
	ErrAccessDenied  = errors.New("access denied")           // credentials or rights
	ErrServiceFailed = errors.New("service failed")          // could not start / stop
	ErrUnreachable   = errors.New("host unreachable")        // transport (WinRM) failure
	ErrNotInstalled  = errors.New("component not installed") // change mode for a missing component
)

// AgentError is the error every HostAgent method returns.
type AgentError struct {
	Host string // host DNS name
	Op   string // method name: "ChangeMode", "ExportKeySet", ...
	Item string // what it acted on: service name, path, registry value, account
	Kind error  // one of the Err* sentinels
	Msg  string // the host's own message (installer text, miiskmu output)
}

func (e *AgentError) Error() string {
	s := fmt.Sprintf("%s on %s", e.Op, e.Host)
	if e.Item != "" {
		s += " (" + e.Item + ")"
	}
	s += ": " + e.Kind.Error()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// Is matches the sentinel kind.
func (e *AgentError) Is(target error) bool { return target == e.Kind }

// Unwrap returns the sentinel kind.
func (e *AgentError) Unwrap() error { return e.Kind }
