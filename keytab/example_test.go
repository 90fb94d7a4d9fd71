package keytab_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gmsasim/gmsasim/keytab"
)

// A member host of a real domain fetches the keys of the gMSA it runs a service as and writes
// them to a keytab. The DC's certificate is checked against the system's roots (TLSConfig nil).
func Example() {
	keys, err := keytab.Fetch(context.Background(), keytab.Options{
		URL:      "ldaps://dc1.contoso.com:636",
		BindName: "WEB1$@contoso.com",
		Password: "the host's password",
		Account:  "ITFarm1$",
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := keys.WriteFile("/etc/itfarm1.keytab", time.Now()); err != nil {
		log.Fatal(err)
	}
}

// Fetch against the simulator's default domain, served on 127.0.0.1: WEB1$ is in ITFarmHosts,
// the group PrincipalsAllowedToRetrieveManagedPassword names, so the DC sends it the password.
func ExampleFetch() {
	d, err := startDefaultDomain()
	if err != nil {
		log.Fatal(err)
	}
	defer d.srv.Close()
	keys, err := keytab.Fetch(context.Background(), keytab.Options{
		URL:       "ldaps://" + d.srv.LDAPSAddr().String(),
		TLSConfig: d.tls, // trusts the simulator's CA; ServerName dc1.contoso.com
		BindName:  "WEB1$@contoso.com",
		Password:  d.pop.Passwords["WEB1$"],
		Account:   "ITFarm1$",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(keys.Account, keys.Realm, keys.KVNO, keys.SPNs)
	for _, k := range keys.Current {
		fmt.Printf("etype %d: %d bytes\n", k.EType, len(k.Value))
	}
	fmt.Println(len(keys.Entries(time.Now())), "keytab entries")
	// Output:
	// ITFarm1$ CONTOSO.COM 1 [http/ITFarm1.contoso.com]
	// etype 18: 32 bytes
	// etype 17: 16 bytes
	// etype 23: 16 bytes
	// 6 keytab entries
}
