package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/sim"
)

// selfcheck starts the default domain on loopback and drives it with go-ldap over real sockets,
// then shows replication between two DCs on the virtual clock. It prints each step and what it
// saw; any mismatch fails the run with the seed.
type selfcheck struct {
	out     io.Writer
	seed    uint64
	verbose bool
	passed  int
}

func runSelfcheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("selfcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "the world's seed")
	verbose := fs.Bool("v", false, "print the replication trace")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	sc := &selfcheck{out: stdout, seed: *seed, verbose: *verbose}
	if err := sc.run(); err != nil {
		fmt.Fprintf(stderr, "selfcheck FAILED: seed=%d: %v\n(replay: gmsasim selfcheck --seed %d -v)\n", *seed, err, *seed)
		return 1
	}
	fmt.Fprintf(stdout, "selfcheck: %d passed, 0 failed (seed=%d)\n", sc.passed, *seed)
	return 0
}

func (sc *selfcheck) ok(format string, args ...any) {
	sc.passed++
	fmt.Fprintf(sc.out, "  ok  "+format+"\n", args...)
}

func (sc *selfcheck) run() error {
	started := time.Now() // wallclock: reporting only
	ds, err := startDomain(serveOptions{LDAP: "127.0.0.1:0", LDAPS: "127.0.0.1:0", Seed: sc.seed, SchemaVersion: 88})
	if err != nil {
		return err
	}
	defer ds.Close()
	w := ds.World()
	fmt.Fprintf(sc.out, "started %s (DC %s, schema objectVersion %d, seed %d) in %v: LDAP %s, LDAPS %s\n",
		w.Config().Domain, w.DCs()[0].Name(), w.Config().SchemaVersion, sc.seed, time.Since(started).Round(time.Microsecond),
		ds.Addrs()[0].LDAP, ds.Addrs()[0].LDAPS)
	if err := sc.ldapChecks(ds); err != nil {
		return err
	}
	return sc.replicationCheck()
}

func (sc *selfcheck) dial(ds *domainServer, secure bool) (*ldap.Conn, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ds.CA.PEM())
	var c *ldap.Conn
	var err error
	if secure {
		c, err = ldap.DialURL("ldaps://"+ds.Addrs()[0].LDAPS, ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
	} else {
		c, err = ldap.DialURL("ldap://" + ds.Addrs()[0].LDAP)
	}
	if err != nil {
		return nil, err
	}
	c.SetTimeout(10 * time.Second)
	return c, nil
}

func (sc *selfcheck) ldapChecks(ds *domainServer) error {
	w := ds.World()
	base := w.DomainDN()
	adminPW := ds.Pop.Passwords["Administrator"]

	anon, err := sc.dial(ds, false)
	if err != nil {
		return fmt.Errorf("dial LDAP: %w", err)
	}
	defer anon.Close()
	root, err := anon.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"defaultNamingContext", "dnsHostName", "currentTime", "highestCommittedUSN"}, nil))
	if err != nil || len(root.Entries) != 1 {
		return fmt.Errorf("anonymous rootDSE read: %v", err)
	}
	if got := root.Entries[0].GetAttributeValue("defaultNamingContext"); got != base {
		return fmt.Errorf("rootDSE defaultNamingContext = %q, want %q", got, base)
	}
	sc.ok("anonymous rootDSE over LDAP: defaultNamingContext %s, dnsHostName %s, currentTime %s, highestCommittedUSN %s",
		base, root.Entries[0].GetAttributeValue("dnsHostName"), root.Entries[0].GetAttributeValue("currentTime"),
		root.Entries[0].GetAttributeValue("highestCommittedUSN"))

	res, err := anon.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=user)", []string{"dn"}, nil))
	if err == nil && len(res.Entries) > 0 {
		return fmt.Errorf("anonymous subtree search returned %d user objects, want none", len(res.Entries))
	}
	sc.ok("anonymous subtree search of %s returns no user objects (%s)", base, describeErr(err))

	admin, err := sc.dial(ds, true)
	if err != nil {
		return fmt.Errorf("dial LDAPS: %w", err)
	}
	defer admin.Close()
	if err := admin.Bind("Administrator@"+w.Config().Domain, adminPW); err != nil {
		return fmt.Errorf("LDAPS bind as Administrator@%s: %w", w.Config().Domain, err)
	}
	schemaDN := "CN=Schema,CN=Configuration," + base
	res, err = admin.Search(ldap.NewSearchRequest(schemaDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"objectVersion"}, nil))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("objectVersion") != "88" {
		return fmt.Errorf("read objectVersion of %s: %v %v", schemaDN, err, entriesOf(res))
	}
	sc.ok("LDAPS (certificate verified with the world's ca.pem), bind as Administrator@%s, objectVersion 88", w.Config().Domain)

	all, err := admin.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=user)", []string{"sAMAccountName"}, nil))
	if err != nil {
		return fmt.Errorf("search users: %w", err)
	}
	paged, err := admin.SearchWithPaging(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=user)", []string{"sAMAccountName"}, nil), 2)
	if err != nil {
		return fmt.Errorf("paged search: %w", err)
	}
	if len(paged.Entries) != len(all.Entries) || len(all.Entries) < 7 {
		return fmt.Errorf("paged search returned %d entries, plain search %d", len(paged.Entries), len(all.Entries))
	}
	sc.ok("paged search (1.2.840.113556.1.4.319, page size 2) returns all %d user objects: %s",
		len(paged.Entries), strings.Join(names(paged, "sAMAccountName"), ", "))

	dis, err := admin.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(userAccountControl:1.2.840.113556.1.4.803:=2)", []string{"sAMAccountName"}, nil))
	if err != nil {
		return fmt.Errorf("bitwise AND search: %w", err)
	}
	disabled := names(dis, "sAMAccountName")
	if strings.Join(disabled, ",") != "Guest,krbtgt" {
		return fmt.Errorf("disabled accounts = %v, want [Guest krbtgt]", disabled)
	}
	sc.ok("(userAccountControl:1.2.840.113556.1.4.803:=2) finds the disabled accounts: %s", strings.Join(disabled, ", "))

	dn := "CN=selfcheck,CN=Users," + base
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"user"})
	add.Attribute("sAMAccountName", []string{"selfcheck"})
	if err := admin.Add(add); err != nil {
		return fmt.Errorf("add %s as Administrator: %w", dn, err)
	}
	mod := ldap.NewModifyRequest(dn, nil)
	mod.Replace("description", []string{"written by gmsasim selfcheck"})
	if err := admin.Modify(mod); err != nil {
		return fmt.Errorf("modify %s as Administrator: %w", dn, err)
	}
	sc.ok("Administrator adds and modifies %s", dn)

	alice, err := sc.dial(ds, true)
	if err != nil {
		return err
	}
	defer alice.Close()
	if err := alice.Bind(w.Config().NetBIOS+`\alice`, ds.Pop.Passwords["alice"]); err != nil {
		return fmt.Errorf("bind as %s\\alice: %w", w.Config().NetBIOS, err)
	}
	denied := []struct {
		what string
		err  error
	}{
		{"add", alice.Add(func() *ldap.AddRequest {
			r := ldap.NewAddRequest("CN=alice-made,CN=Users,"+base, nil)
			r.Attribute("objectClass", []string{"user"})
			r.Attribute("sAMAccountName", []string{"alicemade"})
			return r
		}())},
		{"modify", alice.Modify(mod)},
		{"delete", alice.Del(ldap.NewDelRequest(dn, nil))},
	}
	for _, d := range denied {
		if !ldap.IsErrorWithCode(d.err, ldap.LDAPResultInsufficientAccessRights) {
			return fmt.Errorf("%s as alice: got %v, want insufficientAccessRights (50)", d.what, d.err)
		}
	}
	sc.ok("alice (bound as %s\\alice) is refused add, modify and delete with 50: %s", w.Config().NetBIOS, firstLine(denied[0].err))
	if err := admin.Del(ldap.NewDelRequest(dn, nil)); err != nil {
		return fmt.Errorf("delete %s as Administrator: %w", dn, err)
	}
	sc.ok("Administrator deletes %s", dn)
	return nil
}

// replicationCheck builds a two-DC world with a 1 h link and shows a write crossing it.
func (sc *selfcheck) replicationCheck() error {
	w, err := sim.New(sim.Config{Seed: sc.seed, DCs: []sim.DCSpec{{Name: "DC1"}, {Name: "DC2"}}, LinkDelay: time.Hour})
	if err != nil {
		return err
	}
	dn := "CN=replicated,CN=Users," + w.DomainDN()
	err = w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Add(now, fakead.SystemCaller, dn, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("user")}}, {Name: "sAMAccountName", Values: [][]byte{[]byte("replicated")}}})
	})
	if err != nil {
		return fmt.Errorf("write on DC1: %w", err)
	}
	present := func() (bool, error) {
		var found bool
		err := w.ExecOn("DC2", func(now time.Time, d *fakead.Directory) error {
			res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: dn, Scope: fakead.ScopeBase,
				Filter: fakead.FilterPresent{Attr: "objectClass"}, SDFlags: -1})
			if fakead.CodeOf(err) == fakead.NoSuchObject {
				return nil
			}
			found = len(res) == 1
			return err
		})
		return found, err
	}
	if err := w.Advance(59 * time.Minute); err != nil {
		return err
	}
	if p, err := present(); err != nil || p {
		return fmt.Errorf("at +59m the write is on DC2 already (present=%v, %v); link delay is 1h", p, err)
	}
	if err := w.Advance(2 * time.Minute); err != nil {
		return err
	}
	if p, err := present(); err != nil || !p {
		return fmt.Errorf("at +61m the write has not reached DC2 (present=%v, %v)", p, err)
	}
	if err := w.CheckConverged(); err != nil {
		return err
	}
	sc.ok("two DCs, 1h link: a write on DC1 is absent from DC2 at +59m, present at +61m; replicas identical")
	if sc.verbose {
		for _, l := range w.Trace() {
			fmt.Fprintf(sc.out, "      %s\n", l)
		}
	}
	return nil
}

func describeErr(err error) string {
	if err == nil {
		return "no entries"
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		return fmt.Sprintf("result %d %s", le.ResultCode, ldap.LDAPResultCodeMap[le.ResultCode])
	}
	return err.Error()
}

func names(res *ldap.SearchResult, attr string) []string {
	var out []string
	for _, e := range res.Entries {
		out = append(out, e.GetAttributeValue(attr))
	}
	sort.Strings(out)
	return out
}

func entriesOf(res *ldap.SearchResult) []string {
	if res == nil {
		return nil
	}
	var out []string
	for _, e := range res.Entries {
		out = append(out, e.DN)
	}
	return out
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
