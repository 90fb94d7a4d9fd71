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
