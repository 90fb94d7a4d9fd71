package migrate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// Severity says whether a failed check stops Apply.
type Severity string

// Severities.
const (
	Blocker Severity = "blocker" // Apply refuses to start
	Warning Severity = "warning" // reported; Apply goes on
	Info    Severity = "info"
)

// Check is one preflight result.
type Check struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Host     string   `json:"host,omitempty"`
	Pass     bool     `json:"pass"`
	Severity Severity `json:"severity"`
	Detail   string   `json:"detail"`
	Fix      string   `json:"fix,omitempty"`
}

// Report is every preflight check, in a stable order.
type Report struct {
	Checks []Check `json:"checks"`
}

// OK reports whether no blocker failed.
func (r *Report) OK() bool { return len(r.Blockers()) == 0 }

// Blockers returns the failed blocker checks.
func (r *Report) Blockers() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.Pass && c.Severity == Blocker {
			out = append(out, c)
		}
	}
	return out
}

// Find returns the first check with id (and host, when host is not "").
func (r *Report) Find(id, host string) *Check {
	for i := range r.Checks {
		if r.Checks[i].ID == id && (host == "" || strings.EqualFold(r.Checks[i].Host, host)) {
			return &r.Checks[i]
		}
	}
	return nil
}

// Text renders the report: PASS/FAIL/WARN per check with the fix.
func (r *Report) Text() string {
	var b strings.Builder
	for _, c := range r.Checks {
		mark := "PASS"
		if !c.Pass {
			mark = map[Severity]string{Blocker: "FAIL", Warning: "WARN", Info: "NOTE"}[c.Severity]
		}
		where := ""
		if c.Host != "" {
			where = " [" + c.Host + "]"
		}
		fmt.Fprintf(&b, "%s  %s%s: %s\n", mark, c.Title, where, c.Detail)
		if !c.Pass && c.Fix != "" {
			fmt.Fprintf(&b, "      fix: %s\n", c.Fix)
		}
	}
	return b.String()
}

type checker struct{ r *Report }

func (k checker) add(id, title, host string, pass bool, sev Severity, detail, fix string) {
	k.r.Checks = append(k.r.Checks, Check{ID: id, Title: title, Host: host, Pass: pass, Severity: sev, Detail: detail, Fix: fix})
}

// Preflight checks every requirement of the conversion against the directory and the inventory.
func (e *Engine) Preflight(ctx context.Context, est *Estate) (*Report, error) {
	d, err := e.connect()
	if err != nil {
		return nil, &StepError{Step: "preflight", Object: e.cfg.DC.Addr, Expected: "an LDAP bind as " + e.cfg.Admin.Name,
			Err: err, Fix: "check the DC address, TLS trust and the admin's credentials"}
	}
	defer d.Close()
	k := checker{&Report{}}
	if err := e.checkDirectory(d, k); err != nil {
		return nil, err
	}
	e.checkRootKeys(d, est, k)
	if err := e.checkHosts(d, est, k); err != nil {
		return nil, err
	}
	if err := e.checkSPNs(d, est, k); err != nil {
		return nil, err
	}
	e.checkInstallerNames(est, k)
	if err := e.checkAdoption(d, est, k); err != nil {
		return nil, err
	}
	if err := e.checkServiceMA(d, est, k); err != nil {
		return nil, err
	}
	return k.r, nil
}

func (e *Engine) checkDirectory(d *dirConn, k checker) error {
	v, err := d.schemaVersion()
	if err != nil {
		return &StepError{Step: "preflight", Object: d.dse.SchemaNC, Expected: "a readable objectVersion", Err: err}
	}
	k.add("schema", "schema objectVersion ≥ 52", "", v >= 52, Blocker, fmt.Sprintf("objectVersion %d", v),
		"extend the schema to Windows Server 2012 or later (adprep /forestprep)")

	dcs, err := d.dcOSVersions()
	if err != nil {
		return &StepError{Step: "preflight", Object: "OU=Domain Controllers", Err: err}
	}
	var ok []string
	for _, name := range slices.Sorted(maps.Keys(dcs)) {
		if compareVersions(firstField(dcs[name]), "6.2") >= 0 {
			ok = append(ok, name)
		}
	}
	detail := fmt.Sprintf("DCs of 2012 or later: %s; %s answers at domainControllerFunctionality %d",
		strings.Join(ok, ", "), d.dse.DNSHostName, d.dse.DCLevel)
	if len(ok) == 0 {
		detail = fmt.Sprintf("no DC of Windows Server 2012 or later among %d", len(dcs))
	}
	k.add("dc-os", "a DC of Windows Server 2012 or later", "", len(ok) > 0 && d.dse.DCLevel >= 5, Blocker, detail,
		"add a Windows Server 2012 or later DC and point the engine (Config.DC) at it")

	me, err := d.whoAmI()
	if err != nil {
		return &StepError{Step: "preflight", Object: e.cfg.Admin.Name, Expected: "WhoAmI to name the bound account", Err: err}
	}
	dom, err := d.domainSID()
	if err != nil {
		return &StepError{Step: "preflight", Object: d.dse.DefaultNC, Err: err}
	}
	groups, err := d.tokenGroups(me)
	if err != nil {
		return &StepError{Step: "preflight", Object: me, Expected: "tokenGroups", Err: err}
	}
	want := map[string]string{dom.String() + "-512": "Domain Admins", "S-1-5-32-548": "Account Operators",
		dom.String() + "-519": "Enterprise Admins"}
	var have []string
	for _, g := range groups {
		if n, ok := want[g.String()]; ok {
			have = append(have, n)
		}
	}
	sort.Strings(have)
	detail = me + " is in " + strings.Join(have, ", ")
	if len(have) == 0 {
		detail = me + " is in none of Domain Admins, Account Operators"
	}
	k.add("rights", "operator is a Domain Admin or Account Operator", "", len(have) > 0, Blocker, detail,
		"bind as a member of Domain Admins (reading KDS root keys needs it) or Account Operators")
	return nil
}

// eligibleKey returns the most recently created key eligible at now, or nil.
func eligibleKey(keys []rootKey, now time.Time, rule RootKeyRule) *rootKey {
	var best *rootKey
	for i := range keys {
		k := &keys[i]
		if !rule.Eligible(k.UseStart, now) {
			continue
		}
		if best == nil || k.Created.After(best.Created) {
			best = k
		}
	}
	return best
}

func describeKeys(keys []rootKey, now time.Time, rule RootKeyRule) string {
	if len(keys) == 0 {
		return "no msKds-ProvRootKey visible"
	}
	var parts []string
	for _, k := range keys {
		from := rule.UsableFrom(k.UseStart)
		wait := from.Sub(now)
		s := fmt.Sprintf("%s usable from %s", k.ID, from.Format(time.RFC3339))
		if wait > 0 {
			s += fmt.Sprintf(" (in %s)", wait.Round(time.Minute))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func (e *Engine) checkRootKeys(d *dirConn, est *Estate, k checker) {
	wait := "until the next 10-hour key interval (up to 10 hours)"
	if e.cfg.RootKeyRule == RuleOneIntervalAgo {
		wait = "10 hours 5 minutes after its use-start (the DCs' one-interval-ago reading)"
	}
	fix := "create a root key once (Add-KdsRootKey -EffectiveImmediately) and wait " + wait + " for it to become usable, and for it to replicate; do not create another"
	one := func(dc string, c *dirConn) {
		keys, err := c.rootKeys()
		if err != nil {
			k.add("root-key", "KDS root key eligible on "+dc, "", false, Blocker, err.Error(), "make "+dc+" reachable over LDAP and re-run")
			return
		}
		now := c.dse.CurrentTime
		rule := e.cfg.RootKeyRule
		best := eligibleKey(keys, now, rule)
		detail := fmt.Sprintf("DC time %s; %s", now.Format(time.RFC3339), describeKeys(keys, now, rule))
		if best != nil {
			detail = fmt.Sprintf("key %s eligible (%s)", best.ID, rule.why(best.UseStart, now))
		}
		k.add("root-key", "KDS root key eligible on "+dc, "", best != nil, Blocker, detail, fix)
	}
	one(d.dse.DNSHostName, d)
	seen := map[string]bool{strings.ToLower(d.dse.DNSHostName): true}
	for _, h := range est.Hosts {
		dc := e.dcName(h.OS.DC)
		if dc == "" || seen[dc] || sameDC(dc, d.dse.DNSHostName) {
			continue
		}
		seen[dc] = true
		c, err := dial(e.endpointFor(dc), e.cfg.Admin)
		if err != nil {
			k.add("root-key", "KDS root key eligible on "+dc, "", false, Blocker,
				fmt.Sprintf("used by %s; cannot connect: %v", h.Host, err), "make "+dc+" reachable (Config.DCs) and re-run")
			continue
		}
		one(dc, c)
		c.Close()
	}
}

func (e *Engine) checkHosts(d *dirConn, est *Estate, k checker) error {
	needSSPR := false
	for _, h := range est.Hosts {
		ver := h.OS.Version
		okOS := compareVersions(ver, "6.2") >= 0
		k.add("host-os", "host runs Windows Server 2012 or later, 64-bit", h.Host, okOS && h.OS.Is64Bit, Blocker,
			fmt.Sprintf("%s (%s.%d), 64-bit=%t", h.OS.Caption, ver, h.OS.Build, h.OS.Is64Bit),
			"move the MIM component to a 64-bit Windows Server 2012 or later host")
		if compareVersions(ver, "6.3") == 0 {
			k.add("kdssvc-trigger", "Windows Server 2012 R2: kdssvc start trigger", h.Host, false, Info,
				"services under a gMSA hang after a reboot until kdssvc starts; the plan sets its network-on trigger",
				"sc.exe triggerinfo kdssvc start/networkon (the plan does it; typed in PowerShell, a bare sc is Set-Content)")
		}
		if h.OS.Clustered {
			k.add("cluster", "clustered host", h.Host, false, Info,
				"every node that runs a MIM service must be in the gMSA's group; the plan adds the inventoried hosts only",
				"inventory every cluster node")
		}
		comp, err := d.findComputer(h.Host)
		if err != nil {
			return &StepError{Step: "preflight", Host: h.Host, Object: "computer account", Err: err}
		}
		detail := "no computer object with dNSHostName " + h.Host
		if comp != nil {
			detail = comp.DN
		}
		k.add("computer", "host has a computer account", h.Host, comp != nil, Blocker, detail,
			"join the host to the domain (its computer object needs dNSHostName)")
		for _, c := range h.Components {
			if !c.Component.Convertible() {
				k.add("unsupported", "component cannot use a gMSA: reported and left alone", h.Host, false, Warning,
					fmt.Sprintf("%s (%s) runs as %s", c.Component, c.Service, c.Account), unsupportedFix(c.Component))
				continue
			}
			if c.Component == CompSSPRRegistration || c.Component == CompSSPRReset {
				needSSPR = true
			}
			k.add("mim-version", "MIM 4.5.26.0 or later", h.Host, compareVersions(c.Version, MinMIMVersion) >= 0, Blocker,
				fmt.Sprintf("%s %s", c.Component, c.Version), "install MIM hotfix 4.5.26.0 or later on "+h.Host)
			if err := e.checkAccount(d, h.Host, c, k); err != nil {
				return err
			}
		}
		for _, ma := range h.ManagementAgents {
			if !strings.EqualFold(ma.Type, "FIM") {
				k.add("unsupported", "management agent cannot use a gMSA: reported and left alone", h.Host, false, Warning,
					fmt.Sprintf("MA %s (%s)", ma.Name, ma.Type), "keep its connect-to account as it is")
			}
		}
		if h.component(CompService) != nil && (h.Exchange != nil || e.cfg.Exchange != nil) &&
			(e.cfg.Exchange == nil || e.cfg.Exchange.MailPassword == "") {
			k.add("mail-password", "Service Email Account password for change mode", h.Host, false, Warning,
				"the MIM Service installer asks for the mailbox password when the service account is managed",
				"give Config.Exchange with MailAccount and MailPassword")
		}
		if h.component(CompSync) != nil && (e.cfg.SyncAccount.Account == "" || e.cfg.SyncAccount.Password == "") {
			k.add("sync-credentials", "current sync service account credentials for the key-set export", h.Host, false, Blocker,
				"Config.SyncAccount needs the account, password and domain the sync service runs under now",
				"give the Synchronization Service account's name, password and domain")
		}
	}
	if needSSPR {
		for _, g := range e.cfg.SyncGroups {
			o, err := d.findSAM(g)
			if err != nil {
				return &StepError{Step: "preflight", Object: g, Err: err}
			}
			k.add("sync-group", "sync security group exists (SSPR)", "", o != nil, Blocker, g,
				"create the group "+g+" (the Synchronization Service installer does) or set Config.SyncGroups")
		}
	}
	for _, comp := range []Component{CompSync, CompService, CompPAMREST, CompPAMMonitoring, CompPAMComponent, CompSSPRRegistration, CompSSPRReset} {
		if len(est.HostsWith(comp)) == 0 {
			continue
		}
		name := e.cfg.accountFor(comp).Name
		o, err := d.findSAM(name + "$")
		if err != nil {
			return &StepError{Step: "preflight", Object: name + "$", Err: err}
		}
		if o != nil && !o.IsGMSA {
			k.add("account-name", "gMSA name free or already a gMSA", "", false, Blocker,
				o.DN+" is not a msDS-GroupManagedServiceAccount", "choose another name ("+string(comp)+":NAME with --gmsa or gmsa=; Config.Accounts["+string(comp)+"])")
		}
	}
	return nil
}

// checkAccount flags an account given without its '$' (a forgotten dollar sign): the service
// names a gMSA the way a user account is named.
func (e *Engine) checkAccount(d *dirConn, host string, c InstalledComponent, k checker) error {
	name := c.Account
	if i := strings.LastIndex(name, `\`); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || strings.HasSuffix(name, "$") {
		return nil
	}
	o, err := d.findSAM(name + "$")
	if err != nil {
		return &StepError{Step: "preflight", Host: host, Object: name + "$", Err: err}
	}
	if o != nil && o.IsGMSA {
		k.add("dollar", "gMSA named with its '$'", host, false, Warning,
			fmt.Sprintf("%s runs as %s, which names the gMSA %s$ without the '$'", c.Service, c.Account, name),
			"the plan re-runs change mode with "+e.cfg.qualified(name))
	}
	return nil
}

func unsupportedFix(c Component) string {
	switch c {
	case CompPortal:
		return "the MIM Portal is part of SharePoint: deploy SharePoint in farm mode and configure its automatic password change"
	}
	return "keep its current account"
}

// firstField is "10.0" of "10.0 (17763)"; "" for an empty string.
func firstField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// dcName normalises a host's DC as nltest prints it ("\\DC2.contoso.com", "DC2") to a lower-case
// DNS name.
func (e *Engine) dcName(s string) string {
	s = strings.ToLower(strings.TrimLeft(strings.TrimSpace(s), `\`))
	if s != "" && !strings.Contains(s, ".") {
		s += "." + e.cfg.Domain
	}
	return s
}
