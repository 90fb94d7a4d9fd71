package ldapsrv_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOpenLDAPClients runs OpenLDAP's ldapsearch/ldapwhoami (Debian ldap-utils) against the
// server when they are installed: the real-client check of the brief, verified with ca.pem alone.
func TestOpenLDAPClients(t *testing.T) {
	if _, err := exec.LookPath("ldapsearch"); err != nil {
		t.Skip("ldapsearch not installed (apt-get install ldap-utils)")
	}
	f := startMem(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, f.ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	ldapURL := "ldap://" + f.srv.LDAPAddr().String()
	ldapsURL := "ldaps://" + f.srv.LDAPSAddr().String()
	run := func(name string, args ...string) string {
		t.Helper()
		// The context only turns a hang into a failure.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+caFile, "LDAPTLS_REQCERT=demand", "LDAPCONF=/dev/null", "LDAPRC=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"rootDSE anonymously", []string{"-x", "-H", ldapURL, "-b", "", "-s", "base", "defaultNamingContext"},
			[]string{"defaultNamingContext: " + baseDN}},
		{"LDAPS with ca.pem, UPN bind", []string{"-x", "-H", ldapsURL, "-D", "Administrator@contoso.com", "-w", adminPW,
			"-b", adminDN, "-s", "base", "msDS-ManagedPassword"}, []string{"msDS-ManagedPassword: secret-Administrator"}},
		{"StartTLS", []string{"-x", "-ZZ", "-H", ldapURL, "-D", `CONTOSO\Administrator`, "-w", adminPW,
			"-b", adminDN, "-s", "base", "cn"}, []string{"cn: Administrator"}},
		{"paged", []string{"-x", "-H", ldapURL, "-E", "pr=2/noprompt", "-b", "CN=Computers," + baseDN, "-s", "one", "(objectClass=computer)", "cn"},
			[]string{"cn: WEB0", "cn: WEB6", "pagedresults: cookie="}},
		{"bit-AND extensible match", []string{"-x", "-H", ldapURL, "-b", baseDN, "(userAccountControl:1.2.840.113556.1.4.803:=2)", "sAMAccountName"},
			[]string{"sAMAccountName: bob", "# numEntries: 1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := run("ldapsearch", c.args...)
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if out := run("ldapwhoami", "-x", "-H", ldapsURL, "-D", adminDN, "-w", adminPW); strings.TrimSpace(out) != `u:CONTOSO\Administrator` {
		t.Fatalf("ldapwhoami = %q", out)
	}
}

// ldap3Script runs against the server with python ldap3: LDAPS and StartTLS verified with
// ca.pem alone, UPN and NetBIOS binds, paging, an AD bit filter, WhoAmI.
const ldap3Script = `
import ssl, sys
from ldap3 import Server, Connection, Tls, NONE, SUBTREE, LEVEL
ldap_url, ldaps_url, ca, admin_pw = sys.argv[1:5]
tls = Tls(ca_certs_file=ca, validate=ssl.CERT_REQUIRED)
s = Server(ldaps_url, use_ssl=True, tls=tls, get_info=NONE)
c = Connection(s, user='Administrator@contoso.com', password=admin_pw, auto_bind=True, receive_timeout=10)
print('whoami', c.extend.standard.who_am_i())
entries = c.extend.standard.paged_search('CN=Computers,DC=contoso,DC=com', '(objectClass=computer)', LEVEL, attributes=['cn'], paged_size=2, generator=False)
print('paged', len(entries))
c.search('DC=contoso,DC=com', '(userAccountControl:1.2.840.113556.1.4.803:=2)', SUBTREE, attributes=['sAMAccountName'])
print('disabled', [str(e.sAMAccountName) for e in c.entries])
p = Connection(Server(ldap_url, tls=tls, get_info=NONE), user='CONTOSO\\Administrator', password=admin_pw, receive_timeout=10)
p.open(); p.start_tls(); p.bind()
print('starttls', p.extend.standard.who_am_i())
`

func TestPythonLDAP3(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import ldap3").Run(); err != nil {
		t.Skip("python3-ldap3 not installed (apt-get install python3-ldap3)")
	}
	f := startMem(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, f.ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hang detector only
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", ldap3Script, "ldap://"+f.srv.LDAPAddr().String(),
		"ldaps://"+f.srv.LDAPSAddr().String(), caFile, adminPW).CombinedOutput()
	if err != nil {
		t.Fatalf("ldap3: %v\n%s", err, out)
	}
	want := "whoami u:CONTOSO\\Administrator\npaged 7\ndisabled ['bob']\nstarttls u:CONTOSO\\Administrator\n"
	if string(out) != want {
		t.Fatalf("ldap3 printed\n%s\nwant\n%s", out, want)
	}
}
