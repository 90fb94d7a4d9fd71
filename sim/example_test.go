package sim_test

import (
	"fmt"
	"os"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/sim"
)

// Two DCs joined by a one-hour link: a user added on DC1 reaches DC2 an hour later.
func ExampleWorld() {
	w, err := sim.New(sim.Config{Seed: 1, DCs: []sim.DCSpec{{Name: "DC1"}, {Name: "DC2"}}, LinkDelay: time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	dn := "CN=alice,CN=Users,DC=contoso,DC=com"
	w.Backend("DC1").Add(fakead.SystemCaller, dn, []fakead.Attribute{
		{Name: "objectClass", Values: [][]byte{[]byte("user")}},
		{Name: "sAMAccountName", Values: [][]byte{[]byte("alice")}},
	})
	onDC2 := func() bool {
		res, _ := w.Backend("DC2").Search(fakead.SystemCaller, &fakead.SearchRequest{
			BaseDN: dn, Scope: fakead.ScopeBase, Filter: fakead.FilterPresent{Attr: "objectClass"}, SDFlags: -1})
		return len(res) == 1
	}
	w.Advance(59 * time.Minute)
	fmt.Println("+59m on DC2:", onDC2())
	w.Advance(2 * time.Minute)
	fmt.Println("+61m on DC2:", onDC2())
	fmt.Println("converged:", w.CheckConverged() == nil)
	w.WriteTrace(os.Stdout)
	// Output:
	// +59m on DC2: false
	// +61m on DC2: true
	// converged: true
	// +0s world seed=1 domain=contoso.com netbios=CONTOSO schema=88 sid=S-1-5-21-2090442543-1486631858-118795067 dcs=DC1,DC2
	// +0s DC1 add CN=alice,CN=Users,DC=contoso,DC=com
	// +1h00m00s DC2 replicated 1 change from DC1
}
