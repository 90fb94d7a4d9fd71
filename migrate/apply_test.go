package migrate_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/migrate"
)

func TestApplyConvertsTheMIMEstate(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	_, rep, plan := m.prepare(t)
	if !rep.OK() {
		t.Fatalf("preflight blockers:\n%s", rep.Text())
	}
	var progress bytes.Buffer
	res, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal, Progress: &progress})
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, progress.String())
	}
	if len(res.Ran) != len(plan.Steps) || len(res.Skipped) != 0 {
		t.Errorf("ran %d skipped %d of %d steps", len(res.Ran), len(res.Skipped), len(plan.Steps))
	}
	want := map[*fakeHost]map[string]string{
		m.sync: {"FIMSynchronizationService": `CONTOSO\MIMSyncGMSA$`},
		m.service: {"FIMService": `CONTOSO\MIMServiceGMSA$`, "MIM Password Registration": `CONTOSO\SSPRRegGMSA$`,
			"MIM Password Reset": `CONTOSO\SSPRResetGMSA$`, "SharePoint - 80": `CONTOSO\svc-sharepoint`},
		m.pam: {"MIM Privileged Access Management REST API": `CONTOSO\PAMRestGMSA$`, "PamMonitoringService": `CONTOSO\PAMMonitorGMSA$`,
			"PrivilegeManagementComponentService": `CONTOSO\PAMCompGMSA$`},
	}
	for h, svcs := range want {
		for name, acct := range svcs {
			st, err := h.QueryService(m.ctx, name)
			mustf(t, err, "query %s", name)
			if st.Account != acct || st.State != migrate.StateRunning {
				t.Errorf("%s %s: %s as %s, want Running as %s", h.name, name, st.State, st.Account, acct)
			}
		}
	}
	if m.sync.exports != 1 || !m.sync.keyLoaded {
		t.Errorf("sync: %d exports, key loaded %t; want 1, true", m.sync.exports, m.sync.keyLoaded)
	}
	if v, err := m.service.ReadRegistry(m.ctx, migrate.RegKeyFIMService, migrate.RegValPollExchange); err != nil || v.DWord != 1 {
		t.Errorf("PollExchangeEnabled = %+v, %v; want 1", v, err)
	}
	if !m.service.trigger || m.pam.trigger || m.sync.trigger {
		t.Errorf("kdssvc trigger: sync %t service %t pam %t; want only the 2012 R2 host", m.sync.trigger, m.service.trigger, m.pam.trigger)
	}
	if n := strings.Count(strings.Join(res.Warnings, "\n"), "Please check if Service Account is secure"); n != 7 {
		t.Errorf("LogonUser warnings: %d, want 7 (one per change mode):\n%s", n, strings.Join(res.Warnings, "\n"))
	}
	// The directory as the AD module would have left it.
	c := m.admin(t)
	defer c.Close()
	get := func(filter string, attrs ...string) *ldap.Entry {
		r, err := c.Search(ldap.NewSearchRequest("DC=contoso,DC=com", ldap.ScopeWholeSubtree, 0, 0, 0, false, filter, attrs, nil))
		mustf(t, err, "search %s", filter)
		if len(r.Entries) != 1 {
			t.Fatalf("%s: %d entries", filter, len(r.Entries))
		}
		return r.Entries[0]
	}
	syncG := get("(sAMAccountName=MIMSyncGMSA$)", "dNSHostName", "servicePrincipalName", "userAccountControl",
		"msDS-ManagedPasswordInterval", "msDS-SupportedEncryptionTypes", "msDS-GroupMSAMembership", "distinguishedName")
	if syncG.DN != "CN=MIMSyncGMSA,CN=Managed Service Accounts,DC=contoso,DC=com" ||
		syncG.GetAttributeValue("dNSHostName") != "mimsyncgmsa.contoso.com" ||
		syncG.GetAttributeValue("servicePrincipalName") != "PCNSCLNT/mimsync.contoso.com" ||
		syncG.GetAttributeValue("msDS-ManagedPasswordInterval") != "30" ||
		syncG.GetAttributeValue("msDS-SupportedEncryptionTypes") != "28" {
		t.Errorf("sync gMSA: %s %v", syncG.DN, syncG.Attributes)
	}
	grp := get("(sAMAccountName=MIMSync_Servers)", "objectSid", "member")
	if got := grp.GetAttributeValues("member"); len(got) != 1 || got[0] != "CN=MIMSYNC,CN=Computers,DC=contoso,DC=com" {
		t.Errorf("MIMSync_Servers members %v", got)
	}
	sid, _ := ad.SIDFromBytes(grp.GetRawAttributeValue("objectSid"))
	if !bytes.Equal(syncG.GetRawAttributeValue("msDS-GroupMSAMembership"), ad.GMSAMembership(sid)) {
		t.Errorf("msDS-GroupMSAMembership is not O:BAD:(A;;0xf01ff;;;<MIMSync_Servers>)")
	}
	pamRest := get("(sAMAccountName=PAMRestGMSA$)", "userAccountControl", "msDS-AllowedToDelegateTo", "servicePrincipalName")
	if pamRest.GetAttributeValue("userAccountControl") != "528384" || // 0x1000 | 0x80000
		strings.Join(pamRest.GetAttributeValues("msDS-AllowedToDelegateTo"), ",") != "http/mim,http/mim.contoso.com" {
		t.Errorf("PAM REST gMSA: %v", pamRest.Attributes)
	}
	svcG := get("(sAMAccountName=MIMServiceGMSA$)", "servicePrincipalName", "distinguishedName")
	if svcG.GetAttributeValue("servicePrincipalName") != "FIMService/mimsvc.contoso.com" {
		t.Errorf("MIM Service SPNs %v", svcG.GetAttributeValues("servicePrincipalName"))
	}
	browse := get("(sAMAccountName=MIMSyncBrowse)", "member")
	if got := browse.GetAttributeValues("member"); len(got) != 1 || got[0] != svcG.DN {
		t.Errorf("MIMSyncBrowse members %v, want the MIM Service gMSA", got)
	}
	// A second apply of the same plan with a new journal changes nothing.
	before := m.state(t)
	_, err = m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal + ".2"})
	mustf(t, err, "second apply")
	if after := m.state(t); after != before {
		t.Errorf("second apply changed the state:\n%s\nwant\n%s", after, before)
	}
}

func sidString(b []byte) string {
	sid, err := ad.SIDFromBytes(b)
	if err != nil {
		return ""
	}
	return sid.String()
}

func TestResumeRefusesARolledBackJournalAndApplyAnExistingOne(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	_, rep, plan := m.prepare(t)
	_, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal})
	mustf(t, err, "apply")
	if _, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal}); !errors.Is(err, migrate.ErrJournal) {
		t.Errorf("apply over an existing journal: %v, want ErrJournal", err)
	}
	_, err = m.eng.Rollback(m.ctx, migrate.Options{Journal: m.journal})
	mustf(t, err, "rollback")
	if _, err := m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal}); !errors.Is(err, migrate.ErrJournal) {
		t.Errorf("resume after rollback: %v, want ErrJournal", err)
	}
}
