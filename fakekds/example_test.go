package fakekds_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// The life of a gMSA as fakead drives it: a root key from the world's seeded stream, the first
// password id at creation, msDS-ManagedPassword on read, and the lazy rotation 30 days later.
func Example() {
	seeded := rand.NewChaCha8([32]byte{1}) // the world's "kds" stream
	t0 := ad.FileTimeFromTime(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))

	// Add-KdsRootKey -EffectiveTime ((Get-Date).AddHours(-10)) on DC1.
	effective := t0 - fakekds.KeyCycleDuration
	rk, _ := fakekds.AddKdsRootKey(seeded, t0, "CN=DC1,OU=Domain Controllers,DC=contoso,DC=com",
		fakekds.AddOptions{EffectiveTime: &effective})
	keys := []*fakekds.RootKey{rk}

	// New-ADServiceAccount one hour later: the first id is the creation interval.
	created := t0 + fakekds.KeyCycleDuration/10
	id, err := fakekds.Policy{}.NewAccountID(keys, created, "contoso.com", "contoso.com")
	fmt.Println("id:", id.GKID, err)

	sid, _ := ad.ParseSID("S-1-5-21-1-2-3-1105")
	acct := fakekds.Account{SID: sid, Created: created, CurrentID: id.Marshal(), Domain: "contoso.com", Forest: "contoso.com"}
	d := fakekds.NewDeriver()

	res, _ := d.ManagedPassword(keys, acct, created+fakekds.Day)
	fmt.Println("day 1:", len(res.Blob), "bytes, rotated:", res.Rotated, "previous:", res.Parsed.Previous != nil)

	res, _ = d.ManagedPassword(keys, acct, created+31*fakekds.Day)
	newID, _ := fakekds.ParsePasswordID(res.NewCurrentID)
	fmt.Println("day 31:", len(res.Blob), "bytes, rotated:", res.Rotated, "new id:", newID.GKID)

	// The account's Kerberos keys follow its stored password.
	k, _ := fakekds.KeysFromUTF16(res.StoredPassword, fakekds.MachineSalt("contoso.com", "ITFarm1$"))
	fmt.Println("keys:", len(k.NTHash), len(k.AES128), len(k.AES256))
	// Output:
	// id: (363,26,13) <nil>
	// day 1: 290 bytes, rotated: false previous: false
	// day 31: 548 bytes, rotated: true new id: (363,28,21)
	// keys: 16 16 32
}
