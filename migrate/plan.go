package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// StepKind is what a step does. The values appear in the plan JSON and the journal.
type StepKind string

// Step kinds.
const (
	StepGroup         StepKind = "group"          // ensure a security group with the given host members
	StepGMSA          StepKind = "gmsa"           // ensure a gMSA (create or reconcile)
	StepGroupMember   StepKind = "group-member"   // add a gMSA to a sync group
	StepPurgeTickets  StepKind = "purge-tickets"  // klist -li 0x3e7 purge on a host
	StepKDSTrigger    StepKind = "kdssvc-trigger" // sc triggerinfo kdssvc start/networkon
	StepInstallGMSA   StepKind = "install-gmsa"   // Install-ADServiceAccount, then Test-ADServiceAccount
	StepExportKeySet  StepKind = "keyset-export"  // miiskmu export (never overwrites)
	StepVerifyKeySet  StepKind = "keyset-verify"  // the export exists and matches the database
	StepStop          StepKind = "stop"           // stop a service
	StepChangeMode    StepKind = "change-mode"    // the installer's change mode with the gMSA
	StepRestoreKeySet StepKind = "keyset-restore" // restore the key set after sync change mode
	StepStart         StepKind = "start"          // start a service
	StepRegistry      StepKind = "registry"       // write a registry value
	StepExchangeCheck StepKind = "exchange-check" // ExchangeOnline / ExchangeOnPremise: one empty
	StepVerifyGMSA    StepKind = "verify-gmsa"    // Test-ADServiceAccount
	StepVerifyService StepKind = "verify-service" // running under the gMSA
	StepVerifyKerb    StepKind = "verify-kerberos"
	StepSetLogon      StepKind = "set-logon" // the password-update script: logon account set without the installer
)

// RegistryWrite is the value a registry step writes.
type RegistryWrite struct {
	Key   string        `json:"key"`
	Value string        `json:"value"`
	Data  RegistryValue `json:"data"`
}

// Step is one idempotent action. Running a step whose effect is already in place changes
// nothing and succeeds.
type Step struct {
	ID          string    `json:"id"`
	Kind        StepKind  `json:"kind"`
	Host        string    `json:"host,omitempty"`
	Object      string    `json:"object"`
	Component   Component `json:"component,omitempty"`
	Description string    `json:"description"`
	DependsOn   []string  `json:"dependsOn,omitempty"`

	Account              string           `json:"account,omitempty"` // target account, DOMAIN\name$
	From                 string           `json:"from,omitempty"`    // account before the change (rollback)
	Members              []string         `json:"members,omitempty"` // group: host DNS names
	Principals           []string         `json:"principals,omitempty"`
	DNSHostName          string           `json:"dnsHostName,omitempty"`
	SPNs                 []string         `json:"spns,omitempty"`
	DelegateTo           []string         `json:"delegateTo,omitempty"`
	TrustedForDelegation bool             `json:"trustedForDelegation,omitempty"`
	Path                 string           `json:"path,omitempty"`
	Registry             *RegistryWrite   `json:"registry,omitempty"`
	Exchange             *ExchangeOptions `json:"exchange,omitempty"`
	Targets              []SPNTarget      `json:"targets,omitempty"` // move-spns: the gMSAs that receive
	// Pages (change-mode of the MIM Service MSI): the run's account pages in the installer's
	// order, each component with its service, target account and account before.
	Pages []Page `json:"pages,omitempty"`
}

// Page is one account page of a change-mode run.
type Page struct {
	Component Component `json:"component"`
	Service   string    `json:"service"`
	Account   string    `json:"account"`
	From      string    `json:"from"`
}

// Plan is the ordered list of steps. Steps are in an order that satisfies every DependsOn.
type Plan struct {
	Version     int      `json:"version"`
	Domain      string   `json:"domain"`
	NetBIOS     string   `json:"netbios"`
	KeySetPath  string   `json:"keySetPath"`
	Steps       []Step   `json:"steps"`
	Unsupported []string `json:"unsupported,omitempty"` // reported and left alone
	// Kept are the supported parts the conversion does not change, reported: the MIM Service MA,
	// whose connect-as account is a password account the sync database stores.
	Kept []string `json:"kept,omitempty"`
}

// PlanVersion is the plan format version.
const PlanVersion = 2

// Step returns the step with id, or nil.
func (p *Plan) Step(id string) *Step {
	for i := range p.Steps {
		if p.Steps[i].ID == id {
			return &p.Steps[i]
		}
	}
	return nil
}

// JSON is the plan as indented JSON (no passwords: they are never in a plan).
func (p *Plan) JSON() []byte {
	b, _ := json.MarshalIndent(p, "", "  ")
	return append(b, '\n')
}

// Hash identifies the plan (SHA-256 of its JSON); the journal records it.
func (p *Plan) Hash() string {
	h := sha256.Sum256(p.JSON())
	return hex.EncodeToString(h[:])
}

var kindSymbol = map[StepKind]string{
	StepGroup: "+", StepGMSA: "+", StepGroupMember: "+", StepInstallGMSA: "+", StepKDSTrigger: "~",
	StepExportKeySet: "+", StepVerifyKeySet: "?", StepStop: "-", StepChangeMode: "~", StepRestoreKeySet: "~",
	StepStart: "+", StepRegistry: "~", StepExchangeCheck: "?", StepVerifyGMSA: "?", StepVerifyService: "?",
	StepVerifyKerb: "?", StepPurgeTickets: "~", StepMoveSPN: "~", StepSetLogon: "~",
}

// Text renders the plan for a human, like `terraform plan`: one line per step with its
// symbol (+ create, ~ change, - stop, ? check), then the unsupported components.
func (p *Plan) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "MIM → gMSA plan for %s (%s): %d steps\n", p.Domain, p.NetBIOS, len(p.Steps))
	section := ""
	for i, s := range p.Steps {
		sec := "directory"
		if s.Host != "" {
			sec = "host " + s.Host
		}
		if strings.HasPrefix(string(s.Kind), "verify-") {
			sec = "verification"
		}
		if sec != section {
			section = sec
			fmt.Fprintf(&b, "\n  # %s\n", sec)
		}
		fmt.Fprintf(&b, "  %s %2d. %-44s %s\n", kindSymbol[s.Kind], i+1, s.ID, s.Description)
		if len(s.DependsOn) > 0 {
			fmt.Fprintf(&b, "        after: %s\n", strings.Join(s.DependsOn, ", "))
		}
	}
	if len(p.Unsupported) > 0 {
		b.WriteString("\n  # left alone (cannot use a gMSA)\n")
		for _, u := range p.Unsupported {
			fmt.Fprintf(&b, "    %s\n", u)
		}
	}
	if len(p.Kept) > 0 {
		b.WriteString("\n  # kept as they are (supported, nothing to convert)\n")
		for _, k := range p.Kept {
			fmt.Fprintf(&b, "    %s\n", k)
		}
	}
	fmt.Fprintf(&b, "\nThe key-set export %s is written once and never overwritten or deleted.\n", p.KeySetPath)
	return b.String()
}

// serviceSide are the components of the MIM Service MSI, in the order of its Change run's pages
// (seed 000: MIM Service, PAM REST API, PAM Component, PAM Monitoring, SSPR registration portal,
// SSPR reset portal).
var serviceSide = []Component{CompService, CompPAMREST, CompPAMComponent, CompPAMMonitoring, CompSSPRRegistration, CompSSPRReset}

// MSIChangeStep is the name in the step id of the MIM Service MSI's Change run on a host.
const MSIChangeStep = "mim-service-msi"

// MakePlan builds the plan from the inventory. It is pure: the same inventory and configuration
// give the same plan, byte for byte.
func (e *Engine) MakePlan(est *Estate) (*Plan, error) {
	c := &e.cfg
	p := &Plan{Version: PlanVersion, Domain: c.Domain, NetBIOS: c.NetBIOS, KeySetPath: c.KeySetPath}
	add := func(s Step) { p.Steps = append(p.Steps, s) }
	for _, h := range est.Hosts {
		for _, comp := range h.Components {
			if !comp.Component.Convertible() {
				p.Unsupported = append(p.Unsupported, fmt.Sprintf("%s on %s (%s, runs as %s)", comp.Component, h.Host, comp.Service, comp.Account))
			}
		}
		for _, ma := range h.ManagementAgents {
			if !strings.EqualFold(ma.Type, "FIM") {
				p.Unsupported = append(p.Unsupported, fmt.Sprintf("management agent %s (%s) on %s", ma.Name, ma.Type, h.Host))
				continue
			}
			acct := ma.Account
			if acct == "" {
				acct = "an account the host agent did not report"
			}
			p.Kept = append(p.Kept, fmt.Sprintf("MIM Service MA %s on %s connects as %s (checked by preflight; the sync service's new account does not change it)", ma.Name, h.Host, acct))
		}
	}
	syncHosts := est.HostsWith(CompSync)
	var svcHosts []HostInventory
	for _, h := range est.Hosts {
		for _, comp := range serviceSide {
			if h.component(comp) != nil {
				svcHosts = append(svcHosts, h)
				break
			}
		}
	}
	if len(syncHosts) == 0 && len(svcHosts) == 0 {
		return nil, fmt.Errorf("%w: no convertible MIM component on any host", ErrConfig)
	}
	names := func(hs []HostInventory) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.Host)
		}
		return out
	}
	groupStep := func(g string, hs []HostInventory) string {
		id := "group:" + g
		add(Step{ID: id, Kind: StepGroup, Object: g, Members: names(hs),
			Description: fmt.Sprintf("group %s with %s", g, strings.Join(names(hs), ", "))})
		return id
	}
	gmsaIDs := map[Component]string{}
	specs := map[Component]AccountSpec{}
	gmsaStep := func(comp Component, group, groupID string, extraSPNs []string) {
		a := c.accountFor(comp)
		for _, s := range extraSPNs {
			a.SPNs = appendUnique(a.SPNs, s)
		}
		specs[comp] = a
		id := "gmsa:" + a.Name
		gmsaIDs[comp] = id
		// SPNs and delegation come later, in the move steps: the old account may still hold them,
		// and AD refuses an SPN that exists anywhere in the forest.
		desc := fmt.Sprintf("gMSA %s$ (%s), DNS %s.%s, password readable by %s", a.Name, comp, strings.ToLower(a.Name), c.Domain, group)
		add(Step{ID: id, Kind: StepGMSA, Object: a.Name + "$", Component: comp, Description: desc, DependsOn: []string{groupID},
			Account: c.qualified(a.Name), Principals: []string{group}, DNSHostName: strings.ToLower(a.Name) + "." + c.Domain})
	}
	var syncGroupID, svcGroupID string
	if len(syncHosts) > 0 {
		syncGroupID = groupStep(c.SyncServersGroup, syncHosts)
		var pcns []string
		for _, h := range syncHosts {
			if h.PCNS {
				pcns = append(pcns, "PCNSCLNT/"+h.Host)
			}
		}
		gmsaStep(CompSync, c.SyncServersGroup, syncGroupID, pcns)
	}
	if len(svcHosts) > 0 {
		svcGroupID = groupStep(c.ServiceServersGroup, svcHosts)
		for _, comp := range serviceSide {
			hs := est.HostsWith(comp)
			if len(hs) == 0 {
				continue
			}
			var extra []string
			if comp == CompService {
				for _, h := range hs {
					extra = append(extra, "FIMService/"+h.Host)
				}
			}
			gmsaStep(comp, c.ServiceServersGroup, svcGroupID, extra)
		}
		if id, ok := gmsaIDs[CompService]; ok && (len(est.HostsWith(CompSSPRRegistration)) > 0 || len(est.HostsWith(CompSSPRReset)) > 0) {
			for _, g := range c.SyncGroups {
				add(Step{ID: "group-member:" + g + ":" + specs[CompService].Name, Kind: StepGroupMember, Object: g,
					Account: specs[CompService].Name + "$", DependsOn: []string{id},
					Description: fmt.Sprintf("add %s$ to %s (SSPR)", specs[CompService].Name, g)})
			}
		}
	}
	moves := e.moveSteps(est, specs)
	for i := range moves {
		for _, t := range moves[i].Targets {
			moves[i].DependsOn = appendUnique(moves[i].DependsOn, gmsaIDs[t.Component])
		}
	}
	// The procedure's order: the sync servers first, then the MIM Service side. Each SPN move
	// comes right before the first switch of a service it serves, so that tickets are issued
	// for a key no service holds for as short a time as the plan allows.
	ordered := append(append([]HostInventory(nil), syncHosts...), withoutSync(est.Hosts)...)
	for _, h := range ordered {
		e.planHost(p, h, specs, gmsaIDs, syncGroupID, svcGroupID, moves)
	}
	for _, mv := range moves {
		if p.Step(mv.ID) == nil {
			add(mv)
		}
	}
	e.planVerify(p, &Estate{Hosts: ordered}, specs)
	return p, nil
}

// moveSteps are the SPN and delegation moves: one per old service account, to the gMSAs of the
// components that ran under it, in component order (sync, then the MIM Service side).
func (e *Engine) moveSteps(est *Estate, specs map[Component]AccountSpec) []Step {
	var out []Step
	index := map[string]int{}
	for _, comp := range append([]Component{CompSync}, serviceSide...) {
		a, ok := specs[comp]
		if !ok {
			continue
		}
		for _, h := range est.HostsWith(comp) {
			old := h.component(comp).Account
			key := strings.ToLower(samOf(old))
			if key == "" {
				continue
			}
			i, ok := index[key]
			if !ok {
				i = len(out)
				index[key] = i
				out = append(out, Step{ID: "move-spns:" + samOf(old), Kind: StepMoveSPN, Object: old})
			}
			s := &out[i]
			if slices.ContainsFunc(s.Targets, func(t SPNTarget) bool { return t.Component == comp }) {
				continue
			}
			s.Targets = append(s.Targets, SPNTarget{Component: comp, Account: a.Name + "$", SPNs: a.SPNs, DelegateTo: a.DelegateTo,
				TrustedForDelegation: a.TrustedForDelegation})
		}
	}
	for i := range out {
		s := &out[i]
		var to []string
		for _, t := range s.Targets {
			d := t.Account
			if len(t.SPNs) > 0 {
				d += " (+ " + strings.Join(t.SPNs, " ") + ")"
			}
			if t.TrustedForDelegation {
				d += " (+ trusted for delegation)"
			}
			if len(t.DelegateTo) > 0 {
				d += " (+ delegates to " + strings.Join(t.DelegateTo, " ") + ")"
			}
			to = append(to, d)
		}
		s.Description = "move SPNs and delegation off " + s.Object + " (journaled), then onto " + strings.Join(to, ", ")
	}
	return out
}

// planHost adds one host's steps.
func (e *Engine) planHost(p *Plan, h HostInventory, specs map[Component]AccountSpec, gmsaIDs map[Component]string, syncGroupID, svcGroupID string, moves []Step) {
	c := &e.cfg
	add := func(s Step) { s.Host = h.Host; p.Steps = append(p.Steps, s) }
	// movesFor adds the SPN moves not yet in the plan whose targets include one of comps on this
	// host, and returns the ids of every move serving comps (the switch waits for them).
	movesFor := func(comps ...Component) []string {
		var ids []string
		for _, mv := range moves {
			serves := slices.ContainsFunc(mv.Targets, func(t SPNTarget) bool {
				return slices.Contains(comps, t.Component) && h.component(t.Component) != nil
			})
			if !serves {
				continue
			}
			if p.Step(mv.ID) == nil {
				p.Steps = append(p.Steps, mv)
			}
			ids = append(ids, mv.ID)
		}
		return ids
	}
	at := "@" + h.Host
	var comps []InstalledComponent
	for _, ic := range h.Components {
		if ic.Component.Convertible() {
			comps = append(comps, ic)
		}
	}
	if len(comps) == 0 {
		return
	}
	var deps []string
	if h.component(CompSync) != nil {
		deps = append(deps, syncGroupID)
	}
	for _, ic := range comps {
		if ic.Component != CompSync {
			deps = append(deps, svcGroupID)
			break
		}
	}
	purge := "purge-tickets" + at
	add(Step{ID: purge, Kind: StepPurgeTickets, Object: "machine tickets", DependsOn: deps,
		Description: "klist -li 0x3e7 purge (new group membership takes effect)"})
	var ready []string // steps change mode waits for
	if compareVersions(h.OS.Version, "6.3") == 0 {
		id := "kdssvc-trigger" + at
		add(Step{ID: id, Kind: StepKDSTrigger, Object: "kdssvc", Description: "sc triggerinfo kdssvc start/networkon (2012 R2)"})
		ready = append(ready, id)
	}
	installed := map[string]string{}
	for _, ic := range comps {
		a := specs[ic.Component]
		if _, ok := installed[a.Name]; ok {
			continue
		}
		id := "install-gmsa:" + a.Name + at
		installed[a.Name] = id
		add(Step{ID: id, Kind: StepInstallGMSA, Object: a.Name, Component: ic.Component, DependsOn: []string{gmsaIDs[ic.Component], purge},
			Description: fmt.Sprintf("Install-ADServiceAccount %s, then Test-ADServiceAccount", a.Name)})
	}
	if sc := h.component(CompSync); sc != nil {
		a := specs[CompSync]
		exp, ver := "keyset-export"+at, "keyset-verify"+at
		stop, cm := "stop:"+sc.Service+at, "change-mode:"+string(CompSync)+at
		rest, start := "keyset-restore"+at, "start:"+sc.Service+at
		add(Step{ID: exp, Kind: StepExportKeySet, Object: c.KeySetPath, Path: c.KeySetPath, Component: CompSync,
			DependsOn:   []string{installed[a.Name]},
			Description: fmt.Sprintf("export the sync key set to %s as %s (never overwritten)", c.KeySetPath, sc.Account)})
		add(Step{ID: ver, Kind: StepVerifyKeySet, Object: c.KeySetPath, Path: c.KeySetPath, Component: CompSync, DependsOn: []string{exp},
			Description: "verify the export matches the sync database's key set"})
		mv := movesFor(CompSync)
		add(Step{ID: stop, Kind: StepStop, Object: sc.Service, Component: CompSync, DependsOn: append([]string{ver}, mv...),
			Description: "stop " + sc.Service})
		add(Step{ID: cm, Kind: StepChangeMode, Object: sc.Service, Component: CompSync, DependsOn: append([]string{stop, ver}, ready...),
			Account: c.qualified(a.Name), From: sc.Account,
			Description: fmt.Sprintf("change mode: %s -> %s, empty password", sc.Account, c.qualified(a.Name))})
		add(Step{ID: rest, Kind: StepRestoreKeySet, Object: c.KeySetPath, Path: c.KeySetPath, Component: CompSync, DependsOn: []string{cm},
			Description: "restore the key set from " + c.KeySetPath})
		add(Step{ID: start, Kind: StepStart, Object: sc.Service, Component: CompSync, DependsOn: []string{rest},
			Description: "start " + sc.Service})
	}
	// The MIM Service MSI: one Change run with a page per installed feature, then each service
	// started and checked.
	cm := "change-mode:" + MSIChangeStep + at
	msi := Step{ID: cm, Kind: StepChangeMode, Object: "MIM Service MSI"}
	var pages []string
	var ex *ExchangeOptions
	var scripted []Step
	mv := movesFor(serviceSide...)
	for _, comp := range serviceSide {
		ic := h.component(comp)
		if ic == nil {
			continue
		}
		a := specs[comp]
		if c.Mode == ModeScript && !(comp == CompService && (h.Exchange != nil || c.Exchange != nil)) {
			// The password-update script, except for a MIM Service with a mailbox: only the
			// installer encrypts the Service Email Account password under the new account.
			scripted = append(scripted, Step{ID: "set-logon:" + ic.Service + at, Kind: StepSetLogon, Object: ic.Service, Component: comp,
				DependsOn: append(append([]string{installed[a.Name]}, ready...), mv...), Account: c.qualified(a.Name), From: ic.Account,
				Description: fmt.Sprintf("password-update script: %s logon %s -> %s, empty password (no change mode)", ic.Service, ic.Account, c.qualified(a.Name))})
			continue
		}
		msi.DependsOn = appendUnique(msi.DependsOn, installed[a.Name])
		msi.Pages = append(msi.Pages, Page{Component: comp, Service: ic.Service, Account: c.qualified(a.Name), From: ic.Account})
		pages = append(pages, fmt.Sprintf("%s: %s -> %s", comp, ic.Account, c.qualified(a.Name)))
		if comp == CompService {
			ex = h.Exchange
			if c.Exchange != nil {
				ex = c.Exchange
			}
			if ex != nil {
				ex = &ExchangeOptions{Online: ex.Online, MailAccount: ex.MailAccount}
				msi.Exchange = ex
				where := "Exchange on-premises"
				if ex.Online {
					where = "Exchange Online"
				}
				pages[len(pages)-1] += ", " + where + " (different user for Exchange)"
			}
		}
	}
	for _, sc := range scripted {
		add(sc)
		add(Step{ID: "start:" + sc.Object + at, Kind: StepStart, Object: sc.Object, Component: sc.Component, DependsOn: []string{sc.ID},
			Description: "start " + sc.Object})
	}
	if len(msi.Pages) == 0 {
		return
	}
	msi.Component = msi.Pages[0].Component
	msi.DependsOn = append(append(msi.DependsOn, ready...), mv...)
	msi.Description = "MIM Service MSI Change, one run, empty passwords: " + strings.Join(pages, "; ")
	add(msi)
	for _, pg := range msi.Pages {
		add(Step{ID: "start:" + pg.Service + at, Kind: StepStart, Object: pg.Service, Component: pg.Component, DependsOn: []string{cm},
			Description: "start " + pg.Service})
	}
	if ex != nil {
		if ex.Online {
			add(Step{ID: "registry:" + RegValPollExchange + at, Kind: StepRegistry, Object: RegKeyFIMService + `\` + RegValPollExchange,
				Component: CompService, DependsOn: []string{cm},
				Registry:    &RegistryWrite{Key: RegKeyFIMService, Value: RegValPollExchange, Data: RegistryValue{Kind: RegDWord, DWord: 1}},
				Description: "set PollExchangeEnabled = 1 (Exchange Online approvals)"})
		}
		add(Step{ID: "exchange-check" + at, Kind: StepExchangeCheck, Object: RegKeyFIMServiceConfig, Component: CompService,
			DependsOn: []string{cm}, Exchange: ex,
			Description: "ExchangeOnline / ExchangeOnPremise: exactly the unused one empty"})
	}
}

// planVerify adds the verification steps: Test-ADServiceAccount on every host for every gMSA it
// uses, every converted service running under its gMSA, and a Kerberos ticket to every SPN
// accepted by the host that runs it.
func (e *Engine) planVerify(p *Plan, est *Estate, specs map[Component]AccountSpec) {
	for _, h := range est.Hosts {
		at := "@" + h.Host
		seen := map[string]bool{}
		for _, ic := range h.Components {
			if !ic.Component.Convertible() {
				continue
			}
			a := specs[ic.Component]
			if !seen[a.Name] {
				seen[a.Name] = true
				p.Steps = append(p.Steps, Step{ID: "verify-gmsa:" + a.Name + at, Kind: StepVerifyGMSA, Host: h.Host, Object: a.Name,
					Component: ic.Component, DependsOn: []string{"start:" + ic.Service + at},
					Description: "Test-ADServiceAccount " + a.Name + " is True"})
			}
		}
		for _, ic := range h.Components {
			if !ic.Component.Convertible() {
				continue
			}
			a := specs[ic.Component]
			p.Steps = append(p.Steps, Step{ID: "verify-service:" + ic.Service + at, Kind: StepVerifyService, Host: h.Host,
				Object: ic.Service, Component: ic.Component, Account: e.cfg.qualified(a.Name),
				DependsOn: []string{"start:" + ic.Service + at}, Description: ic.Service + " running as " + e.cfg.qualified(a.Name)})
			for _, spn := range a.SPNs {
				if !spnOnHost(spn, h.Host, ic.Component) {
					continue
				}
				p.Steps = append(p.Steps, Step{ID: "verify-kerberos:" + spn + at, Kind: StepVerifyKerb, Host: h.Host, Object: spn,
					Component: ic.Component, Account: e.cfg.qualified(a.Name), DependsOn: []string{"start:" + ic.Service + at},
					Description: "a ticket to " + spn + " decrypts on the host with " + a.Name + "$'s key"})
			}
		}
	}
}

// spnOnHost decides on which host an SPN is checked: a host-qualified SPN (FIMService/host,
// PCNSCLNT/host) on that host; any other SPN of a component on every host running it.
func spnOnHost(spn, host string, comp Component) bool {
	i := strings.Index(spn, "/")
	if i < 0 {
		return true
	}
	target := strings.ToLower(strings.SplitN(spn[i+1:], ":", 2)[0])
	short := strings.SplitN(host, ".", 2)[0]
	switch strings.ToUpper(spn[:i]) {
	case "FIMSERVICE", "PCNSCLNT":
		return target == host || target == short
	}
	return true
}

func withoutSync(hs []HostInventory) []HostInventory {
	var out []HostInventory
	for _, h := range hs {
		if h.component(CompSync) == nil {
			out = append(out, h)
		}
	}
	return out
}
