package migrate_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gmsasim/gmsasim/migrate"
)

// The whole pipeline as an operator's tool runs it: inventory, preflight, plan, apply with a
// journal; after a crash, Resume with the same journal; to undo, Rollback.
func Example() {
	var hosts []migrate.HostAgent // one per MIM server (WinRM in production, sim/mimagent in the simulator)
	eng, err := migrate.New(migrate.Config{
		Domain: "contoso.com", NetBIOS: "CONTOSO",
		DC:          migrate.Endpoint{Addr: "dc1.contoso.com:636", LDAPS: true},
		Admin:       migrate.Credentials{Name: `CONTOSO\Administrator`, Password: "..."},
		Hosts:       hosts,
		SyncAccount: migrate.KeySetExportRequest{Account: "svc-mimsync", Password: "...", Domain: "CONTOSO"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	est, err := eng.Inventory(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := eng.Preflight(ctx, est)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(rep.Text())
	plan, err := eng.MakePlan(est)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(plan.Text())
	if _, err := eng.Apply(ctx, plan, rep, migrate.Options{Journal: "mim-gmsa.journal", Progress: os.Stdout}); err != nil {
		fmt.Println(err) // fix what it says, then: eng.Resume(ctx, migrate.Options{Journal: "mim-gmsa.journal"})
	}
}
