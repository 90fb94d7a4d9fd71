package migrate_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gmsasim/gmsasim/migrate"
	"github.com/go-ldap/ldap/v3"
)

// fakeHost is the test's HostAgent: a MIM host with services, a key-set file system, a registry,
// and Test-ADServiceAccount / Kerberos answered by the simulated DC over LDAPS (the host binds as
// its computer account and reads msDS-ManagedPassword, as a Windows host retrieves it).
type fakeHost struct {
	mu        sync.Mutex
	name      string // dns name
	sam       string // computer sAMAccountName
	os        migrate.OSInfo
	comps     []migrate.InstalledComponent
	inv       migrate.Inventory
	svcs      map[string]*migrate.ServiceStatus
	files     map[string][]byte
	dbKey     []byte // the sync database's key set
	keyLoaded bool   // the sync service holds its key set
	syncPw    string // current sync account password (for the export)
	reg       map[string]migrate.RegistryValue
	trigger   bool
	installed map[string]bool
	td        *testDomain
	log       []string
	exports   int // ExportKeySet calls that wrote a file
	violation string
}

func newFakeHost(td *testDomain, short string, osv migrate.OSInfo, comps ...migrate.InstalledComponent) *fakeHost {
	h := &fakeHost{name: strings.ToLower(short) + ".contoso.com", sam: short + "$", os: osv, svcs: map[string]*migrate.ServiceStatus{},
		files: map[string][]byte{}, reg: map[string]migrate.RegistryValue{}, installed: map[string]bool{}, td: td}
	for _, c := range comps {
		h.inv.Components = append(h.inv.Components, c)
		h.svcs[strings.ToLower(c.Service)] = &migrate.ServiceStatus{Name: c.Service, Kind: c.Kind, State: migrate.StateRunning, StartType: "Automatic", Account: c.Account}
		if c.Component == migrate.CompSync {
			sum := sha256.Sum256([]byte("keyset of " + h.name))
			h.dbKey, h.keyLoaded, h.syncPw = sum[:], true, "Sync-pw1!"
		}
	}
	return h
}

func (h *fakeHost) errf(op, item string, kind error, format string, args ...any) error {
	return &migrate.AgentError{Host: h.name, Op: op, Item: item, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

func (h *fakeHost) Host() string { return h.name }

func (h *fakeHost) OSInfo(context.Context) (migrate.OSInfo, error) { return h.os, nil }

func (h *fakeHost) Components(context.Context) (migrate.Inventory, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	inv := h.inv
	inv.Components = nil
	for _, c := range h.inv.Components {
		c.Account = h.svcs[strings.ToLower(c.Service)].Account
		inv.Components = append(inv.Components, c)
	}
	return inv, nil
}

func (h *fakeHost) QueryService(_ context.Context, name string) (migrate.ServiceStatus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.svcs[strings.ToLower(name)]
	if !ok {
		return migrate.ServiceStatus{}, h.errf("QueryService", name, migrate.ErrNotFound, "no such service")
	}
	return *s, nil
}

func (h *fakeHost) StopService(_ context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.svcs[strings.ToLower(name)]
	if !ok {
		return h.errf("StopService", name, migrate.ErrNotFound, "no such service")
	}
	s.State = migrate.StateStopped
	h.log = append(h.log, "stop "+name)
	return nil
}

func (h *fakeHost) StartService(ctx context.Context, name string) error {
	h.mu.Lock()
	s, ok := h.svcs[strings.ToLower(name)]
	if !ok {
		h.mu.Unlock()
		return h.errf("StartService", name, migrate.ErrNotFound, "no such service")
	}
	acct := s.Account
	isSync := h.componentOf(name) == migrate.CompSync
	loaded := h.keyLoaded
	h.mu.Unlock()
	if strings.HasSuffix(acct, "$") {
		if ok, _ := h.TestServiceAccount(ctx, acct); !ok {
			h.setState(name, migrate.StateFailed)
			return h.errf("StartService", name, migrate.ErrServiceFailed, "logon failure: cannot retrieve the password of %s", acct)
		}
	}
	if isSync && !loaded {
		h.setState(name, migrate.StateFailed)
		return h.errf("StartService", name, migrate.ErrServiceFailed, "the encryption key set is missing: restore it")
	}
	h.setState(name, migrate.StateRunning)
	return nil
}

func (h *fakeHost) setState(name string, st migrate.ServiceState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.svcs[strings.ToLower(name)].State = st
	h.log = append(h.log, fmt.Sprintf("%s %s", strings.ToLower(string(st)), name))
}

func (h *fakeHost) componentOf(service string) migrate.Component {
	for _, c := range h.inv.Components {
		if strings.EqualFold(c.Service, service) {
			return c.Component
		}
	}
	return ""
}

func (h *fakeHost) ChangeMode(_ context.Context, req migrate.ChangeModeRequest) (migrate.ChangeModeResult, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// One run: every page is checked before any changes (an MSI rolls back a refused run).
	svcs := map[migrate.Component]*migrate.ServiceStatus{}
	for _, pg := range req.Pages() {
		for _, c := range h.inv.Components {
			if c.Component == pg.Component {
				svcs[pg.Component] = h.svcs[strings.ToLower(c.Service)]
			}
		}
		if svcs[pg.Component] == nil {
			return migrate.ChangeModeResult{}, h.errf("ChangeMode", string(pg.Component), migrate.ErrNotInstalled, "not installed")
		}
		gmsa := strings.HasSuffix(pg.Account, "$")
		if gmsa && pg.Password != "" {
			return migrate.ChangeModeResult{}, h.errf("ChangeMode", pg.Account, migrate.ErrRejected, "a managed account takes no password")
		}
		if !gmsa && pg.Password == "" {
			return migrate.ChangeModeResult{}, h.errf("ChangeMode", pg.Account, migrate.ErrRejected, "the password is required (a gMSA needs its '$')")
		}
	}
	var warn []string
	for _, pg := range req.Pages() {
		gmsa := strings.HasSuffix(pg.Account, "$")
		if pg.Component == migrate.CompSync {
			if _, ok := h.files[`C:\Windows\system32\miiskeys-1.bin`]; !ok && len(h.files) == 0 {
				h.violation = "sync change mode without a key-set export"
			}
			h.keyLoaded = false
		}
		if pg.Component == migrate.CompService && req.Exchange != nil {
			on, onp := "", "enc:"+req.Exchange.MailAccount
			if req.Exchange.Online {
				on, onp = onp, ""
			}
			h.reg[migrate.RegKeyFIMServiceConfig+`\`+migrate.RegValExchangeOnline] = migrate.RegistryValue{Kind: migrate.RegString, String: on}
			h.reg[migrate.RegKeyFIMServiceConfig+`\`+migrate.RegValExchangeOnPrem] = migrate.RegistryValue{Kind: migrate.RegString, String: onp}
		}
		svc := svcs[pg.Component]
		svc.Account = pg.Account
		svc.State = migrate.StateStopped
		if pg.Component == migrate.CompSync && !gmsa {
			h.syncPw = pg.Password
		}
		h.log = append(h.log, "change-mode "+string(pg.Component)+" "+pg.Account)
		if gmsa {
			warn = append(warn, "Please check if Service Account is secure in its current configuration")
		}
	}
	return migrate.ChangeModeResult{Account: req.Account, Warnings: warn}, nil
}

func (h *fakeHost) SetServiceAccount(_ context.Context, name, account, password string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	svc := h.svcs[strings.ToLower(name)]
	if svc == nil {
		return h.errf("SetServiceAccount", name, migrate.ErrNotFound, "no such service")
	}
	if h.componentOf(name) == migrate.CompSync {
		return h.errf("SetServiceAccount", name, migrate.ErrRejected, "the sync service's keys are bound to its account")
	}
	gmsa := strings.HasSuffix(account, "$")
	if gmsa == (password != "") {
		return h.errf("SetServiceAccount", account, migrate.ErrRejected, "a gMSA takes no password, a user account its password")
	}
	svc.Account = account
	svc.State = migrate.StateStopped
	h.log = append(h.log, "set-logon "+name+" "+account)
	return nil
}

func (h *fakeHost) ExportKeySet(_ context.Context, req migrate.KeySetExportRequest) (migrate.KeySetInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.files[req.Path]; ok {
		return migrate.KeySetInfo{}, h.errf("ExportKeySet", req.Path, migrate.ErrExists, "file exists")
	}
	cur := h.svcs[strings.ToLower(h.syncService())].Account
	if !strings.EqualFold(cur, req.Domain+`\`+req.Account) || req.Password != h.syncPw {
		return migrate.KeySetInfo{}, h.errf("ExportKeySet", req.Account, migrate.ErrAccessDenied, "wrong sync service account credentials")
	}
	h.files[req.Path] = append([]byte(nil), h.dbKey...)
	h.exports++
	return h.info(req.Path), nil
}

func (h *fakeHost) syncService() string {
	for _, c := range h.inv.Components {
		if c.Component == migrate.CompSync {
			return c.Service
		}
	}
	return ""
}

func (h *fakeHost) info(path string) migrate.KeySetInfo {
	sum := sha256.Sum256(h.files[path])
	return migrate.KeySetInfo{Path: path, Size: int64(len(h.files[path])), SHA256: hex.EncodeToString(sum[:]), KeyID: hex.EncodeToString(h.dbKey[:4])}
}

func (h *fakeHost) VerifyKeySet(_ context.Context, path string) (migrate.KeySetInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, ok := h.files[path]
	if !ok {
		return migrate.KeySetInfo{}, h.errf("VerifyKeySet", path, migrate.ErrNotFound, "no file")
	}
	if !bytes.Equal(b, h.dbKey) {
		return migrate.KeySetInfo{}, h.errf("VerifyKeySet", path, migrate.ErrInvalid, "not this database's key set")
	}
	return h.info(path), nil
}

func (h *fakeHost) RestoreKeySet(_ context.Context, path string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, ok := h.files[path]
	if !ok || !bytes.Equal(b, h.dbKey) {
		return h.errf("RestoreKeySet", path, migrate.ErrInvalid, "no matching key set")
	}
	h.keyLoaded = true
	h.log = append(h.log, "restore "+path)
	return nil
}

func (h *fakeHost) ReadRegistry(_ context.Context, key, value string) (migrate.RegistryValue, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.reg[key+`\`+value]
	if !ok {
		return v, h.errf("ReadRegistry", value, migrate.ErrNotFound, "absent")
	}
	return v, nil
}

func (h *fakeHost) WriteRegistry(_ context.Context, key, value string, v migrate.RegistryValue) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reg[key+`\`+value] = v
	return nil
}

func (h *fakeHost) KDSSvcTrigger(context.Context) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.trigger, nil
}

func (h *fakeHost) SetKDSSvcTrigger(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.trigger = true
	return nil
}

func (h *fakeHost) PurgeMachineTickets(context.Context) error { return nil }

func (h *fakeHost) InstallServiceAccount(ctx context.Context, name string) error {
	ok, err := h.TestServiceAccount(ctx, name)
	if err != nil || !ok {
		return h.errf("InstallServiceAccount", name, migrate.ErrAccessDenied, "cannot retrieve the managed password: %v", err)
	}
	h.mu.Lock()
	h.installed[strings.ToLower(strings.TrimSuffix(name, "$"))] = true
	h.mu.Unlock()
	return nil
}

// TestServiceAccount binds to the DC the host uses as the computer account over LDAPS and reads
// msDS-ManagedPassword: the DC decides (membership descriptor, root key).
func (h *fakeHost) TestServiceAccount(_ context.Context, name string) (bool, error) {
	name = name[strings.LastIndex(name, `\`)+1:]
	name = strings.TrimSuffix(name, "$") + "$"
	dc := h.os.DC
	ep := h.td.eps[dc]
	c, err := ldap.DialURL("ldaps://"+ep.Addr, ldap.DialWithTLSConfig(ep.TLS))
	if err != nil {
		return false, h.errf("TestServiceAccount", name, migrate.ErrUnreachable, "%v", err)
	}
	defer c.Close()
	if err := c.Bind(`CONTOSO\`+h.sam, h.td.hostPw[h.sam]); err != nil {
		return false, h.errf("TestServiceAccount", name, migrate.ErrAccessDenied, "%v", err)
	}
	res, err := c.Search(ldap.NewSearchRequest("DC=contoso,DC=com", ldap.ScopeWholeSubtree, 0, 0, 0, false,
		"(sAMAccountName="+ldap.EscapeFilter(name)+")", []string{"msDS-ManagedPassword"}, nil))
	if err != nil || len(res.Entries) != 1 {
		return false, nil
	}
	return len(res.Entries[0].GetRawAttributeValue("msDS-ManagedPassword")) > 0, nil
}

// VerifyKerberos: the SPN's owner in the directory must be the account the service runs under.
func (h *fakeHost) VerifyKerberos(_ context.Context, spn string) (string, error) {
	ep := h.td.eps[h.os.DC]
	c, err := ldap.DialURL("ldaps://"+ep.Addr, ldap.DialWithTLSConfig(ep.TLS))
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.Bind(`CONTOSO\Administrator`, adminPassword); err != nil {
		return "", err
	}
	res, err := c.Search(ldap.NewSearchRequest("DC=contoso,DC=com", ldap.ScopeWholeSubtree, 0, 0, 0, false,
		"(servicePrincipalName="+ldap.EscapeFilter(spn)+")", []string{"sAMAccountName"}, nil))
	if err != nil || len(res.Entries) != 1 {
		return "", h.errf("VerifyKerberos", spn, migrate.ErrNotFound, "KDC_ERR_S_PRINCIPAL_UNKNOWN (%d owners)", len(res.Entries))
	}
	owner := `CONTOSO\` + res.Entries[0].GetAttributeValue("sAMAccountName")
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.svcs {
		if strings.EqualFold(s.Account, owner) && s.State == migrate.StateRunning {
			return owner, nil
		}
	}
	return "", h.errf("VerifyKerberos", spn, migrate.ErrServiceFailed, "KRB_AP_ERR_MODIFIED: no service here runs as %s", owner)
}

// state renders everything observable on the host, sorted, for end-state comparisons.
func (h *fakeHost) state() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var lines []string
	for _, s := range h.svcs {
		lines = append(lines, fmt.Sprintf("svc %s %s %s", s.Name, s.State, s.Account))
	}
	for p, b := range h.files {
		sum := sha256.Sum256(b)
		lines = append(lines, fmt.Sprintf("file %s %x", p, sum[:8]))
	}
	for k, v := range h.reg {
		lines = append(lines, fmt.Sprintf("reg %s %v", k, v))
	}
	for k := range h.installed {
		lines = append(lines, "installed "+k)
	}
	lines = append(lines, fmt.Sprintf("trigger %t keyLoaded %t", h.trigger, h.keyLoaded))
	sort.Strings(lines)
	return h.name + "\n  " + strings.Join(lines, "\n  ")
}
