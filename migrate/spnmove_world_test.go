package migrate_test

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/migrate"
)

// spnsOf reads sAMAccountName's SPNs, delegation and TRUSTED_FOR_DELEGATION bit as one line.
func spnsOf(t *testing.T, m *mimWorld, sam string) string {
	t.Helper()
	c := m.admin(t)
	defer c.Close()
	res, err := c.Search(ldap.NewSearchRequest("DC=contoso,DC=com", ldap.ScopeWholeSubtree, 0, 0, 0, false,
		"(sAMAccountName="+ldap.EscapeFilter(sam)+")", []string{"servicePrincipalName", "msDS-AllowedToDelegateTo", "userAccountControl"}, nil))
	mustf(t, err, "search %s", sam)
	if len(res.Entries) != 1 {
		t.Fatalf("%s: %d entries", sam, len(res.Entries))
	}
	e := res.Entries[0]
	spns, del := e.GetAttributeValues("servicePrincipalName"), e.GetAttributeValues("msDS-AllowedToDelegateTo")
	sort.Strings(spns)
	sort.Strings(del)
	uac, err := strconv.ParseInt(e.GetAttributeValue("userAccountControl"), 10, 64)
	mustf(t, err, "userAccountControl of %s", sam)
	trusted := "no"
	if uac&migrate.UACTrustedForDelegation != 0 {
		trusted = "yes"
	}
	return "spns=" + strings.Join(spns, ",") + " delegate-to=" + strings.Join(del, ",") + " trusted=" + trusted
}

// TestSPNMoveSurvivesACrashBetweenRemoveAndAdd: the old MIM Service account holds FIMService/ SPNs
// and constrained delegation; the move strips it, then a crash leaves the gMSA without them (the
// state between the two writes). Resume finishes the move from the journal; rollback puts
// everything back on the old account.
func TestSPNMoveSurvivesACrashBetweenRemoveAndAdd(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	c := m.admin(t)
	add := ldap.NewAddRequest("CN=svc-mimservice,CN=Users,DC=contoso,DC=com", nil)
	add.Attribute("objectClass", []string{"user"})
	add.Attribute("sAMAccountName", []string{"svc-mimservice"})
	add.Attribute("userAccountControl", []string{"524800"}) // NORMAL_ACCOUNT | TRUSTED_FOR_DELEGATION
	add.Attribute("servicePrincipalName", []string{"FIMService/mimsvc.contoso.com", "FIMService/mimsvc"})
	add.Attribute("msDS-AllowedToDelegateTo", []string{"http/mim", "http/mim.contoso.com"})
	mustf(t, c.Add(add), "add svc-mimservice")
	c.Close()
	const oldHas = "spns=FIMService/mimsvc,FIMService/mimsvc.contoso.com delegate-to=http/mim,http/mim.contoso.com trusted=yes"

	_, rep, plan := m.prepare(t)
	var lines []string
	for _, ch := range rep.Checks {
		if ch.ID == "spn-move" {
			lines = append(lines, ch.Detail)
		}
	}
	if len(lines) != 5 {
		t.Errorf("preflight lists %d moves, want 5 (2 SPNs, 2 delegation targets, trusted):\n%s", len(lines), strings.Join(lines, "\n"))
	}
	const step = "move-spns:svc-mimservice"
	_, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal,
		Interrupt: func(s string, at migrate.CrashPoint) bool { return s == step && at == migrate.AfterStep }})
	if !errors.Is(err, migrate.ErrInterrupted) {
		t.Fatalf("apply: %v, want ErrInterrupted", err)
	}
	// Undo the add half: what a crash after the removal and before the add leaves.
	c = m.admin(t)
	del := ldap.NewModifyRequest("CN=MIMServiceGMSA,CN=Managed Service Accounts,DC=contoso,DC=com", nil)
	del.Delete("servicePrincipalName", nil)
	del.Delete("msDS-AllowedToDelegateTo", nil)
	del.Replace("userAccountControl", []string{"4096"})
	mustf(t, c.Modify(del), "strip the gMSA")
	c.Close()
	if got := spnsOf(t, m, "svc-mimservice"); got != "spns= delegate-to= trusted=no" {
		t.Fatalf("old account after the removal: %s", got)
	}
	_, err = m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal})
	mustf(t, err, "resume")
	if got := spnsOf(t, m, "MIMServiceGMSA$"); got != oldHas {
		t.Errorf("gMSA after resume: %s, want %s", got, oldHas)
	}
	if got := spnsOf(t, m, "svc-mimservice"); got != "spns= delegate-to= trusted=no" {
		t.Errorf("old account after resume: %s, want nothing", got)
	}
	_, err = m.eng.Rollback(m.ctx, migrate.Options{Journal: m.journal})
	mustf(t, err, "rollback")
	if got := spnsOf(t, m, "svc-mimservice"); got != oldHas {
		t.Errorf("old account after rollback: %s, want %s", got, oldHas)
	}
	if got := spnsOf(t, m, "MIMServiceGMSA$"); got != "spns= delegate-to= trusted=no" {
		t.Errorf("gMSA after rollback: %s, want nothing", got)
	}
}
