// Command gmsasim is the front door of the simulator, a thin shell over the packages: run
// scenarios, serve a fake domain on loopback, migrate MIM services to gMSAs, fetch a gMSA's
// keytab, check the default domain, export and import replicas, and compute KDS/gMSA values
// offline.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `gmsasim — an offline Active Directory / gMSA simulator

usage:
  gmsasim run [PATH...] [--seed N] [--label-filter EXPR] [--shard K/N] [--allow-empty] [--junit FILE]
              [--report DIR] [--trace FILE] [--include-pending] [--rewrite]
      run scenario files (a directory runs every scenario under it); exit 1 on any failure, 2 when
      nothing is selected (unless --allow-empty)
  gmsasim serve [--ldap 127.0.0.1:3389] [--ldaps 127.0.0.1:3636] [--kdc 127.0.0.1:3088] [--dns ADDR]
                [--dcs N | --world FILE.scn [--world-steps=false]] [--control 127.0.0.1:PORT]
                [--state-dir DIR] [--admin-password PW] [--schema-version N] [--seed N]
                [--require-signing] [--realtime]
      serve the default domain (contoso.com; --dcs N for N DCs) or a scenario file's world, every DC
      on its own LDAP, LDAPS and KDC sockets, until SIGINT/SIGTERM; prints a line starting with
      "ready" once it accepts connections; writes DIR/ca.pem, credentials.json, krb5.conf (every KDC),
      endpoints.json, keytabs/, seed and, with --control, control.token (DIR is created 0700; one
      others can write to is refused); without --seed the seed is random (printed on the ready line)
  gmsasim ctl [--state-dir DIR] [--url URL --token-file FILE] COMMAND
      drive a running serve through its control API: steps FILE|-, step 'LINE' ['INPUT'...],
      advance DURATION, state, trace [--from N] [--follow], snapshot FILE, restore FILE,
      ldif [--dc NAME]; exit 1 on a failing step; see "gmsasim ctl -h"
  gmsasim selfcheck [--seed N] [-v]
      start the default domain in-process, check it over real LDAP/LDAPS sockets and replication
      between two DCs, print what was done
  gmsasim ldif export [--seed N] [--schema-version N] [--dc NAME] [--out FILE]
      write the default domain's replica as LDIF
  gmsasim ldif import FILE [--out FILE]
      read a replica from LDIF, check it, and write it back out (round trip)
  gmsasim keytab --ldap ldaps://HOST:PORT[,URL...] [--ca DIR/ca.pem] --bind 'WEB1$@contoso.com' --password PW
                 --account 'ITFarm1$' --out FILE
  gmsasim keytab --kerberos --host-keytab FILE --host 'WEB1$' [--krb5-conf FILE] --ldap ldap://HOST:PORT
                 --account 'ITFarm1$' --out FILE
      act as a member host: read the gMSA's msDS-ManagedPassword over LDAPS/StartTLS (or, with
      --kerberos, a sealed SASL GSSAPI bind with the host's keytab), derive its Kerberos keys and
      write an MIT keytab with the previous password too (works against a real domain controller)
  gmsasim conform --adapter FILE [--junit FILE] [--report DIR] [--parallel N] [--seed N] [--check NAME,...]
                  [--keep-state DIR]
      drive a gMSA-consuming product (described by an adapter file) through the life of a gMSA, each
      check in a fresh world; exit 0 when every check passes, 1 when one fails
  gmsasim migrate plan|apply|resume|rollback [--world FILE] --journal FILE [--crash-after STEP]
      run the MIM → gMSA migration engine against a simulated MIM world (a scenario file's world
      section, or the built-in default) over real LDAP; see "gmsasim migrate -h"
  gmsasim kds SUBCOMMAND ...
      offline KDS/gMSA calculator (gkid, seedkey, password, rollover, decode-id, decode-blob,
      string-to-key, salt); each prints one JSON object
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return runRun(args[1:], stdout, stderr)
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "ctl":
		return runCtl(args[1:], stdout, stderr)
	case "selfcheck":
		return runSelfcheck(args[1:], stdout, stderr)
	case "ldif":
		return runLDIF(args[1:], stdout, stderr)
	case "kds":
		return runKDS(args[1:], stdout, stderr)
	case "keytab":
		return runKeytab(args[1:], stdout, stderr)
	case "conform":
		return runConform(args[1:], stdout, stderr)
	case "migrate":
		return runMigrate(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "gmsasim: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
