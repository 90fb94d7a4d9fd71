package mimagent

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/sim/host"
	"github.com/gmsasim/gmsasim/sim/mim"
)

// Agent is migrate.HostAgent over one simulated MIM host.
type Agent struct {
	mh *mim.Host
}

var _ migrate.HostAgent = (*Agent)(nil)

// New is the agent of one MIM host.
func New(mh *mim.Host) *Agent { return &Agent{mh: mh} }

// ForMIM is one agent per MIM host of the deployment, in the order the hosts were added.
func ForMIM(m *mim.Deployment) []migrate.HostAgent {
	var out []migrate.HostAgent
	for _, mh := range m.Hosts() {
		out = append(out, New(mh))
	}
	return out
}

// Host is the host's DNS name.
func (a *Agent) Host() string { return a.mh.FQDN() }

func (a *Agent) fail(op, item string, kind error, err error) error {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	return &migrate.AgentError{Host: a.Host(), Op: op, Item: item, Kind: kind, Msg: msg}
}

// osFacts maps the simulator's OS names to Win32_OperatingSystem's version and build.
var osFacts = map[string]struct {
	version string
	build   int
}{
	"2008R2": {"6.1", 7601}, "2012": {"6.2", 9200}, "2012R2": {"6.3", 9600}, "2016": {"10.0", 14393},
	"2019": {"10.0", 17763}, "2022": {"10.0", 20348}, "2025": {"10.0", 26100},
}

// OSInfo reports the host's OS, architecture, cluster membership and DC.
func (a *Agent) OSInfo(ctx context.Context) (migrate.OSInfo, error) {
	if err := ctx.Err(); err != nil {
		return migrate.OSInfo{}, a.fail("OSInfo", "", migrate.ErrUnreachable, err)
	}
	spec := a.mh.Host().Spec()
	f := osFacts[spec.OS]
	caption := "Windows Server " + spec.OS + " Datacenter"
	if spec.OS == "2012R2" || spec.OS == "2008R2" {
		caption = "Windows Server " + strings.TrimSuffix(spec.OS, "R2") + " R2 Datacenter"
	}
	domain := a.mh.DNSDomain()
	return migrate.OSInfo{Version: f.version, Build: f.build, Caption: caption, Is64Bit: !spec.X86,
		Clustered: spec.Cluster, DC: strings.ToLower(a.mh.Host().DC()) + "." + domain}, nil
}

// kindOf maps the simulator's workload kind to the engine's.
func kindOf(k host.WorkloadKind) migrate.ServiceKind {
	if k == host.KindAppPool {
		return migrate.KindAppPool
	}
	return migrate.KindService
}

// Components is the host's MIM inventory.
func (a *Agent) Components(ctx context.Context) (migrate.Inventory, error) {
	if err := ctx.Err(); err != nil {
		return migrate.Inventory{}, a.fail("Components", "", migrate.ErrUnreachable, err)
	}
	var inv migrate.Inventory
	for _, c := range a.mh.Components() {
		kind, name, _ := mim.Workload(c)
		acct, _ := a.mh.Account(c)
		inv.Components = append(inv.Components, migrate.InstalledComponent{Component: migrate.Component(c),
			Version: a.mh.Version(), Service: name, Kind: kindOf(kind), Account: acct})
		if c == mim.CompSync {
			inv.PCNS = a.mh.PCNS()
		}
		if c == mim.CompService && a.mh.Exchange() != mim.ExchangeNone {
			inv.Exchange = &migrate.ExchangeOptions{Online: a.mh.Exchange() == mim.ExchangeOnline}
		}
	}
	for _, ma := range a.mh.Agents() {
		inv.ManagementAgents = append(inv.ManagementAgents, migrate.ManagementAgent{Name: ma.Name, Type: ma.Type, Account: ma.Account})
	}
	return inv, nil
}

// workload finds a service (or application pool) by name.
func (a *Agent) workload(name string) (host.Workload, bool) {
	if wl, ok := a.mh.Host().Workload(host.KindService, name); ok {
		return wl, true
	}
	return a.mh.Host().Workload(host.KindAppPool, name)
}

// QueryService is the service's state, start type and account.
func (a *Agent) QueryService(ctx context.Context, name string) (migrate.ServiceStatus, error) {
	if err := ctx.Err(); err != nil {
		return migrate.ServiceStatus{}, a.fail("QueryService", name, migrate.ErrUnreachable, err)
	}
	wl, ok := a.workload(name)
	if !ok {
		return migrate.ServiceStatus{}, a.fail("QueryService", name, migrate.ErrNotFound, nil)
	}
	st := migrate.ServiceState(wl.State)
	switch {
	case wl.State == host.StateRunning:
		st = migrate.StateRunning
	case wl.State == host.StateStopped && wl.LastError != nil:
		st = migrate.StateFailed
	case wl.State == host.StateStopped:
		st = migrate.StateStopped
	}
	return migrate.ServiceStatus{Name: wl.Name, Kind: kindOf(wl.Kind), State: st, StartType: string(wl.StartType),
		Account: wl.Account}, nil
}

// StopService stops a service or application pool.
func (a *Agent) StopService(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return a.fail("StopService", name, migrate.ErrUnreachable, err)
	}
	wl, ok := a.workload(name)
	if !ok {
		return a.fail("StopService", name, migrate.ErrNotFound, nil)
	}
	if err := a.mh.Host().Stop(wl.Kind, wl.Name); err != nil {
		return a.fail("StopService", name, migrate.ErrServiceFailed, err)
	}
	return nil
}

// StartService starts a service or application pool; the sync service checks its key set.
func (a *Agent) StartService(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return a.fail("StartService", name, migrate.ErrUnreachable, err)
	}
	wl, ok := a.workload(name)
	if !ok {
		return a.fail("StartService", name, migrate.ErrNotFound, nil)
	}
	var st host.ServiceState
	var err error
	if c, isMIM := mim.ComponentByWorkload(name); isMIM && a.mh.Has(c) {
		st, err = a.mh.Start(c)
	} else {
		st, err = a.mh.Host().Start(wl.Kind, wl.Name)
	}
	if err == nil && st != host.StateRunning {
		err = errors.New("the service is " + string(st))
	}
	if err != nil {
		return a.fail("StartService", name, migrate.ErrServiceFailed, err)
	}
	return nil
}

// ChangeMode runs the installer in change mode: one run with every page of req.
func (a *Agent) ChangeMode(ctx context.Context, req migrate.ChangeModeRequest) (migrate.ChangeModeResult, error) {
	var items []string
	var sreqs []mim.ChangeModeRequest
	for _, pg := range req.Pages() {
		items = append(items, string(pg.Component)+" as "+pg.Account)
		sreqs = append(sreqs, mim.ChangeModeRequest{Component: mim.Component(pg.Component), Account: pg.Account, Password: pg.Password})
	}
	item := strings.Join(items, ", ")
	if err := ctx.Err(); err != nil {
		return migrate.ChangeModeResult{}, a.fail("ChangeMode", item, migrate.ErrUnreachable, err)
	}
	if req.Exchange != nil {
		sreqs[0].Exchange = mim.ExchangeOnPremise
		if req.Exchange.Online {
			sreqs[0].Exchange = mim.ExchangeOnline
		}
		sreqs[0].MailAccount, sreqs[0].MailPassword = req.Exchange.MailAccount, req.Exchange.MailPassword
	}
	res, err := a.mh.ChangeModeRun(sreqs)
	if err != nil {
		kind := migrate.ErrRejected
		switch {
		case errors.Is(err, mim.ErrNotInstalled):
			kind = migrate.ErrNotInstalled
		case errors.Is(err, host.ErrDCUnavailable):
			kind = migrate.ErrUnreachable
		}
		return migrate.ChangeModeResult{}, a.fail("ChangeMode", item, kind, err)
	}
	return migrate.ChangeModeResult{Account: res.Account, Warnings: res.Warnings}, nil
}

// SetServiceAccount is the password-update script on one service or app pool.
func (a *Agent) SetServiceAccount(ctx context.Context, name, account, password string) error {
	item := name + " as " + account
	if err := ctx.Err(); err != nil {
		return a.fail("SetServiceAccount", item, migrate.ErrUnreachable, err)
	}
	c, ok := mim.ComponentByWorkload(name)
	if !ok {
		return a.fail("SetServiceAccount", item, migrate.ErrNotFound, nil)
	}
	if err := a.mh.SetServiceLogon(c, account, password); err != nil {
		kind := migrate.ErrRejected
		switch {
		case errors.Is(err, mim.ErrNotInstalled):
			kind = migrate.ErrNotFound
		case errors.Is(err, host.ErrDCUnavailable):
			kind = migrate.ErrUnreachable
		}
		return a.fail("SetServiceAccount", item, kind, err)
	}
	return nil
}

func keyInfo(f mim.KeySetFile) migrate.KeySetInfo {
	return migrate.KeySetInfo{Path: f.Path, Size: int64(f.Size), SHA256: f.SHA256, KeyID: f.KeyID}
}

// ExportKeySet exports the sync key set; it never overwrites a file.
func (a *Agent) ExportKeySet(ctx context.Context, req migrate.KeySetExportRequest) (migrate.KeySetInfo, error) {
	if err := ctx.Err(); err != nil {
		return migrate.KeySetInfo{}, a.fail("ExportKeySet", req.Path, migrate.ErrUnreachable, err)
	}
	path := req.Path
	if path == "" {
		path = mim.DefaultKeySetPath
	}
	if _, ok := a.mh.KeySet(path); ok {
		return migrate.KeySetInfo{}, a.fail("ExportKeySet", path, migrate.ErrExists, nil)
	}
	f, err := a.mh.ExportKeySet(req.Account, req.Password, req.Domain, path)
	if err != nil {
		kind := migrate.ErrAccessDenied
		if errors.Is(err, mim.ErrNotInstalled) {
			kind = migrate.ErrNotInstalled
		}
		return migrate.KeySetInfo{}, a.fail("ExportKeySet", path, kind, err)
	}
	return keyInfo(f), nil
}

// VerifyKeySet checks an export against the sync database.
func (a *Agent) VerifyKeySet(ctx context.Context, path string) (migrate.KeySetInfo, error) {
	if err := ctx.Err(); err != nil {
		return migrate.KeySetInfo{}, a.fail("VerifyKeySet", path, migrate.ErrUnreachable, err)
	}
	if !a.mh.Has(mim.CompSync) {
		return migrate.KeySetInfo{}, a.fail("VerifyKeySet", path, migrate.ErrNotInstalled, nil)
	}
	f, ok := a.mh.KeySet(path)
	if !ok {
		return migrate.KeySetInfo{}, a.fail("VerifyKeySet", path, migrate.ErrNotFound, nil)
	}
	if db := a.mh.DatabaseKeyID(); f.KeyID != db {
		return keyInfo(f), a.fail("VerifyKeySet", path, migrate.ErrInvalid,
			errors.New("the file holds key set "+strconv.Quote(f.KeyID)+", the database needs "+db))
	}
	return keyInfo(f), nil
}

// RestoreKeySet restores the sync key set from an export.
func (a *Agent) RestoreKeySet(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return a.fail("RestoreKeySet", path, migrate.ErrUnreachable, err)
	}
	if err := a.mh.RestoreKeySet(path); err != nil {
		kind := migrate.ErrInvalid
		switch {
		case errors.Is(err, mim.ErrNoKeyFile):
			kind = migrate.ErrNotFound
		case errors.Is(err, mim.ErrNotInstalled):
			kind = migrate.ErrNotInstalled
		}
		return a.fail("RestoreKeySet", path, kind, err)
	}
	return nil
}

// ReadRegistry reads one value.
func (a *Agent) ReadRegistry(ctx context.Context, key, value string) (migrate.RegistryValue, error) {
	item := key + `\` + value
	if err := ctx.Err(); err != nil {
		return migrate.RegistryValue{}, a.fail("ReadRegistry", item, migrate.ErrUnreachable, err)
	}
	data, ok := a.mh.Registry(key, value)
	if !ok {
		return migrate.RegistryValue{}, a.fail("ReadRegistry", item, migrate.ErrNotFound, nil)
	}
	if a.mh.RegistryKind(key, value) == string(migrate.RegDWord) {
		n, err := strconv.ParseUint(data, 10, 32)
		if err != nil {
			return migrate.RegistryValue{}, a.fail("ReadRegistry", item, migrate.ErrInvalid, err)
		}
		return migrate.RegistryValue{Kind: migrate.RegDWord, DWord: uint32(n)}, nil
	}
	return migrate.RegistryValue{Kind: migrate.RegString, String: data}, nil
}

// WriteRegistry writes one value.
func (a *Agent) WriteRegistry(ctx context.Context, key, value string, v migrate.RegistryValue) error {
	item := key + `\` + value
	if err := ctx.Err(); err != nil {
		return a.fail("WriteRegistry", item, migrate.ErrUnreachable, err)
	}
	data := v.String
	switch v.Kind {
	case migrate.RegDWord:
		data = strconv.FormatUint(uint64(v.DWord), 10)
	case migrate.RegString:
	default:
		return a.fail("WriteRegistry", item, migrate.ErrInvalid, errors.New("unknown value kind "+strconv.Quote(string(v.Kind))))
	}
	if err := a.mh.SetRegistryValue(key, value, string(v.Kind), data); err != nil {
		return a.fail("WriteRegistry", item, migrate.ErrUnreachable, err)
	}
	return nil
}

// KDSSvcTrigger reports kdssvc's network-on trigger.
func (a *Agent) KDSSvcTrigger(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, a.fail("KDSSvcTrigger", "kdssvc", migrate.ErrUnreachable, err)
	}
	return a.mh.KDSSvcTrigger(), nil
}

// SetKDSSvcTrigger is `sc triggerinfo kdssvc start/networkon`.
func (a *Agent) SetKDSSvcTrigger(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return a.fail("SetKDSSvcTrigger", "kdssvc", migrate.ErrUnreachable, err)
	}
	out := a.mh.Host().SC("triggerinfo kdssvc start/networkon")
	if !strings.Contains(out, "SUCCESS") {
		return a.fail("SetKDSSvcTrigger", "kdssvc", migrate.ErrServiceFailed, errors.New(out))
	}
	return nil
}

// TestServiceAccount is Test-ADServiceAccount.
func (a *Agent) TestServiceAccount(ctx context.Context, name string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, a.fail("TestServiceAccount", name, migrate.ErrUnreachable, err)
	}
	res, err := a.mh.Host().TestADServiceAccount(strings.TrimSuffix(name, "$"))
	if err != nil {
		kind := migrate.ErrNotFound
		if errors.Is(err, host.ErrDCUnavailable) {
			kind = migrate.ErrUnreachable
		}
		return false, a.fail("TestServiceAccount", name, kind, err)
	}
	return res.OK, nil
}

// InstallServiceAccount is Install-ADServiceAccount.
func (a *Agent) InstallServiceAccount(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return a.fail("InstallServiceAccount", name, migrate.ErrUnreachable, err)
	}
	if err := a.mh.Host().InstallADServiceAccount(strings.TrimSuffix(name, "$")); err != nil {
		kind := migrate.ErrAccessDenied
		if errors.Is(err, host.ErrNoSuchAccount) || errors.Is(err, host.ErrNotGMSA) {
			kind = migrate.ErrNotFound
		}
		return a.fail("InstallServiceAccount", name, kind, err)
	}
	return nil
}

// VerifyKerberos gets a ticket for spn as the host and has the workload running as the SPN's
// account accept it; without such a workload the host's keys decrypt it or not.
func (a *Agent) VerifyKerberos(ctx context.Context, spn string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", a.fail("VerifyKerberos", spn, migrate.ErrUnreachable, err)
	}
	h := a.mh.Host()
	t, err := h.ServiceTicket(spn)
	if err != nil {
		return "", a.fail("VerifyKerberos", spn, migrate.ErrNotFound, err)
	}
	owner := a.mh.SPNOwner(spn)
	for _, c := range a.mh.Components() {
		kind, name, _ := mim.Workload(c)
		wl, ok := h.Workload(kind, name)
		if !ok || owner == "" || !strings.EqualFold(accountName(wl.Account), owner) {
			continue
		}
		x, err := h.Accept(kind, name, t)
		if err != nil {
			return "", a.fail("VerifyKerberos", spn, migrate.ErrServiceFailed, err)
		}
		return x.Account, nil
	}
	x, err := h.DecryptTicket(t)
	if err != nil {
		return "", a.fail("VerifyKerberos", spn, migrate.ErrServiceFailed, err)
	}
	return x.Account, nil
}

// accountName is the name part of DOMAIN\name.
func accountName(acct string) string {
	if _, n, ok := strings.Cut(acct, `\`); ok {
		return n
	}
	return acct
}

// PurgeMachineTickets is `klist -li 0x3e7 purge`: the host logs on again with its current groups.
func (a *Agent) PurgeMachineTickets(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return a.fail("PurgeMachineTickets", "0x3e7", migrate.ErrUnreachable, err)
	}
	if err := a.mh.Host().PurgeTickets(); err != nil {
		return a.fail("PurgeMachineTickets", "0x3e7", migrate.ErrUnreachable, err)
	}
	return nil
}
