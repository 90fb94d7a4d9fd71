package sim

import (
	"errors"
	"fmt"
	"strings"
)

// The service cmdlets as PowerShell prints them, for the scenario language: Start-Service,
// Stop-Service, Get-Service. Install-/Test-/Uninstall-ADServiceAccount are in hostgmsa.go and sc.exe
// in hostsvc.go.

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
