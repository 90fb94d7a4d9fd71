package conform

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Ticket asks the world's KDC, over the wire, for a service ticket to spn as alice (a fresh
// logon, so no cached ticket is reused). The ticket is the truth a product's keys are checked
// against: encrypted by the KDC with the gMSA's current key, its kvno the account's.
func (c *Ctx) Ticket(spn, why string) messages.Ticket {
	cfg, err := config.Load(filepath.Join(c.stateDir, "krb5.conf"))
	if err != nil {
		c.broken("krb5.conf: %v", err)
	}
	cl := client.NewWithPassword("alice", c.st.Realm, c.creds["alice"], cfg, client.DisablePAFXFAST(true))
	defer cl.Destroy()
	if err := cl.Login(); err != nil {
		c.broken("alice's logon at the KDC: %v", err)
	}
	tkt, _, err := cl.GetServiceTicket(spn)
	if err != nil {
		c.broken("a ticket for %s from the KDC: %v", spn, err)
	}
	c.state()
	c.event("check", fmt.Sprintf("KDC issued a ticket for %s (%s): kvno %d, %s", spn, why, tkt.EncPart.KVNO, etypeName(tkt.EncPart.EType)), "")
	return tkt
}

func etypeName(e int32) string {
	switch e {
	case 17:
		return "aes128-cts-hmac-sha1-96"
	case 18:
		return "aes256-cts-hmac-sha1-96"
	case 23:
		return "rc4-hmac"
	}
	return fmt.Sprintf("etype %d", e)
}

// kvnosFor are the kvnos keys held for principal ("" matches any; so does a key without one).
func kvnosFor(keys []HeldKey, principal string) []uint32 {
	var out []uint32
	for _, k := range keys {
		if principal != "" && k.Principal != "" && !strings.EqualFold(k.Principal, principal) {
			continue
		}
		if !slices.Contains(out, k.KVNO) {
			out = append(out, k.KVNO)
		}
	}
	slices.Sort(out)
	return out
}

func kvnoList(v []uint32) string {
	var s []string
	for _, n := range v {
		s = append(s, fmt.Sprint(n))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// Decrypts says whether the product's keys decrypt tkt as a service would: the key of the
// ticket's service principal, kvno and encryption type. When they do not, the reason names what
// the product holds.
func Decrypts(keys []HeldKey, tkt messages.Ticket) (bool, string) {
	spn := tkt.SName.PrincipalNameString() + "@" + tkt.Realm
	var principalKeys []HeldKey
	for _, k := range keys {
		if k.Principal == "" || strings.EqualFold(k.Principal, spn) {
			principalKeys = append(principalKeys, k)
		}
	}
	if len(principalKeys) == 0 {
		var names []string
		for _, k := range keys {
			if !slices.Contains(names, k.Principal) {
				names = append(names, k.Principal)
			}
		}
		return false, fmt.Sprintf("the product holds no key for %s (it holds keys for %s)", spn, strings.Join(names, ", "))
	}
	kvno := uint32(tkt.EncPart.KVNO)
	var tried []HeldKey
	for _, k := range principalKeys {
		if k.KVNO == kvno && k.EType == tkt.EncPart.EType {
			tried = append(tried, k)
		}
	}
	if len(tried) == 0 {
		held := kvnosFor(principalKeys, "")
		if !slices.Contains(held, kvno) {
			return false, fmt.Sprintf("the product holds kvno %s for %s, the ticket is kvno %d", kvnoList(held), spn, kvno)
		}
		return false, fmt.Sprintf("the product holds kvno %d for %s but no %s key, the ticket's encryption type", kvno, spn, etypeName(tkt.EncPart.EType))
	}
	for _, k := range tried {
		t := tkt
		if err := t.Decrypt(types.EncryptionKey{KeyType: k.EType, KeyValue: k.Value}); err == nil {
			return true, ""
		}
	}
	return false, fmt.Sprintf("the product's %s key for %s kvno %d does not decrypt the ticket: it holds a wrong key under that kvno (another password, or a wrong salt)",
		etypeName(tkt.EncPart.EType), spn, kvno)
}
