package migrate_test

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/migrate"
)

var (
	os2019  = migrate.OSInfo{Version: "10.0", Build: 17763, Caption: "Windows Server 2019 Datacenter", Is64Bit: true, DC: "dc1.contoso.com"}
	os2016  = migrate.OSInfo{Version: "10.0", Build: 14393, Caption: "Windows Server 2016 Standard", Is64Bit: true, DC: "dc1.contoso.com"}
	os2012R = migrate.OSInfo{Version: "6.3", Build: 9600, Caption: "Windows Server 2012 R2 Standard", Is64Bit: true, DC: "dc1.contoso.com"}
)

func comp(c migrate.Component, svc string, kind migrate.ServiceKind, acct string) migrate.InstalledComponent {
	return migrate.InstalledComponent{Component: c, Version: "4.5.286.0", Service: svc, Kind: kind, Account: `CONTOSO\` + acct}
}

// mimWorld is the full MIM estate: a sync server with PCNS, a MIM Service + SSPR + Portal server
// on 2012 R2 with Exchange Online, and a PAM server.
type mimWorld struct {
	td                 *testDomain
	sync, service, pam *fakeHost
	hosts              []migrate.HostAgent
	cfg                migrate.Config
	eng                *migrate.Engine
	journal            string
	ctx                context.Context
}

func newMIMWorld(t testing.TB, o worldOpts) *mimWorld {
	t.Helper()
	if o.hosts == nil {
		o.hosts = []string{"MIMSYNC", "MIMSVC", "MIMPAM"}
	}
	o.syncGroups = true
	td := newDomain(t, o)
	m := &mimWorld{td: td, ctx: context.Background(), journal: filepath.Join(t.TempDir(), "journal.json")}
	m.sync = newFakeHost(td, "MIMSYNC", os2019,
		comp(migrate.CompSync, "FIMSynchronizationService", migrate.KindService, "svc-mimsync"))
	m.sync.inv.ManagementAgents = []migrate.ManagementAgent{{Name: "MIM Service MA", Type: "FIM"}, {Name: "Contoso AD", Type: "AD"}}
	m.sync.inv.PCNS = true
	m.service = newFakeHost(td, "MIMSVC", os2012R,
		comp(migrate.CompService, "FIMService", migrate.KindService, "svc-mimservice"),
		comp(migrate.CompPortal, "SharePoint - 80", migrate.KindAppPool, "svc-sharepoint"),
		comp(migrate.CompSSPRRegistration, "MIM Password Registration", migrate.KindAppPool, "svc-sspr"),
		comp(migrate.CompSSPRReset, "MIM Password Reset", migrate.KindAppPool, "svc-sspr"))
	m.service.inv.Exchange = &migrate.ExchangeOptions{Online: true, MailAccount: "mimmail@contoso.com"}
	m.pam = newFakeHost(td, "MIMPAM", os2016,
		comp(migrate.CompPAMREST, "MIM Privileged Access Management REST API", migrate.KindAppPool, "svc-pam"),
		comp(migrate.CompPAMMonitoring, "PamMonitoringService", migrate.KindService, "svc-pam"),
		comp(migrate.CompPAMComponent, "PrivilegeManagementComponentService", migrate.KindService, "svc-pam"))
	m.hosts = []migrate.HostAgent{m.sync, m.service, m.pam}
	m.cfg = td.config(m.hosts)
	eng, err := migrate.New(m.cfg)
	mustf(t, err, "migrate.New")
	m.eng = eng
	return m
}

// prepare takes the inventory, runs preflight and makes the plan.
func (m *mimWorld) prepare(t testing.TB) (*migrate.Estate, *migrate.Report, *migrate.Plan) {
	t.Helper()
	est, err := m.eng.Inventory(m.ctx)
	mustf(t, err, "inventory")
	rep, err := m.eng.Preflight(m.ctx, est)
	mustf(t, err, "preflight")
	plan, err := m.eng.MakePlan(est)
	mustf(t, err, "plan")
	return est, rep, plan
}

// state is every host's state and the directory objects the migration touches.
func (m *mimWorld) state(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, h := range []*fakeHost{m.sync, m.service, m.pam} {
		b.WriteString(h.state() + "\n")
	}
	b.WriteString(m.dirState(t))
	return b.String()
}

func (m *mimWorld) admin(t testing.TB) *ldap.Conn {
	t.Helper()
	ep := m.td.eps[m.td.first]
	c, err := ldap.DialURL("ldaps://"+ep.Addr, ldap.DialWithTLSConfig(ep.TLS))
	mustf(t, err, "dial")
	mustf(t, c.Bind(`CONTOSO\Administrator`, adminPassword), "bind")
	return c
}

func (m *mimWorld) dirState(t testing.TB) string {
	t.Helper()
	c := m.admin(t)
	defer c.Close()
	attrs := []string{"sAMAccountName", "member", "dNSHostName", "servicePrincipalName", "msDS-AllowedToDelegateTo",
		"userAccountControl", "msDS-ManagedPasswordInterval", "msDS-SupportedEncryptionTypes", "msDS-GroupMSAMembership"}
	res, err := c.Search(ldap.NewSearchRequest("DC=contoso,DC=com", ldap.ScopeWholeSubtree, 0, 0, 0, false,
		"(|(objectClass=msDS-GroupManagedServiceAccount)(sAMAccountName=MIM*))", attrs, nil))
	mustf(t, err, "search")
	var lines []string
	for _, e := range res.Entries {
		var parts []string
		for _, a := range attrs {
			vals := e.GetAttributeValues(a)
			if a == "msDS-GroupMSAMembership" {
				var sids []ad.SID
				if sd, err := ad.ParseSecurityDescriptor(e.GetRawAttributeValue(a)); err == nil {
					sids = sd.AllowedSIDs()
				}
				vals = nil
				for _, s := range sids {
					vals = append(vals, s.String())
				}
			}
			sort.Strings(vals)
			parts = append(parts, a+"="+strings.Join(vals, ";"))
		}
		lines = append(lines, e.DN+" "+strings.Join(parts, " "))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func stepErr(t testing.TB, err error) *migrate.StepError {
	t.Helper()
	var se *migrate.StepError
	if !errors.As(err, &se) {
		t.Fatalf("want a *StepError, got %T: %v", err, err)
	}
	return se
}
