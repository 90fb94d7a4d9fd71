package conform

import (
	"github.com/jcmturner/gokrb5/v8/messages"

	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// check is one behaviour of the product, run in a fresh world.
type check struct {
	Name  string
	Title string
	DCs   int // 0: 1
	Run   func(c *Ctx)
}

// checks are the suite, in report order.
var checks = []check{
	{Name: "initial-retrieval", Title: "the product fetches the gMSA's keys at its first start", Run: initialRetrieval},
	{Name: "kdc-ticket-decrypts", Title: "a ticket the KDC issues for the gMSA's SPN decrypts with the product's keys", Run: kdcTicketDecrypts},
	{Name: "next-password-in-window", Title: "inside the last 5 minutes before a rotation the product picks up the next password (kvno+1)", Run: nextPasswordInWindow},
	{Name: "previous-key-kept", Title: "a ticket issued before a rotation still decrypts after the product refreshed past it", Run: previousKeyKept},
	{Name: "removed-from-principals", Title: "removed from PrincipalsAllowedToRetrieveManagedPassword, the product reports the refusal and keeps its last good keys", Run: removedFromPrincipals},
	{Name: "aes-only", Title: "an AES-only gMSA (KerberosEncryptionType AES128,AES256)", Run: aesOnly},
	{Name: "dc-stopped", Title: "the DC the product is told to use first is stopped: it uses another", DCs: 2, Run: dcStopped},
	{Name: "replication-lag", Title: "a new gMSA a DC has not yet replicated: a clean failure there, success once replicated", DCs: 2, Run: replicationLag},
	{Name: "no-usable-root-key", Title: "no usable KDS root key: the product fails with an error and writes no keys", Run: noUsableRootKey},
	{Name: "dollar-forms", Title: "the account given as ITFarm1 and as ITFarm1$", Run: dollarForms},
}

func (c *Ctx) principal() string { return c.SPN + "@" + c.st.Realm }

// holder names where the product keeps its keys, for messages.
func (c *Ctx) holder() string {
	if c.a.Keytab != "" {
		return "the keytab"
	}
	return "the product"
}

// decrypts fails the check when keys do not decrypt tkt, saying what was expected.
func (c *Ctx) mustDecrypt(keys []HeldKey, ticketWhy string, tkt messages.Ticket) bool {
	ok, why := Decrypts(keys, tkt)
	if !ok {
		c.Fail("a ticket the KDC issued for %s %s (kvno %d) does not decrypt with the product's keys: %s", c.SPN, ticketWhy, tkt.EncPart.KVNO, why)
		return false
	}
	c.Check("the ticket for %s %s (kvno %d) decrypts with the product's keys", c.SPN, ticketWhy, tkt.EncPart.KVNO)
	return true
}

func initialRetrieval(c *Ctx) {
	c.MustRefresh("first start")
	keys := c.MustHeld("after its first refresh succeeded")
	g := c.GMSA(c.Account)
	held := kvnosFor(keys, c.principal())
	if !slices.Contains(held, uint32(g.KVNO)) {
		c.Fatal("%s holds kvno %s for %s; the account's msDS-KeyVersionNumber is %d", c.holder(), kvnoList(held), c.principal(), g.KVNO)
	}
	c.Check("%s holds kvno %d keys for %s", c.holder(), g.KVNO, c.principal())
}

func kdcTicketDecrypts(c *Ctx) {
	c.MustRefresh("first start")
	keys := c.MustHeld("after its first refresh succeeded")
	c.mustDecrypt(keys, "now", c.Ticket(c.SPN, "now"))
}

func nextPasswordInWindow(c *Ctx) {
	c.MustRefresh("first start")
	g := c.GMSA(c.Account)
	c.AdvanceTo(g.NextRotation.Add(-2 * time.Minute))
	c.MustRefresh("2 minutes before the rotation, inside the last-5-minutes window")
	keys := c.MustHeld("after the refresh inside the window")
	held := kvnosFor(keys, c.principal())
	next := uint32(g.KVNO + 1)
	if !slices.Contains(held, next) {
		c.Fail("after the refresh 2 minutes before the rotation %s holds kvno %s only: the product did not pick up the next password (kvno %d) the DC already hands out, so tickets issued after the rotation will not decrypt until its next refresh",
			c.holder(), kvnoList(held), next)
	} else {
		c.Check("%s holds kvno %d (the next password) 2 minutes before the rotation", c.holder(), next)
	}
	c.AdvanceTo(g.NextRotation.Add(time.Minute))
	tkt := c.Ticket(c.SPN, "1 minute after the rotation")
	if uint32(tkt.EncPart.KVNO) != next {
		c.broken("the KDC issued kvno %d after the rotation, want %d", tkt.EncPart.KVNO, next)
	}
	c.mustDecrypt(keys, "1 minute after the rotation, the product not refreshed since the window", tkt)
}

func previousKeyKept(c *Ctx) {
	c.MustRefresh("first start")
	g := c.GMSA(c.Account)
	c.AdvanceTo(g.NextRotation.Add(-10 * time.Minute))
	before := c.Ticket(c.SPN, "10 minutes before the rotation")
	c.AdvanceTo(g.NextRotation.Add(-2 * time.Minute))
	c.MustRefresh("2 minutes before the rotation, inside the window")
	c.AdvanceTo(g.NextRotation.Add(10 * time.Minute))
	c.MustRefresh("10 minutes after the rotation")
	keys := c.MustHeld("after the refresh past the rotation")
	if ok, why := Decrypts(keys, before); !ok {
		held := kvnosFor(keys, c.principal())
		prev := uint32(before.EncPart.KVNO)
		if !slices.Contains(held, prev) {
			c.Fatal("%s holds kvno %s only: the previous password (kvno %d) was dropped, so a ticket issued before the rotation no longer decrypts", c.holder(), kvnoList(held), prev)
		}
		c.Fatal("a ticket issued before the rotation (kvno %d) no longer decrypts: %s", prev, why)
	}
	c.Check("the ticket issued before the rotation (kvno %d) still decrypts after the refresh past it", before.EncPart.KVNO)
}

func removedFromPrincipals(c *Ctx) {
	c.MustRefresh("first start")
	before := c.MustHeld("after its first refresh succeeded")
	c.Steps("ps on=DC1\nSet-ADServiceAccount ITFarm1 -PrincipalsAllowedToRetrieveManagedPassword WEB3$")
	if g := c.GMSA(c.Account); !slices.Equal(g.PrincipalsAllowedToRetrieve, []string{"WEB3$"}) {
		c.broken("after Set-ADServiceAccount the principals are %v", g.PrincipalsAllowedToRetrieve)
	}
	r := c.Refresh("WEB1$ no longer in PrincipalsAllowedToRetrieveManagedPassword, a new logon")
	if r.Exit == 0 {
		c.Fail("the refresh after WEB1$ was removed from PrincipalsAllowedToRetrieveManagedPassword exited 0: the product did not report that the DC refused it the password")
	} else {
		c.Check("the product reported the refusal (exit %d): %s", r.Exit, firstLine(r.Stderr))
	}
	after, err := c.Held()
	if err != nil {
		c.Fatal("after the refused refresh the product holds no keys (%v): it threw away its last good keys", err)
	}
	if !sameKeys(before, after) {
		c.Fail("%s changed after the refused refresh (kvno %s before, %s after): the product should keep its last good keys",
			c.holder(), kvnoList(kvnosFor(before, "")), kvnoList(kvnosFor(after, "")))
	}
	c.mustDecrypt(after, "after the refused refresh", c.Ticket(c.SPN, "after the refused refresh"))
}

func sameKeys(a, b []HeldKey) bool {
	key := func(k HeldKey) string {
		return k.Principal + "/" + string(rune(k.KVNO)) + "/" + string(rune(k.EType)) + "/" + string(k.Value)
	}
	var x, y []string
	for _, k := range a {
		x = append(x, key(k))
	}
	for _, k := range b {
		y = append(y, key(k))
	}
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

const newITFarm2 = "New-ADServiceAccount ITFarm2 -DNSHostName ITFarm2.contoso.com -PrincipalsAllowedToRetrieveManagedPassword ITFarmHosts -ServicePrincipalNames http/ITFarm2.contoso.com"

func aesOnly(c *Ctx) {
	c.Steps("ps on=DC1\n" + newITFarm2 + " -KerberosEncryptionType AES128,AES256")
	c.Account, c.SPN = "ITFarm2$", "http/ITFarm2.contoso.com"
	c.MustRefresh("first start")
	keys := c.MustHeld("after its first refresh succeeded")
	var aes []string
	for _, k := range keys {
		if (k.EType == 17 || k.EType == 18) && !slices.Contains(aes, etypeName(k.EType)) {
			aes = append(aes, etypeName(k.EType))
		}
	}
	if len(aes) == 0 {
		c.Fatal("%s holds no AES key: an AES-only gMSA's tickets are encrypted with AES", c.holder())
	}
	c.Check("%s holds %s keys", c.holder(), strings.Join(aes, " and "))
	c.mustDecrypt(keys, "now", c.Ticket(c.SPN, "now"))
}

func dcStopped(c *Ctx) {
	c.Steps("stop DC1")
	c.MustRefresh("DC1 stopped; GMSASIM_LDAP still names DC1, GMSASIM_LDAP_URLS and the DNS list DC2 too")
	keys := c.MustHeld("after its refresh succeeded")
	c.mustDecrypt(keys, "by DC2's KDC", c.Ticket(c.SPN, "by DC2's KDC"))
}

func replicationLag(c *Ctx) {
	c.Steps("cut DC1 DC2")
	c.Steps("ps on=DC2\n" + newITFarm2)
	c.Account, c.SPN = "ITFarm2$", "http/ITFarm2.contoso.com"
	r := c.Refresh("ITFarm2 created on DC2, the link to DC1 cut; the product asks DC1")
	if r.Exit == 0 {
		c.Fail("the refresh through DC1, which has not seen ITFarm2 yet, exited 0: the product did not report that the account was not found")
	} else {
		c.Check("the product reported the failure (exit %d): %s", r.Exit, firstLine(r.Stderr))
	}
	if keys, err := c.Held(); err == nil {
		c.Fail("%s holds keys (kvno %s) although DC1 does not know ITFarm2 yet", c.holder(), kvnoList(kvnosFor(keys, "")))
	}
	c.Steps("heal DC1 DC2")
	delay := time.Minute
	for _, l := range c.st.Links {
		if d, err := time.ParseDuration(l.Delay); err == nil && d+time.Minute > delay {
			delay = d + time.Minute
		}
	}
	c.Steps("advance " + delay.String())
	c.MustRefresh("the link healed and ITFarm2 replicated to DC1")
	keys := c.MustHeld("after its refresh succeeded")
	c.mustDecrypt(keys, "after replication", c.Ticket(c.SPN, "after replication"))
}

var keyIDLine = regexp.MustCompile(`(?m)^KeyId\s*:\s*([0-9a-fA-F-]{36})\s*$`)

func noUsableRootKey(c *Ctx) {
	out := c.Steps("ps on=DC1\nGet-KdsRootKey")
	ids := keyIDLine.FindAllStringSubmatch(out, -1)
	if len(ids) == 0 {
		c.broken("Get-KdsRootKey printed no KeyId: %q", out)
	}
	var dn []string
	for _, l := range strings.Split(c.st.Domain, ".") {
		dn = append(dn, "DC="+l)
	}
	for _, id := range ids {
		c.Steps("ps on=DC1\nRemove-ADObject \"CN=" + id[1] + ",CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration," + strings.Join(dn, ",") + "\"")
	}
	c.Steps("ps on=DC1\n$k = Add-KdsRootKey")
	c.Steps("kds restart DC1")
	r := c.Refresh("the only root key deleted, a new one effective in 10 days, the KDS restarted")
	if r.Exit == 0 {
		c.Fail("the refresh exited 0 although the DC could not compute the password (no usable KDS root key): the product did not report the failure")
	} else {
		c.Check("the product reported the failure (exit %d): %s", r.Exit, firstLine(r.Stderr))
	}
	if keys, err := c.Held(); err == nil {
		c.Fail("%s holds keys (kvno %s) although the DC returned no password", c.holder(), kvnoList(kvnosFor(keys, "")))
	} else {
		c.Check("the product holds no keys")
	}
}

func dollarForms(c *Ctx) {
	base := c.out
	for _, form := range []string{"ITFarm1", "ITFarm1$"} {
		c.Account = form
		c.out = filepath.Join(base, strings.TrimSuffix(form, "$")+map[bool]string{true: "-dollar", false: ""}[strings.HasSuffix(form, "$")])
		if err := os.MkdirAll(c.out, 0o700); err != nil {
			c.broken("%v", err)
		}
		r := c.Refresh("GMSASIM_ACCOUNT=" + form)
		if r.Exit != 0 {
			c.Fail("with GMSASIM_ACCOUNT=%s the refresh exited %d: %s (the account's sAMAccountName is ITFarm1$; admins write both forms)", form, r.Exit, firstLine(r.Stderr))
			continue
		}
		keys, err := c.Held()
		if err != nil {
			c.Fail("with GMSASIM_ACCOUNT=%s: %v", form, err)
			continue
		}
		c.mustDecrypt(keys, "(account given as "+form+")", c.Ticket(c.SPN, "account given as "+form))
	}
}
