package ldapsrv_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/sim"
)

// FuzzRequest runs against the live directory model (a sim world's DC), not only the in-memory
// test backend: the fuzzer's bytes reach the model's filters, DN parser and operations. The admin
// password is the one the captured seed traffic binds with, so the seeds reach the write paths.
//
// FuzzSecrets are the NT hashes and AES keys of Administrator and krbtgt in that world: secrets
// no LDAP answer may ever carry, whoever asks.
func init() {
	FuzzBackend = func(tb testing.TB) ldapsrv.Backend {
		w, err := sim.New(sim.Config{Seed: 1, AdminPassword: adminPW})
		if err != nil {
			tb.Fatalf("sim.New: %v", err)
		}
		dc := w.DCs()[0].Name()
		err = w.ExecOn(dc, func(_ time.Time, d *fakead.Directory) error {
			FuzzSecrets = nil
			for _, name := range []string{"Administrator", "krbtgt"} {
				a, ok := d.Account(name)
				if !ok {
					return fmt.Errorf("no account %s", name)
				}
				FuzzSecrets = append(FuzzSecrets, a.Keys.NTHash, a.Keys.AES256, a.Keys.AES128)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		return w.Backend(dc)
	}
}

// TestLiveModelBackend pins that the live backend accepts the seeds' admin bind, so FuzzRequest
// explores past authentication.
func TestLiveModelBackend(t *testing.T) {
	b := FuzzBackend(t)
	c, err := b.Bind(false, `CONTOSO\Administrator`, adminPW)
	if err != nil {
		t.Fatalf("bind as CONTOSO\\Administrator with the seeds' password: %v", err)
	}
	if c.DN != "CN=Administrator,CN=Users,DC=contoso,DC=com" {
		t.Fatalf("bound DN = %q", c.DN)
	}
	if len(FuzzSecrets) != 6 || len(FuzzSecrets[0]) != 16 || len(FuzzSecrets[1]) != 32 {
		t.Fatalf("FuzzSecrets: %d keys, want the NT hash, AES256 and AES128 keys of two accounts", len(FuzzSecrets))
	}
}
