package kdc_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

// mitEnv writes a krb5.conf for the fixture's KDC and returns the environment MIT tools run in.
func mitEnv(t *testing.T, f *fixture, tcp bool) []string {
	t.Helper()
	for _, tool := range []string{"kinit", "kvno", "klist"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("MIT %s not installed (Debian krb5-user)", tool)
		}
	}
	dir := t.TempDir()
	var b bytes.Buffer
	if err := kdc.WriteKrb5Conf(&b, realm, []string{f.srv.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	conf := b.String()
	if tcp {
		conf = strings.Replace(conf, "udp_preference_limit = 1465", "udp_preference_limit = 1", 1)
	}
	path := filepath.Join(dir, "krb5.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "KRB5_CONFIG="+path, "KRB5CCNAME=FILE:"+filepath.Join(dir, "cc"),
		"KRB5_KTNAME=FILE:"+filepath.Join(dir, "none.keytab"), "KRB5RCACHETYPE=none")
}

// mit runs an MIT tool with stdin and a bound on its run time (it talks to our server).
func mit(t *testing.T, env []string, stdin string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestMITKinitKvno(t *testing.T) {
	for _, tc := range []struct {
		name string
		tcp  bool
	}{{"tcp", true}, {"udp", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			env := mitEnv(t, f, tc.tcp)
			if out, err := mit(t, env, pwAlice+"\n", "kinit", "alice@"+realm); err != nil {
				t.Fatalf("kinit alice: %v\n%s", err, out)
			}
			out, err := mit(t, env, "", "kvno", "http/ITFarm1.contoso.com@"+realm)
			if err != nil {
				t.Fatalf("kvno: %v\n%s", err, out)
			}
			want := "http/ITFarm1.contoso.com@CONTOSO.COM: kvno = " + itoa(f.kvno("ITFarm1$"))
			if strings.TrimSpace(out) != want {
				t.Errorf("kvno printed %q, want %q", strings.TrimSpace(out), want)
			}
			// kvno -k: MIT decrypts the ticket with a keytab holding the gMSA's AD-salted key.
			kt := keytab.New()
			kv := f.kvno("ITFarm1$")
			if err := kt.AddEntry("http/ITFarm1.contoso.com", realm, "unused", f.w.Now(), uint8(kv), kdc.EtypeAES256); err != nil {
				t.Fatal(err)
			}
			if err := kt.AddEntry("ITFarm1$", realm, "unused", f.w.Now(), uint8(kv), kdc.EtypeAES256); err != nil {
				t.Fatal(err)
			}
			for i := range kt.Entries {
				kt.Entries[i].Key = gmsaKey(t, f.w, "ITFarm1$", kdc.EtypeAES256)
				kt.Entries[i].KVNO = kv
			}
			ktb, err := kt.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			ktPath := filepath.Join(t.TempDir(), "itfarm1.keytab")
			if err := os.WriteFile(ktPath, ktb, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := mit(t, env, "", "kvno", "-k", ktPath, "http/ITFarm1.contoso.com@"+realm); err != nil ||
				!strings.Contains(out, "keytab entry valid") {
				t.Errorf("kvno -k: %v\n%s", err, out)
			}
			// The gMSA logs on from the keytab (outbound authentication), into its own cache.
			gmsaEnv := append(append([]string(nil), env...), "KRB5CCNAME=FILE:"+filepath.Join(t.TempDir(), "gmsa.cc"))
			if out, err := mit(t, gmsaEnv, "", "kinit", "-k", "-t", ktPath, "ITFarm1$@"+realm); err != nil {
				t.Errorf("kinit -k ITFarm1$: %v\n%s", err, out)
			}
			out, err = mit(t, env, "", "klist", "-f")
			if err != nil {
				t.Fatalf("klist: %v\n%s", err, out)
			}
			if !strings.Contains(out, "krbtgt/CONTOSO.COM@CONTOSO.COM") || !strings.Contains(out, "http/ITFarm1.contoso.com@CONTOSO.COM") {
				t.Errorf("klist lacks the TGT or the service ticket:\n%s", out)
			}
			// An enterprise (UPN) logon, and a ticket to a computer's implicit host/ name.
			if out, err := mit(t, env, pwAlice+"\n", "kinit", "-E", "alice@contoso.com"); err != nil {
				t.Errorf("kinit -E alice@contoso.com: %v\n%s", err, out)
			}
			if out, err := mit(t, env, "", "kvno", "host/web1.contoso.com@"+realm); err != nil ||
				strings.TrimSpace(out) != "host/web1.contoso.com@CONTOSO.COM: kvno = "+itoa(f.kvno("WEB1$")) {
				t.Errorf("kvno host/web1: %v\n%s", err, out)
			}
			// WEB2 has no msDS-SupportedEncryptionTypes: an RC4 ticket with an AES session key, which
			// an AES-only MIT client accepts (it never decrypts the ticket).
			if out, err := mit(t, env, "", "kvno", "cifs/web2.contoso.com@"+realm); err != nil ||
				!strings.HasPrefix(strings.TrimSpace(out), "cifs/web2.contoso.com@CONTOSO.COM: kvno = ") {
				t.Errorf("kvno cifs/web2: %v\n%s", err, out)
			}
			// kvno -k checks that RC4 ticket against an RC4 keytab entry (NT hash of the password).
			rc4kt := keytab.New()
			if err := rc4kt.AddEntry("cifs/web2.contoso.com", realm, "machine-password-web2", f.w.Now(), uint8(f.kvno("WEB2$")), kdc.EtypeRC4); err != nil {
				t.Fatal(err)
			}
			rc4b, _ := rc4kt.Marshal()
			rc4Path := filepath.Join(t.TempDir(), "web2.keytab")
			if err := os.WriteFile(rc4Path, rc4b, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := mit(t, env, "", "kvno", "-k", rc4Path, "cifs/web2.contoso.com@"+realm); err != nil ||
				!strings.Contains(out, "keytab entry valid") {
				t.Errorf("kvno -k cifs/web2 (RC4): %v\n%s", err, out)
			}
			// The TGT is renewable: kinit -R renews it.
			if out, err := mit(t, env, pwAlice+"\n", "kinit", "-r", "7d", "alice@"+realm); err != nil {
				t.Errorf("kinit -r 7d: %v\n%s", err, out)
			}
			if out, err := mit(t, env, "", "kinit", "-R"); err != nil {
				t.Errorf("kinit -R: %v\n%s", err, out)
			}
			// Wrong password: kinit fails with the pre-authentication error.
			out, err = mit(t, env, "wrong\n", "kinit", "alice@"+realm)
			if err == nil || !strings.Contains(out, "Password incorrect") {
				t.Errorf("kinit with a wrong password: err %v, output %q; want a failure saying Password incorrect", err, out)
			}
		})
	}
}

func itoa(n uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
