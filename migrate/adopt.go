package migrate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gmsasim/gmsasim/ad"
)

// The names the operator gives, and the objects that already carry them. Seed 000 has the
// operator create the gMSAs before the installer runs (New-ADServiceAccount -Name MIMSyncGMSAsvc
// ...), so a gMSA or group of the plan may exist: the engine adopts it when it fits what the plan
// would create (a security group; a gMSA whose password readers are the plan's group, whose SPNs
// are among those the plan gives it, at the 30-day interval) and refuses it otherwise, before
// anything changes. The installer's account boxes take the gMSA with its '$' (seed 000: "Be sure
// to include the dollar sign"); what the operator will type there is checked too.

// DefaultPasswordIntervalDays is New-ADServiceAccount's default ManagedPasswordIntervalInDays,
// the interval an adopted gMSA must have.
const DefaultPasswordIntervalDays = 30

// groupTypeSecurity is the groupType bit of a security group.
const groupTypeSecurity = 0x80000000

// ParseComponentNames reads "COMPONENT:NAME" items, each argument a comma-separated list (the
// form of `gmsasim migrate --gmsa` / `--installer` and the scenario directive's gmsa= /
// installer=): sync:MIMSyncGMSAsvc,service:MIMServiceGMSA.
func ParseComponentNames(args []string) (map[Component]string, error) {
	out := map[Component]string{}
	for _, a := range args {
		for _, item := range strings.Split(a, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			c, name, ok := strings.Cut(item, ":")
			comp := Component(strings.ToLower(strings.TrimSpace(c)))
			if !ok || strings.TrimSpace(name) == "" {
				return nil, fmt.Errorf("%w: %q: want COMPONENT:NAME (sync:MIMSyncGMSAsvc)", ErrConfig, item)
			}
			if !comp.Convertible() {
				return nil, fmt.Errorf("%w: %q: unknown or unconvertible component %q; expected one of %s", ErrConfig, item, c, strings.Join(convertibleNames(), ", "))
			}
			if _, dup := out[comp]; dup {
				return nil, fmt.Errorf("%w: component %s named twice", ErrConfig, comp)
			}
			out[comp] = strings.TrimSpace(name)
		}
	}
	return out, nil
}

func convertibleNames() []string {
	var out []string
	for _, c := range append([]Component{CompSync}, serviceSide...) {
		out = append(out, string(c))
	}
	return out
}

// checkInstallerNames refuses an installer account the installer would reject or that names
// another account than the plan's gMSA: seed 000 itself creates MIMSyncGMSAsvc and has the
// operator type MIMSyncGMSA$ in the sync installer. Checked in preflight, before the key-set
// export and every other change.
func (e *Engine) checkInstallerNames(est *Estate, k checker) {
	for _, comp := range append([]Component{CompSync}, serviceSide...) {
		a := e.cfg.accountFor(comp)
		if a.Installer == "" || len(est.HostsWith(comp)) == 0 {
			continue
		}
		dom, name, hasDom := strings.Cut(a.Installer, `\`)
		if !hasDom {
			dom, name = "", a.Installer
		}
		want := e.cfg.qualified(a.Name)
		switch {
		case !strings.HasSuffix(name, "$"):
			k.add("installer-account", "installer account names the gMSA with its '$'", "", false, Blocker,
				fmt.Sprintf("%s: %q has no trailing '$': the installer refuses a managed account typed as a user account", comp, a.Installer),
				"type "+want+" (seed 000: \"Be sure to include the dollar sign ($) symbol\")")
		case !strings.EqualFold(strings.TrimSuffix(name, "$"), a.Name) || (hasDom && !strings.EqualFold(dom, e.cfg.NetBIOS)):
			k.add("installer-account", "installer account is the plan's gMSA", "", false, Blocker,
				fmt.Sprintf("%s: the installer would be given %s, but the gMSA for %s is %s", comp, a.Installer, comp, want),
				fmt.Sprintf("use one name in both places (seed 000 creates MIMSyncGMSAsvc and types MIMSyncGMSA$): give the gMSA as %s:%s or the installer account as %s", comp, strings.TrimSuffix(name, "$"), want))
		default:
			k.add("installer-account", "installer account is the plan's gMSA", "", true, Info, fmt.Sprintf("%s: %s", comp, a.Installer), "")
		}
	}
}

// checkAdoption looks at every group and gMSA of the plan that exists already: adopted when it
// fits, a blocker naming what differs when it does not.
func (e *Engine) checkAdoption(d *dirConn, est *Estate, k checker) error {
	p, err := e.MakePlan(est)
	if err != nil {
		return nil // the plan's own error is reported where it is made
	}
	groupSIDs := map[string]ad.SID{}
	for _, s := range p.Steps {
		if s.Kind != StepGroup {
			continue
		}
		g, err := d.findSAM(s.Object)
		if err != nil {
			return &StepError{Step: "preflight", Object: s.Object, Err: err}
		}
		if g == nil {
			continue
		}
		groupSIDs[strings.ToLower(s.Object)] = g.SID
		fits := slices.Contains(g.objectClasses, "group") && uint32(g.GroupType)&groupTypeSecurity != 0
		detail := fmt.Sprintf("group %s exists (%s): adopted, the plan adds its missing members", s.Object, g.DN)
		if !fits {
			detail = fmt.Sprintf("%s exists but is not a security group (groupType %d): PrincipalsAllowedToRetrieveManagedPassword needs one", g.DN, g.GroupType)
		}
		k.add("adopt-group", "existing group fits the plan", "", fits, Blocker, detail,
			"make it a security group (Set-ADGroup "+s.Object+" -GroupCategory Security) or name another group")
	}
	for _, s := range p.Steps {
		if s.Kind != StepGMSA {
			continue
		}
		o, err := d.findSAM(s.Object)
		if err != nil {
			return &StepError{Step: "preflight", Object: s.Object, Err: err}
		}
		if o == nil || !o.IsGMSA {
			continue // absent: created; not a gMSA: checkHosts' account-name blocker
		}
		var why []string
		var want []ad.SID
		for _, pr := range s.Principals {
			if sid, ok := groupSIDs[strings.ToLower(pr)]; ok {
				want = append(want, sid)
			}
		}
		if !sameSIDs(o.Membership, want) {
			why = append(why, fmt.Sprintf("its password readers (msDS-GroupMSAMembership) are %s, the plan's are %s",
				d.sidNames(o.Membership), strings.Join(s.Principals, ", ")))
		}
		allowed := e.plannedSPNs(d, p, s.Object)
		for _, spn := range o.SPNs {
			if !containsFold(allowed, spn) {
				why = append(why, "it holds SPN "+spn+", which the plan does not give it")
			}
		}
		if o.Interval != 0 && o.Interval != DefaultPasswordIntervalDays {
			why = append(why, fmt.Sprintf("its password interval is %d days, the plan's %d", o.Interval, DefaultPasswordIntervalDays))
		}
		detail := fmt.Sprintf("%s exists (%s): adopted as the gMSA of %s", s.Object, o.DN, s.Component)
		if len(why) > 0 {
			detail = fmt.Sprintf("%s exists (%s) but does not fit the plan: %s", s.Object, o.DN, strings.Join(why, "; "))
		}
		k.add("adopt-gmsa", "existing gMSA fits the plan", "", len(why) == 0, Blocker, detail,
			fmt.Sprintf("change it to fit (Set-ADServiceAccount %s -PrincipalsAllowedToRetrieveManagedPassword %s; setspn -D for a foreign SPN), or give the component another gMSA name (%s:NAME)",
				strings.TrimSuffix(s.Object, "$"), strings.Join(s.Principals, ","), s.Component))
	}
	return nil
}

// plannedSPNs is every SPN the plan gives gMSA acct (with '$'): its configured ones and what the
// move steps take to it from the old accounts as they are now.
func (e *Engine) plannedSPNs(d *dirConn, p *Plan, acct string) []string {
	var out []string
	for _, s := range p.Steps {
		if s.Kind != StepMoveSPN {
			continue
		}
		old, _ := d.findSAM(samOf(s.Object))
		moves := planMoves(old, s.Targets)
		for i := range s.Targets {
			t := &s.Targets[i]
			if !strings.EqualFold(t.Account, acct) {
				continue
			}
			spns, _, _ := wantOn(acct, t, moves)
			out = append(out, spns...)
		}
	}
	return out
}

func containsFold(vals []string, v string) bool {
	return slices.ContainsFunc(vals, func(x string) bool { return strings.EqualFold(x, v) })
}

// sidNames renders SIDs by their accounts' sAMAccountNames, a SID the DC does not resolve as is.
func (d *dirConn) sidNames(sids []ad.SID) string {
	if len(sids) == 0 {
		return "nobody"
	}
	var out []string
	for _, sid := range sids {
		name := sid.String()
		if o, err := d.findOne("(objectSid=" + sid.String() + ")"); err == nil && o != nil {
			name = o.SAM
		}
		out = append(out, name)
	}
	return strings.Join(out, ", ")
}

// checkServiceMA checks the MIM Service MA, the one management agent seed 000 does not list as
// unsupported: its connect-as account is a password account the sync database stores, which the
// conversion leaves as it is. It must exist, be enabled and not be one of the gMSAs (whose
// password nobody can type); the MA is reported either way.
func (e *Engine) checkServiceMA(d *dirConn, est *Estate, k checker) error {
	for _, h := range est.Hosts {
		for _, ma := range h.ManagementAgents {
			if !strings.EqualFold(ma.Type, "FIM") {
				continue
			}
			if ma.Account == "" {
				k.add("service-ma", "MIM Service MA's account", h.Host, false, Warning,
					fmt.Sprintf("MA %s: the host agent did not report its connect-as account", ma.Name),
					"check it in Synchronization Service Manager (Management Agents > "+ma.Name+" > Connectivity)")
				continue
			}
			o, err := d.findSAM(samOf(ma.Account))
			if err != nil {
				return &StepError{Step: "preflight", Host: h.Host, Object: ma.Account, Err: err}
			}
			var problem string
			switch {
			case o == nil:
				problem = "does not exist in the directory"
			case o.IsGMSA:
				problem = "is a gMSA: the MA stores a password, and a gMSA's cannot be typed"
			case o.UAC&UACAccountDisable != 0:
				problem = "is disabled"
			}
			if problem != "" {
				k.add("service-ma", "MIM Service MA's account", h.Host, false, Blocker,
					fmt.Sprintf("MA %s connects as %s, which %s: its runs fail after the migration", ma.Name, ma.Account, problem),
					"give the MA an enabled user account (its connect-as account, with its password) before migrating")
				continue
			}
			if old := convertedAccount(est, ma.Account); old != "" {
				k.add("service-ma", "MIM Service MA's account", h.Host, false, Warning,
					fmt.Sprintf("MA %s connects as %s, the account the %s service leaves: it keeps working only while that account stays enabled with the password the MA stores", ma.Name, ma.Account, old),
					"do not disable or delete "+ma.Account+" after the migration, or give the MA its own user account first")
				continue
			}
			k.add("service-ma", "MIM Service MA's account", h.Host, true, Info,
				fmt.Sprintf("MA %s connects as %s (enabled user account): kept as it is; the sync service's change of account does not touch it", ma.Name, ma.Account), "")
		}
	}
	return nil
}

// convertedAccount is the component whose current account acct is, if a convertible one runs
// under it ("" otherwise).
func convertedAccount(est *Estate, acct string) string {
	for _, h := range est.Hosts {
		for _, c := range h.Components {
			if c.Component.Convertible() && sameAccount(c.Account, acct) {
				return string(c.Component)
			}
		}
	}
	return ""
}
