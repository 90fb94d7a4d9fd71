package sim_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// The guide's lifecycle on a 2-DC domain: a root key, a group for the farm's hosts, a gMSA the
// group may retrieve, a host that installs it through its own DC once the gMSA has replicated
// there, and the rotation 30 days on.
func ExampleWorld_NewGMSA() {
	w, _ := sim.New(sim.Config{Seed: 3, DCs: []sim.DCSpec{{Name: "DC1", OS: "2016"}, {Name: "DC2", OS: "2016"}}, LinkDelay: 15 * time.Minute})
	w.AddRootKey("DC1", sim.RootKeyOptions{EffectiveTime: w.Now().Add(-10 * time.Hour)}) // the lab shortcut
	w.NewGroup("DC1", "FarmHosts")
	w.Advance(16 * time.Minute)
	web1, _ := host.NewFleet(w).Add(host.Spec{Name: "WEB1", OS: "2019", DC: "DC2", Groups: []string{"FarmHosts"}})

	w.NewGMSA("DC1", sim.GMSASpec{Name: "Farm", DNSHostName: "farm.contoso.com", PrincipalsAllowedToRetrieve: []string{"FarmHosts"}})
	fmt.Println("install before replication:", web1.InstallADServiceAccount("Farm") == nil)
	w.Advance(16 * time.Minute)
	fmt.Println("install after replication:", web1.InstallADServiceAccount("Farm") == nil)
	res, _ := web1.TestADServiceAccount("Farm")
	fmt.Println("Test-ADServiceAccount:", res)

	p, _ := w.ReadManagedPassword("DC2", "WEB1$", "Farm")
	fmt.Printf("kvno %d, next password in %dd\n", p.KVNO, p.QueryInterval/(24*time.Hour))
	_, err := w.ReadManagedPassword("DC2", "Administrator", "Farm")
	fmt.Println("Administrator refused:", errors.Is(err, sim.ErrPasswordNotReturned))

	w.Advance(30 * 24 * time.Hour)
	p, _ = w.ReadManagedPassword("DC1", "WEB1$", "Farm")
	fmt.Println("after 30 days, kvno", p.KVNO)
	// Output:
	// install before replication: false
	// install after replication: true
	// Test-ADServiceAccount: True
	// kvno 1, next password in 29d
	// Administrator refused: true
	// after 30 days, kvno 2
}

// A replication check between two DCs with the Go API: a gMSA created on DC1 is on DC2 only once
// the link's delay has passed, and not while the link is cut.
func ExampleWorld_Exists() {
	w, _ := sim.New(sim.Config{Seed: 4, DCs: []sim.DCSpec{{Name: "DC1"}, {Name: "DC2"}}, LinkDelay: time.Hour})
	w.AddRootKey("DC1", sim.RootKeyOptions{EffectiveImmediately: true})
	w.Advance(10 * time.Hour)
	w.CutLink("DC1", "DC2")
	w.NewGMSA("DC1", sim.GMSASpec{Name: "Farm", DNSHostName: "farm.contoso.com"})
	w.Advance(2 * time.Hour)
	onDC2, _ := w.Exists("DC2", "Farm")
	fmt.Println("link cut, 2h later on DC2:", onDC2)
	w.HealLink("DC1", "DC2")
	w.Advance(59 * time.Minute)
	onDC2, _ = w.Exists("DC2", "Farm")
	fmt.Println("healed, 59m later:", onDC2)
	w.Advance(2 * time.Minute)
	onDC2, _ = w.Exists("DC2", "Farm")
	fmt.Println("healed, 61m later:", onDC2)
	fmt.Println("converged:", w.CheckConverged() == nil)
	// Output:
	// link cut, 2h later on DC2: false
	// healed, 59m later: false
	// healed, 61m later: true
	// converged: true
}
