package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/crypto"
	gokeytab "github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"
)

// serve writes STATE/keytabs/NAME.keytab for every computer it created (issue 11, item 2), and the
// DCs' passwords are in credentials.json (item 1). WEB1's keytab parses with gokrb5, holds WEB1$,
// host/web1.contoso.com and host/WEB1 with AES256, AES128 and RC4 under msDS-KeyVersionNumber, its
// AES256 key is string-to-key(credentials.json's password, AD's computer salt), and a gokrb5 client
// logs on with it (kinit -k) and gets tickets for the DC's ldap/, host/ and DC1$, which the DC's own
// keytab decrypts.
func TestServeWritesComputerKeytabs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	r := startServe(t, "--state-dir", dir, "--seed", "11")
	if r.Ready == "" {
		t.Fatalf("serve exited %d: %s", r.Code, r.Stderr.String())
	}
	var creds map[string]string
	if b, err := os.ReadFile(filepath.Join(dir, "credentials.json")); err != nil || json.Unmarshal(b, &creds) != nil {
		t.Fatalf("credentials.json: %v %.80q", err, b)
	}
	for _, name := range []string{"Administrator", "alice", "DC1$", "WEB1$", "WEB2$", "WEB3$"} {
		if len(creds[name]) < 16 {
			t.Errorf("credentials.json[%q] = %q, want a password", name, creds[name])
		}
	}
	ents, err := os.ReadDir(filepath.Join(dir, "keytabs"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
		if fi, err := os.Lstat(filepath.Join(dir, "keytabs", e.Name())); err != nil || fi.Mode() != 0o600 {
			t.Errorf("keytabs/%s: mode %v (%v), want a regular file -rw-------", e.Name(), fi.Mode(), err)
		}
	}
	if want := []string{"DC1.keytab", "WEB1.keytab", "WEB2.keytab", "WEB3.keytab"}; !slices.Equal(files, want) {
		t.Errorf("keytabs/ holds %v, want %v", files, want)
	}

	kvno := readKVNO(t, r.Ready, creds["Administrator"], "WEB1$")
	web1 := loadKeytab(t, filepath.Join(dir, "keytabs", "WEB1.keytab"))
	var got []string
	for _, e := range web1.Entries {
		got = append(got, fmt.Sprintf("%s@%s %d kvno=%d", strings.Join(e.Principal.Components, "/"), e.Principal.Realm, e.Key.KeyType, e.KVNO))
	}
	var want []string
	for _, p := range []string{"WEB1$", "host/web1.contoso.com", "host/WEB1"} {
		for _, et := range []int{18, 17, 23} {
			want = append(want, fmt.Sprintf("%s@CONTOSO.COM %d kvno=%d", p, et, kvno))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("WEB1.keytab entries:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	aes, _, err := web1.GetEncryptionKey(types.NewPrincipalName(1, "WEB1$"), "CONTOSO.COM", 0, 18)
	if err != nil {
		t.Fatal(err)
	}
	if want := stringToKey(t, 18, creds["WEB1$"], "CONTOSO.COMhostweb1.contoso.com"); string(aes.KeyValue) != string(want) {
		t.Errorf("WEB1.keytab's AES256 key is not string-to-key(credentials.json's WEB1$ password, CONTOSO.COMhostweb1.contoso.com)")
	}

	dc1 := loadKeytab(t, filepath.Join(dir, "keytabs", "DC1.keytab"))
	dcPrincipals := map[string]bool{}
	for _, e := range dc1.Entries {
		dcPrincipals[strings.Join(e.Principal.Components, "/")] = true
	}
	for _, p := range []string{"DC1$", "host/dc1.contoso.com", "host/DC1", "ldap/dc1.contoso.com", "ldap/DC1", "GC/dc1.contoso.com/contoso.com"} {
		if !dcPrincipals[p] {
			t.Errorf("DC1.keytab lacks %s", p)
		}
	}
	dcKey, _, err := dc1.GetEncryptionKey(types.NewPrincipalName(1, "DC1$"), "CONTOSO.COM", 0, 18)
	if err != nil || string(dcKey.KeyValue) != string(stringToKey(t, 18, creds["DC1$"], "CONTOSO.COMhostdc1.contoso.com")) {
		t.Errorf("DC1.keytab's AES256 key is not string-to-key(credentials.json's DC1$ password, CONTOSO.COMhostdc1.contoso.com) (%v)", err)
	}

	cfg, err := config.Load(filepath.Join(dir, "krb5.conf"))
	if err != nil {
		t.Fatal(err)
	}
	cl := client.NewWithKeytab("WEB1$", "CONTOSO.COM", web1, cfg, client.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		t.Fatalf("kinit -k as WEB1$ with keytabs/WEB1.keytab: %v", err)
	}
	defer cl.Destroy()
	for _, spn := range []string{"ldap/dc1.contoso.com", "host/dc1.contoso.com", "DC1$"} {
		tkt, _, err := cl.GetServiceTicket(spn)
		if err != nil {
			t.Errorf("WEB1$: service ticket for %s: %v", spn, err)
			continue
		}
		// What the DC's LDAP server will do with an AP-REQ: decrypt with its own keytab's key.
		if err := tkt.Decrypt(dcKey); err != nil {
			t.Errorf("the ticket for %s does not decrypt with DC1.keytab's key: %v", spn, err)
		} else if c := tkt.DecryptedEncPart.CName.PrincipalNameString(); c != "WEB1$" {
			t.Errorf("the ticket for %s names the client %q", spn, c)
		}
	}
	dcl := client.NewWithKeytab("DC1$", "CONTOSO.COM", dc1, cfg, client.DisablePAFXFAST(true))
	if err := dcl.Login(); err != nil {
		t.Errorf("kinit -k as DC1$ with keytabs/DC1.keytab: %v", err)
	}
	dcl.Destroy()
}

func loadKeytab(t *testing.T, path string) *gokeytab.Keytab {
	t.Helper()
	kt, err := gokeytab.Load(path)
	if err != nil {
		t.Fatalf("%s does not parse as a keytab: %v", path, err)
	}
	return kt
}

// stringToKey is gokrb5's string-to-key: an implementation independent of serve's.
func stringToKey(t *testing.T, et int32, pw, salt string) []byte {
	t.Helper()
	e, err := crypto.GetEtype(et)
	if err != nil {
		t.Fatal(err)
	}
	k, err := e.StringToKey(pw, salt, e.GetDefaultStringToKeyParams())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// readKVNO reads an account's msDS-KeyVersionNumber over LDAP as Administrator.
func readKVNO(t *testing.T, ready, adminPW, sam string) uint32 {
	t.Helper()
	m := regexp.MustCompile(` ldap=(\S+)`).FindStringSubmatch(ready)
	if m == nil {
		t.Fatalf("ready line %q", ready)
	}
	c, err := ldap.DialURL("ldap://" + m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind("Administrator@contoso.com", adminPW); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(ldap.NewSearchRequest("DC=contoso,DC=com", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(sAMAccountName="+ldap.EscapeFilter(sam)+")", []string{"msDS-KeyVersionNumber"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("search %s: %v", sam, err)
	}
	n, err := strconv.ParseUint(res.Entries[0].GetAttributeValue("msDS-KeyVersionNumber"), 10, 32)
	if err != nil || n == 0 {
		t.Fatalf("%s's msDS-KeyVersionNumber %q", sam, res.Entries[0].GetAttributeValue("msDS-KeyVersionNumber"))
	}
	return uint32(n)
}
