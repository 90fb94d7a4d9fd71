package host

import (
	"errors"
	"fmt"
	"strings"
)

// AppCmd runs an IIS appcmd.exe command line on the host for application pools, the seed's "Services
// which use the IIS manager for application pools to configure identity":
//
//	appcmd add apppool /name:ITFarmPool
//	appcmd set apppool ITFarmPool /processModel.identityType:SpecificUser /processModel.userName:CONTOSO\ITFarm1$ /processModel.password:
//	appcmd start apppool ITFarmPool
//	appcmd stop apppool ITFarmPool
//	appcmd list apppool ITFarmPool
//
// and returns what appcmd prints. A pool added here starts with IIS (autoStart) at boot. Under a
// gMSA (the name with its $, an empty password) it starts only if the host can get the gMSA's
// current password, as a service does.
// Divergence: appcmd stores the identity without checking it, and IIS reports a pool whose logon
// fails when it first starts a worker process (event log, HTTP 503); the simulator checks the
// account when it is set (the "ERROR ( message:... )" below) and fails `appcmd start` with the
// logon error (0x8007052e). The pool's runtime version and pipeline mode are fixed.
func (h *Host) AppCmd(line string) string {
	f := strings.Fields(line)
	if len(f) > 0 && strings.EqualFold(strings.TrimSuffix(strings.ToLower(lastPathElem(f[0])), ".exe"), "appcmd") {
		f = f[1:]
	}
	if len(f) < 2 || !strings.EqualFold(f[1], "apppool") {
		return "ERROR ( message:Unknown object type or command. Only the apppool object is modelled. )"
	}
	verb := strings.ToLower(f[0])
	name, opts := "", map[string]string{}
	for _, a := range f[2:] {
		if strings.HasPrefix(a, "/") {
			k, v, _ := strings.Cut(a[1:], ":")
			opts[strings.ToLower(k)] = v
		} else if name == "" {
			name = strings.Trim(a, `"`)
		}
	}
	if name == "" {
		name = firstNonEmpty(opts["name"], opts["apppool.name"])
	}
	notFound := fmt.Sprintf(`ERROR ( message:Cannot find APPPOOL object with identifier "%s". )`, name)
	switch verb {
	case "add":
		if err := h.AddWorkload(KindAppPool, name, StartAuto); err != nil {
			return fmt.Sprintf(`ERROR ( message:Failed to add duplicate collection element "%s". )`, name)
		}
		return fmt.Sprintf(`APPPOOL object "%s" added`, name)
	case "set":
		if _, ok := h.Workload(KindAppPool, name); !ok {
			return notFound
		}
		if user, ok := opts["processmodel.username"]; ok {
			if err := h.SetAccount(KindAppPool, name, user, opts["processmodel.password"]); err != nil {
				return fmt.Sprintf("ERROR ( message:%s )", scText(err))
			}
		}
		return fmt.Sprintf(`APPPOOL object "%s" changed`, name)
	case "start":
		_, err := h.Start(KindAppPool, name)
		switch {
		case errors.Is(err, ErrUnknownService):
			return notFound
		case err != nil:
			return "ERROR ( hresult:8007052e, message:Command execution failed.\nThe user name or password is incorrect.\n )"
		}
		return fmt.Sprintf(`"%s" successfully started.`, name)
	case "stop":
		if err := h.Stop(KindAppPool, name); err != nil {
			return notFound
		}
		return fmt.Sprintf(`"%s" successfully stopped`, name)
	case "list":
		wl, ok := h.Workload(KindAppPool, name)
		if !ok {
			return notFound
		}
		st := map[ServiceState]string{StateRunning: "Started", StateStopped: "Stopped", StateStartPending: "Starting"}[wl.State]
		return fmt.Sprintf(`APPPOOL "%s" (MgdVersion:v4.0,MgdMode:Integrated,state:%s)`, wl.Name, st)
	}
	return "ERROR ( message:Unknown command. )"
}

func lastPathElem(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}
