package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSelfcheckPasses(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"selfcheck", "--seed", "3"}, &out, &errb); code != 0 {
		t.Fatalf("selfcheck exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{
		"objectVersion 88",
		"finds the disabled accounts: Guest, krbtgt",
		"refused add, modify and delete with 50",
		"absent from DC2 at +59m, present at +61m",
		"selfcheck: 9 passed, 0 failed (seed=3)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("selfcheck output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLDIFExportIsDeterministicAndRoundTrips(t *testing.T) {
	dir := t.TempDir()
	export := func(seed, name string) []byte {
		t.Helper()
		path := filepath.Join(dir, name)
		var out, errb bytes.Buffer
		if code := run([]string{"ldif", "export", "--seed", seed, "--out", path}, &out, &errb); code != 0 {
			t.Fatalf("ldif export --seed %s: exit %d: %s", seed, code, errb.String())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := export("7", "a.ldif"), export("7", "b.ldif"), export("8", "c.ldif")
	if !bytes.Equal(a, b) {
		t.Fatal("two exports with seed 7 differ")
	}
	if bytes.Equal(a, c) {
		t.Fatal("exports with seeds 7 and 8 are identical: ids do not derive from the seed")
	}
	if !bytes.Contains(a, []byte("dn: CN=alice,CN=Users,DC=contoso,DC=com\n")) {
		t.Fatal("export lacks alice")
	}
	var out, errb bytes.Buffer
	rt := filepath.Join(dir, "rt.ldif")
	if code := run([]string{"ldif", "import", filepath.Join(dir, "a.ldif"), "--out", rt}, &out, &errb); code != 0 {
		t.Fatalf("ldif import: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "re-export is identical") {
		t.Fatalf("import report: %s", errb.String())
	}
	back, _ := os.ReadFile(rt)
	if !bytes.Equal(back, a) {
		t.Fatal("import → export is not byte-identical")
	}
}

// startTestDomain starts the default domain with o's listeners, closed when the test ends, and
// writes its state files to a temporary directory it returns.
func startTestDomain(t *testing.T, o serveOptions) (*domainServer, string) {
	t.Helper()
	ds, err := startDomain(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	dir := t.TempDir()
	if err := ds.writeState(dir); err != nil {
		t.Fatal(err)
	}
	return ds, dir
}

func TestServeStateHasNoPlaintextInLDIF(t *testing.T) {
	ds, dir := startTestDomain(t, serveOptions{LDAP: "127.0.0.1:0", Seed: 5, SchemaVersion: 88})
	raw, err := os.ReadFile(filepath.Join(dir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds map[string]string
	if err := json.Unmarshal(raw, &creds); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Administrator", "alice", "DC1$", "WEB1$", "WEB2$", "WEB3$"} {
		if len(creds[name]) < 12 {
			t.Errorf("credentials.json: %s has password %q", name, creds[name])
		}
	}
	if len(creds) != 6 {
		t.Errorf("credentials.json has %d accounts, want 6: %v", len(creds), creds)
	}
	pem, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if !bytes.HasPrefix(pem, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Errorf("ca.pem = %.40q", pem)
	}
	var ldif bytes.Buffer
	if err := ds.World().DCs()[0].Directory().ExportLDIF(&ldif); err != nil {
		t.Fatal(err)
	}
	for name, pw := range creds {
		if bytes.Contains(ldif.Bytes(), []byte(pw)) {
			t.Errorf("the LDIF export holds %s's password in clear", name)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}
