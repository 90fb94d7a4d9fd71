package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/internal/safefile"
	"github.com/gmsasim/gmsasim/keytab"
)

// serve writes STATE/keytabs/NAME.keytab for every computer account the default domain has (the
// DCs' and WEB1..WEB3), as a domain join leaves /etc/krb5.keytab on a Linux host: the account's
// current keys (AES256, AES128, RC4) under its kvno (msDS-KeyVersionNumber) for NAME$@REALM,
// host/name.domain@REALM and host/NAME@REALM, and for each SPN the account holds (a DC's ldap/, GC/,
// RestrictedKrbHost/, ...). The keys are read from the DC's replica, so they are exactly those the
// KDC issues tickets with. The keytabs are written once, at startup: a password changed while serve
// runs is not written back (no simulated host changes its machine password).

// computerKeytabsDir is the state dir's subdirectory of host keytabs.
const computerKeytabsDir = "keytabs"

// computerKeytabs reads the keys of ds.Pop.Computers from the first DC's replica, in the world
// loop, and returns their keytabs (in Pop.Computers order) and the simulated time of the read.
func (ds *domainServer) computerKeytabs() ([]*keytab.Keys, time.Time, error) {
	w := ds.World()
	domain := strings.ToLower(w.Config().Domain)
	var out []*keytab.Keys
	var at time.Time
	err := w.ExecOn(w.DCs()[0].Name(), func(now time.Time, d *fakead.Directory) error {
		at = now
		for _, sam := range ds.Pop.Computers {
			a, ok := d.Account(sam)
			if !ok {
				return fmt.Errorf("keytab of %s: no such account", sam)
			}
			if len(a.Keys.AES256) == 0 || len(a.Keys.AES128) == 0 || len(a.Keys.NTHash) == 0 {
				return fmt.Errorf("keytab of %s: the account has no keys", sam)
			}
			out = append(out, &keytab.Keys{Account: a.SAMAccountName, Realm: strings.ToUpper(domain),
				SPNs: hostPrincipals(a, domain), KVNO: a.KVNO,
				Current: []keytab.Key{{EType: keytab.ETypeAES256, Value: a.Keys.AES256},
					{EType: keytab.ETypeAES128, Value: a.Keys.AES128}, {EType: keytab.ETypeRC4, Value: a.Keys.NTHash}}})
		}
		return nil
	})
	return out, at, err
}

// hostPrincipals are the service principals of a computer's keytab: host/<fqdn> and host/<NAME>
// (the names the KDC maps to every computer), then the account's SPNs not already listed (compared
// case-insensitively; the service class HOST is written host, as the Kerberos tools spell it).
func hostPrincipals(a *fakead.Account, domain string) []string {
	name := strings.TrimSuffix(a.SAMAccountName, "$")
	fqdn := a.DNSHostName
	if fqdn == "" {
		fqdn = strings.ToLower(name) + "." + domain
	}
	out := []string{"host/" + fqdn, "host/" + name}
	seen := map[string]bool{}
	for _, p := range out {
		seen[strings.ToLower(p)] = true
	}
	for _, spn := range a.SPNs {
		if class, rest, ok := strings.Cut(spn, "/"); ok && strings.EqualFold(class, "host") {
			spn = "host/" + rest
		}
		if !seen[strings.ToLower(spn)] {
			seen[strings.ToLower(spn)] = true
			out = append(out, spn)
		}
	}
	return out
}

// writeComputerKeytabs writes dir/keytabs/NAME.keytab (mode 0600, through safefile) for every
// computer account.
func (ds *domainServer) writeComputerKeytabs(dir string) error {
	kts, now, err := ds.computerKeytabs()
	if err != nil {
		return err
	}
	kdir := filepath.Join(dir, computerKeytabsDir)
	if err := safefile.PrepareDir(kdir); err != nil {
		return err
	}
	for _, kt := range kts {
		name := strings.TrimSuffix(kt.Account, "$") + ".keytab"
		if err := kt.WriteFile(filepath.Join(kdir, name), now); err != nil {
			return fmt.Errorf("keytab of %s: %w", kt.Account, err)
		}
	}
	return nil
}
