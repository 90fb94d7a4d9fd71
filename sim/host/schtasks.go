package host

import (
	"errors"
	"fmt"
	"strings"
)

// Schtasks runs a schtasks.exe command line on the host for scheduled tasks, the seed's "Tasks
// using Task Scheduler" (one of the consumers of a gMSA: "a Windows service, an App pool, a
// scheduled task"):
//
//	schtasks /Create /TN Cleanup /TR C:\cleanup.cmd /SC DAILY /RU CONTOSO\ITFarm1$
//	schtasks /Change /TN Cleanup /RU CONTOSO\ITFarm1$ /RP
//	schtasks /Run /TN Cleanup
//	schtasks /Query /TN Cleanup
//
// and returns what schtasks prints. A gMSA is named with its trailing $ and no password (/RP with
// an empty value, or none); the task then runs only if the host can get the gMSA's current
// password, as a service does. /RU SYSTEM (or "") is LocalSystem.
// Divergence: triggers (/SC, /ST, ...) and the program (/TR) are stored nowhere: a task runs on
// /Run only and then stays Running. schtasks prompts for a password when /RU names a user and
// /RP is absent; the simulator takes no password (what a gMSA needs). /Run starts the task
// synchronously: a logon failure shows in /Query's Last Result (0x8007052E, "The user name or
// password is incorrect", as Task Scheduler records it), /Run itself prints its SUCCESS line as
// schtasks does when the service accepted the request. /Query prints four fields of
// `/Query /V /FO LIST`.
func (h *Host) Schtasks(line string) string {
	args := scArgs(line)
	if len(args) > 0 && strings.EqualFold(strings.TrimSuffix(strings.ToLower(lastPathElem(args[0])), ".exe"), "schtasks") {
		args = args[1:]
	}
	if len(args) == 0 {
		return `ERROR: Invalid syntax. Type "SCHTASKS /?" for usage.`
	}
	verb := strings.ToLower(args[0])
	opts := map[string]string{}
	for i := 1; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "/") {
			return fmt.Sprintf("ERROR: Invalid argument/option - '%s'.\nType \"SCHTASKS %s /?\" for usage.", args[i], strings.ToUpper(verb))
		}
		k := strings.ToLower(args[i])
		v := ""
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "/") {
			v, i = args[i+1], i+1
		}
		opts[k] = v
	}
	name := strings.TrimPrefix(opts["/tn"], `\`)
	if name == "" {
		return fmt.Sprintf("ERROR: Invalid syntax. Mandatory option '/tn' is missing.\nType \"SCHTASKS %s /?\" for usage.", strings.ToUpper(verb))
	}
	const notFound = "ERROR: The system cannot find the file specified."
	setRunAs := func() string {
		ru, ok := opts["/ru"]
		if !ok {
			return ""
		}
		if ru == "" || strings.EqualFold(ru, "SYSTEM") || strings.EqualFold(ru, `NT AUTHORITY\SYSTEM`) {
			ru = "LocalSystem"
		}
		err := h.SetAccount(KindTask, name, ru, opts["/rp"])
		switch {
		case errors.Is(err, ErrUnknownService):
			return notFound
		case err != nil:
			return "ERROR: No mapping between account names and security IDs was done."
		}
		return ""
	}
	switch verb {
	case "/create":
		if err := h.AddWorkload(KindTask, name, StartManual); err != nil {
			return fmt.Sprintf("WARNING: The task name \"%s\" already exists.", name)
		}
		if msg := setRunAs(); msg != "" {
			_ = h.RemoveWorkload(KindTask, name) // schtasks registers nothing when the principal is refused
			return msg
		}
		return fmt.Sprintf("SUCCESS: The scheduled task \"%s\" has successfully been created.", name)
	case "/change":
		if _, ok := h.Workload(KindTask, name); !ok {
			return notFound
		}
		if msg := setRunAs(); msg != "" {
			return msg
		}
		return fmt.Sprintf("SUCCESS: The parameters of scheduled task \"%s\" have been changed.", name)
	case "/run":
		if _, err := h.Start(KindTask, name); errors.Is(err, ErrUnknownService) {
			return notFound
		}
		return fmt.Sprintf("SUCCESS: Attempted to run the scheduled task \"%s\".", name)
	case "/end":
		if err := h.Stop(KindTask, name); err != nil {
			return notFound
		}
		return fmt.Sprintf("SUCCESS: The scheduled task \"%s\" has been terminated successfully.", name)
	case "/query":
		wl, ok := h.Workload(KindTask, name)
		if !ok {
			return notFound
		}
		status, result := "Ready", "267011" // SCHED_S_TASK_HAS_NOT_RUN
		switch {
		case wl.State == StateRunning:
			status, result = "Running", "267009" // SCHED_S_TASK_RUNNING
		case wl.LastError != nil:
			result = "-2147023570" // 0x8007052E: the user name or password is incorrect
		}
		account := wl.Account
		if account == "LocalSystem" {
			account = "SYSTEM"
		}
		return fmt.Sprintf("TaskName:      \\%s\nStatus:        %s\nLast Result:   %s\nRun As User:   %s", wl.Name, status, result, account)
	}
	return fmt.Sprintf("ERROR: Invalid argument/option - '%s'.\nType \"SCHTASKS /?\" for usage.", args[0])
}
