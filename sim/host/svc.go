package host

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/sim"
)

// What runs on a host under an account: Windows services (the service control manager), IIS
// application pools and scheduled tasks. Configured with a gMSA they name it CONTOSO\name$ with
// an empty password; they start only if the host can get the gMSA's current password.

// clusterService is the failover Cluster service a cluster node runs (as LocalSystem, started at
// boot).
const clusterService = "ClusSvc"

// WorkloadKind is what a workload is.
type WorkloadKind string

const (
	KindService WorkloadKind = "service"
	KindAppPool WorkloadKind = "apppool"
	KindTask    WorkloadKind = "task"
)

// ServiceState is a workload's state as Get-Service shows it.
type ServiceState string

const (
	StateStopped      ServiceState = "Stopped"
	StateStartPending ServiceState = "StartPending" // the 2012 R2 kdssvc hang
	StateRunning      ServiceState = "Running"
)

// StartType is a service's start type.
type StartType string

const (
	StartAuto     StartType = "Automatic"
	StartManual   StartType = "Manual"
	StartDisabled StartType = "Disabled"
)

// Workload is a service, application pool or scheduled task on a host.
type Workload struct {
	Kind      WorkloadKind
	Name      string
	Account   string // "LocalSystem", "CONTOSO\ITFarm1$", "CONTOSO\svc"
	password  string
	StartType StartType
	State     ServiceState
	// LastError says why the last start failed or hangs (nil when running or never started).
	LastError error
	gmsa      string // sAMAccountName of the gMSA it runs as, "" otherwise
}

// Password is the password the workload's logon account was configured with ("" for a gMSA).
func (wl *Workload) Password() string { return wl.password }

// GMSA is the sAMAccountName of the gMSA the workload runs as, "" when it runs as another account.
func (wl *Workload) GMSA() string { return wl.gmsa }

// SetLogon sets the workload's logon account, its password and the gMSA it names ("" when it is
// none) as an installer does after checking the account itself. Inside the loop (Host.Exec).
func (wl *Workload) SetLogon(account, password, gmsa string) {
	wl.Account, wl.password, wl.gmsa = account, password, gmsa
}

func workKey(k WorkloadKind, name string) string { return string(k) + "/" + strings.ToLower(name) }

// AddWorkload installs a service (`sc.exe create`, New-Service), an application pool or a scheduled
// task running as LocalSystem. Services and application pools start at boot when startType is
// StartAuto.
func (h *Host) AddWorkload(kind WorkloadKind, name string, startType StartType) error {
	if startType == "" {
		startType = StartManual
	}
	return h.Exec(func(now time.Time, dc *sim.DC) error {
		k := workKey(kind, name)
		if h.work[k] != nil {
			return &Error{Host: h.name, Op: "create " + string(kind) + " " + name, Reason: errors.New("it exists already")}
		}
		h.work[k] = &Workload{Kind: kind, Name: name, Account: "LocalSystem", StartType: startType, State: StateStopped}
		h.w.Loop().Logf("host %s %s %s created (%s)", h.name, kind, name, startType)
		return nil
	})
}

// Workload returns a copy of a workload's state.
func (h *Host) Workload(kind WorkloadKind, name string) (Workload, bool) {
	var (
		out Workload
		ok  bool
	)
	h.w.Locked(func() {
		if wl := h.work[workKey(kind, name)]; wl != nil {
			out, ok = *wl, true
		}
	})
	return out, ok
}

// WorkloadLocked is the workload itself, not a copy, for a layer above that changes it inside the
// loop (Host.Exec); nil when there is none.
func (h *Host) WorkloadLocked(kind WorkloadKind, name string) *Workload {
	return h.work[workKey(kind, name)]
}

// ServiceState is the state of a service (ErrUnknownService when there is none).
func (h *Host) ServiceState(name string) (ServiceState, error) {
	wl, ok := h.Workload(KindService, name)
	if !ok {
		return "", &Error{Host: h.name, Op: "query " + name, Reason: ErrUnknownService}
	}
	return wl.State, nil
}

// SetAccount configures the logon account of a workload: `sc.exe config NAME obj= CONTOSO\ITFarm1$
// password= ""`, an application pool's SpecificUser identity, a task's principal. A gMSA is
// named with its trailing $ and an empty password; an account that does not resolve is refused
// with ErrInvalidAccount (sc.exe's 1057).
func (h *Host) SetAccount(kind WorkloadKind, name, account, password string) error {
	return h.Exec(func(now time.Time, dc *sim.DC) error {
		wl := h.work[workKey(kind, name)]
		if wl == nil {
			return &Error{Host: h.name, Op: "config " + name, Reason: ErrUnknownService}
		}
		gmsa, err := h.resolveAccount(now, dc, account, password)
		if dom, svc, ok := strings.Cut(account, "\\"); ok && strings.EqualFold(dom, virtualDomain) {
			err = h.checkVirtual(kind, name, svc, password)
		}
		if err == nil && gmsa != "" && kind == KindService && h.spec.Cluster && strings.EqualFold(name, clusterService) {
			// Seed 001: "Failover clusters do not support gMSAs." Services on top of the Cluster
			// service may use one (eligible); the Cluster service itself may not.
			// Divergence: how Windows refuses it is not documented; the simulator refuses the
			// configuration (sc.exe's ChangeServiceConfig fails) and traces why.
			err = &Error{Host: h.name, Op: "config " + name + " obj= " + account, Reason: ErrClusterNode}
		}
		if err != nil {
			h.w.Loop().Logf("host %s %s %s obj=%s: refused: %v", h.name, kind, name, account, err)
			return err
		}
		wl.Account, wl.password, wl.gmsa = account, password, gmsa
		h.w.Loop().Logf("host %s %s %s runs as %s", h.name, kind, name, account)
		return nil
	})
}

// resolveAccount checks a logon account and returns the gMSA's sAMAccountName if it is one.
func (h *Host) resolveAccount(now time.Time, dc *sim.DC, account, password string) (string, error) {
	switch strings.ToLower(account) {
	case "localsystem", "nt authority\\system", "nt authority\\networkservice", "nt authority\\localservice":
		return "", nil
	}
	if dom, _, ok := strings.Cut(account, "\\"); ok && strings.EqualFold(dom, virtualDomain) {
		return "", nil // a virtual account: local to the host (SetAccount checks it)
	}
	bad := &Error{Host: h.name, Op: "config obj= " + account, Reason: ErrInvalidAccount}
	if !dc.Running() { // the name cannot be looked up
		return "", bad
	}
	d := dc.Directory()
	dom, name, ok := strings.Cut(account, "\\")
	if !ok {
		dom, name = "", account
	}
	if dom != "" && dom != "." && !strings.EqualFold(dom, d.NetBIOSName()) && !strings.EqualFold(dom, d.DNSName()) {
		return "", bad
	}
	a, found := d.Account(name)
	if !found || !strings.EqualFold(a.SAMAccountName, name) {
		return "", bad
	}
	for _, c := range a.Classes {
		// A gMSA or an sMSA (msDS-ManagedServiceAccount): the workload's gmsa field names either.
		if strings.EqualFold(c, "msDS-GroupManagedServiceAccount") || strings.EqualFold(c, "msDS-ManagedServiceAccount") {
			if password != "" {
				return "", bad // a gMSA takes no password
			}
			return a.SAMAccountName, nil
		}
	}
	return "", nil
}

// virtualDomain is the authority of virtual accounts: a service configured as NT SERVICE\<its
// name> runs under a local account Windows makes for it (no password, nothing in the directory).
// Seed 001: "Virtual Account | Local | Limited to one server | Computer manages". On the network
// it is the computer: it authenticates as HOST$ and accepts tickets for the computer's SPNs only
// (Accept: a workload without a gMSA decrypts with the machine keys), so a ticket for a farm's
// SPN registered on a gMSA does not decrypt for it.
const virtualDomain = "NT SERVICE"

// checkVirtual checks a virtual account: it names the service itself and has no password.
// Divergence: when Windows refuses another service's name or a password (at the configuration
// or at the start) is not documented; the simulator refuses the configuration (sc.exe's 1057). Virtual accounts are
// for services: an application pool's (IIS AppPool\NAME) and a task's are not modelled.
func (h *Host) checkVirtual(kind WorkloadKind, name, svc, password string) error {
	if kind != KindService || !strings.EqualFold(svc, name) || password != "" {
		return &Error{Host: h.name, Op: "config obj= " + virtualDomain + "\\" + svc, Reason: ErrInvalidAccount}
	}
	return nil
}

// Start starts a workload (Start-Service, `sc.exe start`, Start-WebAppPool, Start-ScheduledTask).
// Under a gMSA it needs the gMSA's current password: retrieved from the DC now, or cached and
// still current. On 2012 R2 with kdssvc not running it hangs in StartPending. The result is the
// workload's state; a failed start is a *Error with ErrLogonFailure.
func (h *Host) Start(kind WorkloadKind, name string) (ServiceState, error) {
	var st ServiceState
	err := h.Exec(func(now time.Time, dc *sim.DC) error {
		if kind == KindService && strings.EqualFold(name, "kdssvc") {
			h.startKdssvc(now, dc)
			st = StateRunning
			return nil
		}
		wl := h.work[workKey(kind, name)]
		if wl == nil {
			return &Error{Host: h.name, Op: "start " + name, Reason: ErrUnknownService}
		}
		if wl.State == StateRunning {
			st = wl.State
			return nil
		}
		h.StartLocked(now, dc, wl)
		st = wl.State
		if wl.State == StateStopped {
			return wl.LastError
		}
		return nil
	})
	return st, err
}

// StartLocked starts wl, a workload of this host (WorkloadLocked), as Start does. Inside the
// loop (Exec), with the host's DC.
func (h *Host) StartLocked(now time.Time, dc *sim.DC, wl *Workload) {
	wl.LastError = nil
	if wl.gmsa == "" {
		wl.State = StateRunning
		h.w.Loop().Logf("host %s %s %s started", h.name, wl.Kind, wl.Name)
		return
	}
	if !h.kdssvc {
		wl.State = StateStartPending
		wl.LastError = &Error{Host: h.name, Op: "start " + wl.Name, Reason: errors.New("kdssvc is not running (Windows Server 2012 R2 after a restart; `sc triggerinfo kdssvc start/networkon` starts it with the network)")}
		h.w.Loop().Logf("host %s %s %s hangs (Start Pending): kdssvc is not running", h.name, wl.Kind, wl.Name)
		return
	}
	r, err := h.retrieve(now, dc, wl.gmsa)
	switch {
	case err == nil && r.standalone:
		err = h.standaloneUsable(now, dc, r)
	case err == nil:
		_, err = h.store(now, r)
		fallthrough
	default:
		if err != nil {
			if c := h.gmsa[strings.ToLower(wl.gmsa)]; c != nil && now.Before(c.validUntil) {
				err = nil // the cached password is still the current one
			}
		}
	}
	if err == nil {
		err = h.serviceLogonCheck(now, dc, wl.gmsa)
	}
	if err != nil {
		wl.State = StateStopped
		wl.LastError = &Error{Host: h.name, Op: "start " + wl.Name, Reason: ErrLogonFailure, Err: err}
		h.w.Loop().Logf("host %s %s %s failed to start: logon failure: %v", h.name, wl.Kind, wl.Name, err)
		return
	}
	wl.State = StateRunning
	h.w.Loop().Logf("host %s %s %s started as %s", h.name, wl.Kind, wl.Name, wl.Account)
}

// serviceLogonCheck is the Kerberos logon of the service's gMSA when the host's clock is off:
// an AS exchange with the cached current key, stamped at the host's time, which the DC refuses
// beyond 5 minutes (KRB_AP_ERR_SKEW). A host on time skips it.
// Divergence: the simulator does not model the service logon otherwise (a cached current
// password is enough), nor an NTLM fallback.
func (h *Host) serviceLogonCheck(now time.Time, dc *sim.DC, gmsa string) error {
	c := h.gmsa[strings.ToLower(gmsa)]
	if h.skew == 0 || c == nil || len(c.cur) == 0 || !dc.Running() {
		return nil
	}
	k, err := h.w.Loop().KDC(dc)
	if err != nil {
		return err
	}
	_, err = k.LogonAt(now, h.clock(now), c.sam, c.cur[0])
	return skewErr(err)
}

// Stop stops a workload.
func (h *Host) Stop(kind WorkloadKind, name string) error {
	return h.Exec(func(now time.Time, dc *sim.DC) error {
		wl := h.work[workKey(kind, name)]
		if wl == nil {
			return &Error{Host: h.name, Op: "stop " + name, Reason: ErrUnknownService}
		}
		wl.State, wl.LastError = StateStopped, nil
		h.w.Loop().Logf("host %s %s %s stopped", h.name, wl.Kind, wl.Name)
		return nil
	})
}

// inUse reports whether a running or starting workload runs as the gMSA.
func (h *Host) inUse(sam string) bool {
	for _, wl := range h.work {
		if strings.EqualFold(wl.gmsa, sam) && wl.State != StateStopped {
			return true
		}
	}
	return false
}

// startKdssvc starts kdssvc; workloads hanging on it go on starting. Inside the loop.
// Divergence: whether a service stuck in Start Pending recovers when kdssvc is started by hand is
// not documented; the simulator lets it finish starting.
func (h *Host) startKdssvc(now time.Time, dc *sim.DC) {
	if h.kdssvc {
		return
	}
	h.kdssvc = true
	h.w.Loop().Logf("host %s kdssvc started", h.name)
	for _, k := range slices.Sorted(maps.Keys(h.work)) {
		if wl := h.work[k]; wl.State == StateStartPending {
			h.StartLocked(now, dc, wl)
		}
	}
}

// SetKDSSvcTrigger sets or clears kdssvc's network-on start trigger (`sc triggerinfo kdssvc
// start/networkon`; `sc triggerinfo kdssvc delete` clears it). It takes effect at the next boot.
func (h *Host) SetKDSSvcTrigger(on bool) {
	_ = h.Exec(func(now time.Time, dc *sim.DC) error {
		h.trigger = on
		h.w.Loop().Logf("host %s kdssvc trigger start/networkon=%t", h.name, on)
		return nil
	})
}

// KDSSvcTrigger reports whether kdssvc has its network-on start trigger.
func (h *Host) KDSSvcTrigger() bool { return sim.LockedValue(h.w, func() bool { return h.trigger }) }

// KDSSvcRunning reports whether kdssvc runs on the host.
func (h *Host) KDSSvcRunning() bool {
	return sim.LockedValue(h.w, func() bool {
		return h.kdssvc
	})
}

// SC runs an sc.exe command line on the host ("config WebSvc obj= CONTOSO\ITFarm1$ password= \"\"",
// "start WebSvc", "stop WebSvc", "query WebSvc", "create WebSvc binPath= C:\web.exe start= auto",
// "triggerinfo kdssvc start/networkon") and returns what sc.exe prints.
// Divergence: the query and start outputs are abbreviated to SERVICE_NAME and STATE.
func (h *Host) SC(line string) string {
	args := scArgs(line)
	if len(args) > 0 && strings.EqualFold(strings.TrimSuffix(strings.ToLower(args[0]), ".exe"), "sc") {
		args = args[1:]
	}
	if len(args) < 2 {
		return "ERROR:  Invalid Option"
	}
	verb, name := strings.ToLower(args[0]), args[1]
	opts := map[string]string{}
	for i := 2; i+1 < len(args); i += 2 {
		opts[strings.ToLower(args[i])] = args[i+1]
	}
	fail := func(api string, code int, err error) string {
		return fmt.Sprintf("[SC] %s FAILED %d:\n\n%s\n", api, code, scText(err))
	}
	switch verb {
	case "create":
		st := StartManual
		if strings.EqualFold(opts["start="], "auto") {
			st = StartAuto
		}
		if err := h.AddWorkload(KindService, name, st); err != nil {
			return fail("CreateService", 1073, errors.New("The specified service already exists."))
		}
		return "[SC] CreateService SUCCESS"
	case "config":
		if obj, ok := opts["obj="]; ok {
			if err := h.SetAccount(KindService, name, obj, opts["password="]); err != nil {
				if errors.Is(err, ErrUnknownService) {
					return fail("OpenService", 1060, err)
				}
				if errors.Is(err, ErrClusterNode) {
					return fail("ChangeServiceConfig", 50, err)
				}
				return fail("ChangeServiceConfig", 1057, err)
			}
		}
		if s, ok := opts["start="]; ok {
			_ = h.Exec(func(now time.Time, dc *sim.DC) error {
				if wl := h.work[workKey(KindService, name)]; wl != nil {
					wl.StartType = map[string]StartType{"auto": StartAuto, "demand": StartManual, "disabled": StartDisabled}[strings.ToLower(s)]
				}
				return nil
			})
		}
		return "[SC] ChangeServiceConfig SUCCESS"
	case "triggerinfo":
		if !strings.EqualFold(name, "kdssvc") {
			return fail("OpenService", 1060, ErrUnknownService)
		}
		on := len(args) > 2 && strings.EqualFold(args[2], "start/networkon")
		h.SetKDSSvcTrigger(on)
		return "[SC] ChangeServiceConfig2 SUCCESS"
	case "start":
		st, err := h.Start(KindService, name)
		switch {
		case errors.Is(err, ErrUnknownService):
			return fail("OpenService", 1060, err)
		case err != nil:
			return fail("StartService", 1069, err)
		}
		return scQuery(name, st)
	case "stop":
		if err := h.Stop(KindService, name); err != nil {
			return fail("OpenService", 1060, err)
		}
		return scQuery(name, StateStopped)
	case "query":
		st, err := h.ServiceState(name)
		if strings.EqualFold(name, "kdssvc") {
			st, err = StateStopped, nil
			if h.KDSSvcRunning() {
				st = StateRunning
			}
		}
		if err != nil {
			return fail("EnumQueryServicesStatus:OpenService", 1060, err)
		}
		return scQuery(name, st)
	}
	return "ERROR:  Invalid Option"
}

func scQuery(name string, st ServiceState) string {
	code := map[ServiceState]string{StateStopped: "1  STOPPED", StateStartPending: "2  START_PENDING", StateRunning: "4  RUNNING"}[st]
	return fmt.Sprintf("SERVICE_NAME: %s\n        TYPE               : 10  WIN32_OWN_PROCESS\n        STATE              : %s", name, code)
}

// scText is the Windows message of an sc.exe failure.
func scText(err error) string {
	switch {
	case errors.Is(err, ErrUnknownService):
		return "The specified service does not exist as an installed service."
	case errors.Is(err, ErrInvalidAccount):
		return "The account name is invalid or does not exist, or the password is invalid for the account name specified."
	case errors.Is(err, ErrLogonFailure):
		return "The service did not start due to a logon failure."
	case errors.Is(err, ErrClusterNode):
		// Divergence: an undocumented refusal (SetAccount); ERROR_NOT_SUPPORTED's text.
		return "The request is not supported."
	}
	return err.Error()
}

// scArgs splits an sc.exe line on spaces, keeping "quoted" words ("" is an empty word).
func scArgs(line string) []string {
	var out []string
	var cur strings.Builder
	in, have := false, false
	for _, r := range line {
		switch {
		case r == '"':
			in, have = !in, true
		case r == ' ' && !in:
			if have {
				out = append(out, cur.String())
			}
			cur.Reset()
			have = false
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// RemoveWorkload deletes a workload (`sc.exe delete`, `schtasks /Delete`); a running one is
// stopped first.
func (h *Host) RemoveWorkload(kind WorkloadKind, name string) error {
	return h.Exec(func(now time.Time, dc *sim.DC) error {
		k := workKey(kind, name)
		if h.work[k] == nil {
			return &Error{Host: h.name, Op: "delete " + name, Reason: ErrUnknownService}
		}
		delete(h.work, k)
		h.w.Loop().Logf("host %s %s %s deleted", h.name, kind, name)
		return nil
	})
}
