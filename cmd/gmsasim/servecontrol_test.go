package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gmsasim/gmsasim/control"
	"github.com/gmsasim/gmsasim/scenarios"
	"github.com/go-ldap/ldap/v3"
)

// startControlled runs serve with the control API on an ephemeral loopback port and returns the
// run, its state dir and a client.
func startControlled(t *testing.T, args ...string) (*serveRun, string, *control.Client) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	r := startServe(t, append([]string{"--state-dir", dir, "--control", "127.0.0.1:0"}, args...)...)
	if r.Ready == "" {
		t.Fatalf("serve %v: exit %d: %s", args, r.Code, r.Stderr.String())
	}
	c, err := control.ClientFromStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r, dir, c
}

// The control API's promise over a real serve: the steps of a library file, sent to the world its
// world block builds (serve --world FILE --world-steps=false, the file's seed, frozen time), print
// what the file says they print. A sample of the library in make test, other files than the in-process
// scenarios.TestSessionStepsMatchTheFile samples; all of it in make test-long.
func TestControlStepsMatchTheLibraryOverHTTP(t *testing.T) {
	files, _ := filepath.Glob("../../scenarios/library/*.scn")
	if len(files) < 40 {
		t.Fatalf("found %d library files", len(files))
	}
	ran := 0
	for i, path := range files {
		if i%8 != 2 && os.Getenv("GMSASIM_TEST_LONG") == "" { // not the files scenarios' in-process test samples
			continue
		}
		sc, err := scenarios.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Pending() || sc.Worlds != nil {
			continue // serve --world runs one world; a worlds table is many
		}
		seed, ok := sc.Steps[0].Arg("seed")
		if !ok {
			seed = "1"
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The text after the world block's output: the file's steps, as a user would paste them.
		lines := strings.Split(string(raw), "\n")
		rest := strings.Join(lines[sc.Steps[1].Line-1:], "\n")
		r, _, c := startControlled(t, "--world", path, "--world-steps=false", "--realtime=false", "--seed", seed, "--kdc", "")
		res, err := c.Steps(context.Background(), rest)
		r.Stop()
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if len(res.Steps) != len(sc.Steps)-1 {
			t.Errorf("%s: %d steps ran, the file has %d", path, len(res.Steps), len(sc.Steps)-1)
		}
		for _, so := range res.Steps {
			if so.Expected == nil || !so.Match {
				t.Errorf("%s: step %q at line %d of the steps: output\n%s\nwant\n%v", path, so.Step, so.Line, so.Output, so.Expected)
				break
			}
		}
		ran++
	}
	if ran < 5 {
		t.Errorf("only %d files ran", ran)
	}
}

// A snapshot taken, the world changed, the snapshot restored: the LDIF export is byte for byte the
// one taken at the snapshot, on every DC. The listeners serve the restored world.
func TestControlSnapshotRestoreLDIF(t *testing.T) {
	r, _, c := startControlled(t, "--dcs", "2", "--seed", "31")
	ctx := context.Background()
	snap, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ldif := func(dc string) string {
		var b bytes.Buffer
		if err := c.LDIF(ctx, dc, &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	before1, before2 := ldif("DC1"), ldif("DC2")
	if _, err := c.Steps(ctx, "ps on=DC1\nNew-ADGroup AfterSnapshot Global\n\nadvance 2h\n"); err != nil {
		t.Fatal(err)
	}
	if ldif("DC2") == before2 || !strings.Contains(ldif("DC2"), "AfterSnapshot") {
		t.Fatal("the change did not reach DC2's LDIF")
	}
	if err := c.Restore(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if after1, after2 := ldif("DC1"), ldif("DC2"); after1 != before1 || after2 != before2 {
		t.Errorf("after restore the LDIF differs from the snapshot's (DC1 equal: %v, DC2 equal: %v)", after1 == before1, after2 == before2)
	}
	// The restored world answers on the same LDAP address, and steps run on it.
	_, vals := readyFields(t, r.Ready)
	if got, err := adminSearchPW(vals["ldap.DC2"], r, "(sAMAccountName=AfterSnapshot)"); err != nil || len(got) != 0 {
		t.Errorf("DC2 after restore: %v %v, want no AfterSnapshot", got, err)
	}
	res, err := c.Steps(ctx, "ps on=DC2\n(Get-ADServiceAccount ITFarm1).Name\n")
	if err != nil || len(res.Steps) != 1 || res.Steps[0].Output != "ITFarm1" {
		t.Errorf("steps on the restored world: %+v %v", res, err)
	}
	var ce *control.Error
	if err := c.Restore(ctx, []byte(`{"format":`)); !errors.As(err, &ce) || ce.Status != http.StatusBadRequest {
		t.Errorf("restore of a broken snapshot: %v, want 400", err)
	}
}

// adminSearchPW searches addr as Administrator with the password serve wrote.
func adminSearchPW(addr string, r *serveRun, filter string) ([]string, error) {
	_, vals := readyFieldsNoT(r.Ready)
	creds, err := os.ReadFile(filepath.Join(vals["state-dir"], "credentials.json"))
	if err != nil {
		return nil, err
	}
	return searchAsAdmin(addr, jsonField(creds, "Administrator"), filter)
}

// The acceptance 3: serve --world replication-chain-three-dcs.scn starts 3 DCs; a user
// added on DC1 over LDAP reaches DC3 over LDAP only once the world is advanced past both link
// delays (20m to DC2, 40m more to DC3); stopping DC2 through the API makes its ports refuse
// connections; starting it opens them again.
func TestServeWorldReplicationChain(t *testing.T) {
	r, _, c := startControlled(t, "--world", "../../scenarios/library/replication-chain-three-dcs.scn", "--seed", "40")
	ctx := context.Background()
	keys, vals := readyFields(t, r.Ready)
	for _, dc := range []string{"DC1", "DC2", "DC3"} {
		if vals["ldap."+dc] == "" || vals["kdc."+dc] == "" {
			t.Fatalf("ready line %v has no sockets for %s", keys, dc)
		}
	}
	_, v := readyFieldsNoT(r.Ready)
	pw := jsonField(must(os.ReadFile(filepath.Join(v["state-dir"], "credentials.json"))), "Administrator")
	l, err := ldap.DialURL("ldap://" + vals["ldap.DC1"])
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Bind("Administrator@contoso.com", pw); err != nil {
		t.Fatal(err)
	}
	add := ldap.NewAddRequest("CN=chainuser,CN=Users,DC=contoso,DC=com", nil)
	add.Attribute("objectClass", []string{"user"})
	add.Attribute("sAMAccountName", []string{"chainuser"})
	if err := l.Add(add); err != nil {
		t.Fatal(err)
	}
	onDC3 := func() int {
		got, err := adminSearchPW(vals["ldap.DC3"], r, "(sAMAccountName=chainuser)")
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := onDC3(); n != 0 {
		t.Fatalf("chainuser on DC3 at once")
	}
	if _, err := c.Steps(ctx, "advance 30m\n"); err != nil {
		t.Fatal(err)
	}
	if n := onDC3(); n != 0 {
		t.Errorf("chainuser on DC3 after 30m, before the DC2-DC3 delay ran out")
	}
	if _, err := c.Steps(ctx, "advance 31m\n"); err != nil {
		t.Fatal(err)
	}
	if n := onDC3(); n != 1 {
		t.Errorf("chainuser not on DC3 after 61m")
	}
	res, err := c.Steps(ctx, "stop DC2\n")
	if err != nil || len(res.Steps) != 1 || !strings.Contains(res.Steps[0].Output, "DC2 stopped") {
		t.Fatalf("stop DC2: %+v %v", res, err)
	}
	for _, k := range []string{"ldap.DC2", "ldaps.DC2", "kdc.DC2"} {
		if err := refused(vals[k]); err != nil {
			t.Errorf("%s after stop: %v", k, err)
		}
	}
	st, err := c.State(ctx)
	if err != nil || len(st.DCs) != 3 || st.DCs[1].Running {
		t.Errorf("state after stop: %+v %v", st.DCs, err)
	}
	if _, err := c.Steps(ctx, "start DC2\n"); err != nil {
		t.Fatal(err)
	}
	if got, err := adminSearchPW(vals["ldap.DC2"], r, "(sAMAccountName=chainuser)"); err != nil || len(got) != 1 {
		t.Errorf("DC2 after start: %v %v", got, err)
	}
}

// No token, a wrong token: 401, over the real server.
func TestControlRefusesWithoutToken(t *testing.T) {
	_, dir, _ := startControlled(t, "--seed", "3", "--kdc", "")
	url, err := control.EndpointFromStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"", "0123456789abcdef0123456789abcdef"} {
		_, err := control.NewClient(url, tok).State(context.Background())
		var ce *control.Error
		if !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized {
			t.Errorf("token %q: %v, want 401", tok, err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "control.token"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("control.token: %v %v, want mode 0600", fi, err)
	}
}

// readyFieldsNoT is readyFields for helpers without a *testing.T.
func readyFieldsNoT(line string) ([]string, map[string]string) {
	vals := map[string]string{}
	var keys []string
	for _, f := range strings.Fields(strings.TrimPrefix(line, "ready ")) {
		k, v, _ := strings.Cut(f, "=")
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals
}

// jsonField is the string value of key in a flat JSON object.
func jsonField(b []byte, key string) string {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("%s: %v", b, err))
	}
	return m[key]
}
