package migrate

import (
	"context"
	"sort"
	"strconv"
	"strings"
)

// HostInventory is one host's OS facts and MIM components.
type HostInventory struct {
	Host string `json:"host"`
	OS   OSInfo `json:"os"`
	Inventory
}

// Estate is the inventory of every host, sorted by host name.
type Estate struct {
	Hosts []HostInventory `json:"hosts"`
}

// TakeInventory asks every host for its OS facts and MIM components.
func TakeInventory(ctx context.Context, hosts []HostAgent) (*Estate, error) {
	est := &Estate{}
	for _, h := range hosts {
		osi, err := h.OSInfo(ctx)
		if err != nil {
			return nil, &StepError{Step: "inventory", Host: h.Host(), Object: "OS", Err: err,
				Fix: "make the host reachable (WinRM) and re-run"}
		}
		inv, err := h.Components(ctx)
		if err != nil {
			return nil, &StepError{Step: "inventory", Host: h.Host(), Object: "MIM components", Err: err,
				Fix: "make the host reachable (WinRM) and re-run"}
		}
		sort.SliceStable(inv.Components, func(i, j int) bool { return inv.Components[i].Component < inv.Components[j].Component })
		est.Hosts = append(est.Hosts, HostInventory{Host: strings.ToLower(h.Host()), OS: osi, Inventory: inv})
	}
	sort.Slice(est.Hosts, func(i, j int) bool { return est.Hosts[i].Host < est.Hosts[j].Host })
	return est, nil
}

// HostsWith returns the hosts that run comp, sorted.
func (e *Estate) HostsWith(comp Component) []HostInventory {
	var out []HostInventory
	for _, h := range e.Hosts {
		if h.component(comp) != nil {
			out = append(out, h)
		}
	}
	return out
}

func (h *HostInventory) component(comp Component) *InstalledComponent {
	for i := range h.Components {
		if h.Components[i].Component == comp {
			return &h.Components[i]
		}
	}
	return nil
}

// Text renders the inventory for a human.
func (e *Estate) Text() string {
	var b strings.Builder
	for _, h := range e.Hosts {
		b.WriteString(h.Host + "  " + h.OS.Caption + " (" + h.OS.Version + "." + strconv.Itoa(h.OS.Build) + ")")
		if h.OS.DC != "" {
			b.WriteString("  DC " + h.OS.DC)
		}
		b.WriteString("\n")
		for _, c := range h.Components {
			mark := ""
			if !c.Component.Convertible() {
				mark = "  [unsupported: left alone]"
			}
			b.WriteString("  " + string(c.Component) + "  " + c.Service + "  " + c.Version + "  " + c.Account + mark + "\n")
		}
		for _, ma := range h.ManagementAgents {
			b.WriteString("  MA " + ma.Name + " (" + ma.Type + ")\n")
		}
		if h.PCNS {
			b.WriteString("  PCNS targets this server\n")
		}
		if h.Exchange != nil {
			where := "on-premises"
			if h.Exchange.Online {
				where = "Exchange Online"
			}
			b.WriteString("  Exchange: " + where + "\n")
		}
	}
	return b.String()
}

// compareVersions compares dotted numeric versions ("4.5.26.0"); missing parts are 0.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
