package ldapsrv_test

import (
	"testing"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/sim"
)

// FuzzRequest runs against the live directory model (a sim world's DC), not only the in-memory
// test backend: the fuzzer's bytes reach the model's filters, DN parser and operations. The admin
// password is the one the captured seed traffic binds with, so the seeds reach the write paths.
func init() {
	FuzzBackend = func(tb testing.TB) ldapsrv.Backend {
		w, err := sim.New(sim.Config{Seed: 1, AdminPassword: adminPW})
		if err != nil {
			tb.Fatalf("sim.New: %v", err)
		}
		return w.Backend(w.DCs()[0].Name())
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
}
