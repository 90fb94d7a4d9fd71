package host

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The service cmdlets as PowerShell prints them, for the scenario language: Start-Service,
// Stop-Service, Get-Service. Install-/Test-/Uninstall-ADServiceAccount are in gmsa.go and sc.exe in
// svc.go.

// StartService is `Start-Service NAME`: "" when the service starts; a warning line when it hangs
// in Start Pending (the 2012 R2 kdssvc issue); a *CmdletError with PowerShell's text when it
// cannot start or does not exist.
// Divergence: PowerShell repeats the waiting warning every few seconds until the service starts;
// the simulator prints it once and leaves the service in StartPending.
func (h *Host) StartService(name string) (string, error) {
	st, err := h.Start(KindService, name)
	switch {
	case errors.Is(err, ErrUnknownService):
		return "", &CmdletError{Cmdlet: "Start-Service", Reason: ErrUnknownService,
			Text: fmt.Sprintf("Start-Service : Cannot find any service with service name '%s'.", name)}
	case err != nil:
		return "", &CmdletError{Cmdlet: "Start-Service", Reason: err, Text: fmt.Sprintf(
			"Start-Service : Service '%s (%s)' cannot be started due to the following error: Cannot start service %s on computer '.'.",
			name, name, name)}
	case st == StateStartPending:
		return fmt.Sprintf("WARNING: Waiting for service '%s (%s)' to start...", name, name), nil
	}
	return "", nil
}

// StopService is `Stop-Service NAME`.
func (h *Host) StopService(name string) error {
	if err := h.Stop(KindService, name); err != nil {
		return &CmdletError{Cmdlet: "Stop-Service", Reason: ErrUnknownService,
			Text: fmt.Sprintf("Stop-Service : Cannot find any service with service name '%s'.", name)}
	}
	return nil
}

// GetService is `Get-Service NAME`: PowerShell's table of Status, Name and DisplayName.
func (h *Host) GetService(name string) (string, error) {
	var st ServiceState
	if strings.EqualFold(name, "kdssvc") {
		st = StateStopped
		if h.KDSSvcRunning() {
			st = StateRunning
		}
		name = "KdsSvc"
	} else {
		wl, ok := h.Workload(KindService, name)
		if !ok {
			return "", &CmdletError{Cmdlet: "Get-Service", Reason: ErrUnknownService,
				Text: fmt.Sprintf("Get-Service : Cannot find any service with service name '%s'.", name)}
		}
		st, name = wl.State, wl.Name
	}
	display := name
	if name == "KdsSvc" {
		display = "Microsoft Key Distribution Service"
	}
	return fmt.Sprintf("%-8s %-18s %s\n%-8s %-18s %s\n%-8s %-18s %s", "Status", "Name", "DisplayName",
		"------", "----", "-----------", st, name, display), nil
}

// adminLogonID is the logon session of the administrator at the host's console.
// Divergence: a fixed value; Windows allocates a new one per logon.
const adminLogonID = "0x6f1c2"

// Klist runs a klist command line: `klist purge` purges the administrator's own session (the
// machine's tickets, and so its group snapshot, stay as they are — the usual trap);
// `klist -li 0x3e7 purge` purges the machine's (SYSTEM's) tickets, and the host logs on again with
// its current groups. Other forms are refused with klist's usage line.
func (h *Host) Klist(line string) (string, error) {
	f := strings.Fields(strings.ToLower(line))
	if len(f) > 0 && strings.TrimSuffix(f[0], ".exe") == "klist" {
		f = f[1:]
	}
	target := adminLogonID
	for len(f) >= 2 && (f[0] == "-li" || f[0] == "-lh") {
		if f[0] == "-li" {
			target = strings.TrimPrefix(f[1], "0:")
		}
		f = f[2:]
	}
	if len(f) != 1 || f[0] != "purge" {
		return "", &CmdletError{Cmdlet: "klist", Reason: errors.New("unsupported klist command"),
			Text: "Usage: klist [-lh <LogonId.HighPart>] [-li <LogonId.LowPart>] tickets | tgt | purge | sessions | kcd_cache | get | add_bind | query_bind | purge_bind"}
	}
	out := "\nCurrent LogonId is 0:" + adminLogonID + "\n"
	if target != adminLogonID {
		out += "Targeted LogonId is 0:" + target + "\n"
	}
	out += "\tDeleting all tickets:\n\tTicket(s) purged!"
	if target == "0x3e7" || target == "999" {
		if err := h.PurgeTickets(); err != nil {
			var he *Error
			if !errors.As(err, &he) {
				return "", err
			}
		}
	}
	return out, nil
}

// Nltest runs `nltest /sc_reset:DOMAIN\DC`: the host's secure channel — and in the simulator
// every LDAP and Kerberos exchange of the host — moves to DC, and the machine logs on there
// afresh. It prints what nltest prints. Other forms, a DC that does not exist or is stopped, and a
// domain that is not the host's are refused as nltest refuses them.
// Divergence: Windows resets only the Netlogon secure channel and keeps the machine's tickets
// (any DC of the domain accepts them); the simulator's host talks to one DC for everything
// (DC), so the reset moves all of it and the machine logs on again (a fresh group snapshot).
// The Flags line is fixed.
func (h *Host) Nltest(line string) (string, error) {
	f := strings.Fields(line)
	if len(f) > 0 && strings.EqualFold(strings.TrimSuffix(strings.ToLower(f[0]), ".exe"), "nltest") {
		f = f[1:]
	}
	const noServers = "I_NetLogonControl failed: Status = 1311 0x51f ERROR_NO_LOGON_SERVERS"
	if len(f) != 1 || !strings.HasPrefix(strings.ToLower(f[0]), "/sc_reset:") {
		return "", &CmdletError{Cmdlet: "nltest", Reason: errors.New("unsupported nltest command"),
			Text: "nltest: only /sc_reset:DOMAIN\\DC is modelled"}
	}
	dom, dcName, ok := strings.Cut(f[0][len("/sc_reset:"):], "\\")
	if !ok || dcName == "" || (!strings.EqualFold(dom, h.f.domain) && !strings.EqualFold(dom, h.w.Config().NetBIOS)) {
		return "", &CmdletError{Cmdlet: "nltest", Reason: ErrDCUnavailable, Text: noServers}
	}
	dcName = strings.ToUpper(strings.TrimPrefix(dcName, "\\\\"))
	if i := strings.IndexByte(dcName, '.'); i > 0 {
		dcName = dcName[:i]
	}
	var out string
	err := h.w.Exec(func(now time.Time) error {
		dc := h.w.DC(dcName)
		if dc == nil || !dc.Running() {
			h.w.Loop().Logf("host %s nltest /sc_reset:%s: no such running DC", h.name, dcName)
			return &CmdletError{Cmdlet: "nltest", Reason: ErrDCUnavailable, Text: noServers}
		}
		h.dc = dc.Name()
		h.w.Loop().Logf("host %s secure channel reset to %s", h.name, dc.Name())
		h.creds = nil
		_ = h.logon(now, dc, false)
		out = fmt.Sprintf("Flags: 30 HAS_IP  HAS_TIMESERV\nTrusted DC Name \\\\%s\nTrusted DC Connection Status Status = 0 0x0 NERR_Success\nThe command completed successfully",
			h.w.DCDNSName(dc.Name()))
		return nil
	})
	return out, err
}
