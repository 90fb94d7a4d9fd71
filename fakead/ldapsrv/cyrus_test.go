package ldapsrv_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// TestCyrusGSSAPI runs OpenLDAP's ldapwhoami/ldapsearch with Cyrus SASL's GSSAPI plugin (MIT
// krb5) against the server when they are installed: kinit as WEB1$ at the KDC on loopback, then
// a GSSAPI bind with Cyrus's default security layer (sealed) that reads ITFarm1's password over
// plain LDAP, and the same with -O maxssf=0 (no layer) and maxssf=1 (integrity only) refused
// with 0000202D.
//
// Cyrus names the service after the host in the URL (-N: no reverse DNS), here 127.0.0.1: the
// test gives DC1$ the SPN ldap/127.0.0.1 in place of a hosts-file entry for dc1.contoso.com.
func TestCyrusGSSAPI(t *testing.T) {
	for _, tool := range []string{"ldapsearch", "ldapwhoami", "kinit"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (ldap-utils, krb5-user, libsasl2-modules-gssapi-mit)", tool)
		}
	}
	kw := newKrbWorld(t, ldapsrv.Options{})
	err := kw.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		dc, _ := d.Account("DC1$")
		return d.Modify(now, fakead.SystemCaller, dc.DN, []fakead.Modification{{Op: fakead.ModAdd,
			Attr: fakead.Attribute{Name: "servicePrincipalName", Values: [][]byte{[]byte("ldap/127.0.0.1")}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var conf strings.Builder
	if err := kdc.WriteKrb5Conf(&conf, "CONTOSO.COM", []string{kw.ksrv.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(dir, "krb5.conf")
	if err := os.WriteFile(confPath, []byte(strings.Replace(conf.String(), "udp_preference_limit = 1465", "udp_preference_limit = 1", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "KRB5_CONFIG="+confPath, "KRB5CCNAME=FILE:"+filepath.Join(dir, "cc"),
		"KRB5RCACHETYPE=none", "LDAPCONF=/dev/null", "LDAPRC=/dev/null")
	run := func(stdin string, name string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang becomes a failure
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(kw.pop.Passwords["WEB1$"]+"\n", "kinit", "WEB1$@CONTOSO.COM"); err != nil {
		t.Fatalf("kinit WEB1$: %v\n%s", err, out)
	}
	url := "ldap://" + kw.f.srv.LDAPAddr().String()
	out, err := run("", "ldapwhoami", "-Y", "GSSAPI", "-N", "-H", url)
	if err != nil || !strings.Contains(out, `u:CONTOSO\WEB1$`) || !strings.Contains(out, "SASL data security layer installed") {
		t.Fatalf("ldapwhoami -Y GSSAPI: %v\n%s", err, out)
	}
	out, err = run("", "ldapsearch", "-Y", "GSSAPI", "-N", "-H", url, "-b", itFarm1DN, "-s", "base", pwAttr)
	if err != nil || !strings.Contains(out, pwAttr+":: ") || !strings.Contains(out, "SASL SSF: 256") {
		t.Fatalf("ldapsearch -Y GSSAPI (sealed): %v\n%s", err, out)
	}
	for _, ssf := range []string{"maxssf=0", "maxssf=1"} { // no layer; integrity only
		out, _ = run("", "ldapsearch", "-Y", "GSSAPI", "-N", "-O", ssf, "-H", url, "-b", itFarm1DN, "-s", "base", pwAttr)
		if !strings.Contains(out, "0000202D") || strings.Contains(out, pwAttr+":: ") {
			t.Errorf("ldapsearch -Y GSSAPI -O %s: want 0000202D\n%s", ssf, out)
		}
	}
}
