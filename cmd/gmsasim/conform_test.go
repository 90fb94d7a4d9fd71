package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gokeytab "github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gmsasim/gmsasim/keytab"
)

// conformFixtureMain is this test binary acting as gmsasim for conform's adapters
// (GMSASIM_TEST_AS_GMSASIM=1), with the broken products of conform/testdata:
//   - drops-previous: after a successful refresh the keytab keeps only its highest kvno;
//   - never-refreshes: once the keytab exists a refresh does nothing and exits 0.
func conformFixtureMain(fixture string, args []string) int {
	out := ""
	for i, a := range args {
		if a == "--out" && i+1 < len(args) {
			out = args[i+1]
		}
	}
	switch fixture {
	case "never-refreshes":
		if _, err := os.Stat(out); err == nil {
			fmt.Println("never-refreshes: keys already fetched at start")
			return 0
		}
	case "drops-previous":
		code := run(args, os.Stdout, os.Stderr)
		if code != 0 {
			return code
		}
		kt, err := gokeytab.Load(out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "drops-previous:", err)
			return 1
		}
		top := uint32(0)
		for _, e := range kt.Entries {
			top = max(top, e.KVNO)
		}
		var keep []keytab.Entry
		for _, e := range kt.Entries {
			if e.KVNO == top {
				keep = append(keep, keytab.Entry{Components: e.Principal.Components, Realm: e.Principal.Realm, NameType: uint32(e.Principal.NameType),
					Timestamp: e.Timestamp, KVNO: e.KVNO, EType: uint16(e.Key.KeyType), Key: e.Key.KeyValue})
			}
		}
		data, err := keytab.Marshal(keep)
		if err == nil {
			err = os.WriteFile(out, data, 0o600)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "drops-previous:", err)
			return 1
		}
		return 0
	}
	return run(args, os.Stdout, os.Stderr)
}

// conformRun runs gmsasim conform with adapter (a path under conform/) and returns its exit
// code, stdout, and the JUnit document.
func conformRun(t *testing.T, adapter string, extra ...string) (int, string, junitSuite) {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	args := append([]string{"conform", "--adapter", filepath.Join("..", "..", "conform", adapter),
		"--junit", filepath.Join(dir, "junit.xml"), "--report", filepath.Join(dir, "report"), "--parallel", "4"}, extra...)
	code := run(args, &out, &errb)
	if errb.Len() > 0 {
		t.Logf("stderr: %s", errb.String())
	}
	var ju junitSuite
	if b, err := os.ReadFile(filepath.Join(dir, "junit.xml")); err != nil {
		t.Fatalf("exit %d, no JUnit: %v\n%s", code, err, out.String())
	} else if err := xml.Unmarshal(b, &ju); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report", "index.html"))
	if err != nil || !bytes.Contains(html, []byte("<h2 id=\"initial-retrieval\">")) {
		t.Errorf("report: %v, %d bytes without the initial-retrieval section", err, len(html))
	}
	return code, out.String(), ju
}

type junitSuite struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Cases    []struct {
		Name    string `xml:"name,attr"`
		Failure *struct {
			Text string `xml:",chardata"`
		} `xml:"failure"`
		Error *struct {
			Text string `xml:",chardata"`
		} `xml:"error"`
	} `xml:"testcase"`
}

func (j junitSuite) failed() map[string]string {
	out := map[string]string{}
	for _, c := range j.Cases {
		switch {
		case c.Error != nil:
			out[c.Name] = "ERROR " + c.Error.Text
		case c.Failure != nil:
			out[c.Name] = c.Failure.Text
		}
	}
	return out
}

var allChecks = []string{"initial-retrieval", "kdc-ticket-decrypts", "next-password-in-window", "previous-key-kept",
	"removed-from-principals", "aes-only", "dc-stopped", "replication-lag", "no-usable-root-key", "dollar-forms"}

// The shipped adapter for gmsasim keytab passes every check.
func TestConformKeytabAdapterPassesEveryCheck(t *testing.T) {
	t.Parallel()        // its own worlds and files: it overlaps the others
	began := time.Now() // wallclock: logged, not asserted
	code, out, ju := conformRun(t, "adapters/gmsasim-keytab.json")
	t.Logf("%s(%s)", out, time.Since(began))
	var names []string
	for _, c := range ju.Cases {
		names = append(names, c.Name)
	}
	if code != 0 || ju.Tests != len(allChecks) || len(ju.failed()) != 0 || !slices.Equal(names, allChecks) {
		t.Fatalf("exit %d, %d tests %v, failed %v\n%s", code, ju.Tests, names, ju.failed(), out)
	}
}

// The host-keytab adapter (SASL GSSAPI, sealed) passes every check too. make interop runs it with
// the real binary; here only in make test-long (it costs as much as the keytab adapter's run).
func TestConformKerberosAdapterPassesEveryCheck(t *testing.T) {
	if os.Getenv("GMSASIM_TEST_LONG") == "" {
		t.Skip("make test-long and make interop run it")
	}
	code, out, ju := conformRun(t, "adapters/gmsasim-keytab-kerberos.json")
	if code != 0 || ju.Tests != len(allChecks) || len(ju.failed()) != 0 {
		t.Fatalf("exit %d, %d tests, failed %v\n%s", code, ju.Tests, ju.failed(), out)
	}
}

// The broken fixtures fail exactly the checks they should, saying what the product did wrong.
func TestConformBrokenFixtures(t *testing.T) {
	for _, tc := range []struct {
		adapter string
		want    map[string][]string // check → message fragments
	}{
		{"testdata/drops-previous.json", map[string][]string{
			"previous-key-kept": {"the keytab holds kvno 2 only: the previous password (kvno 1) was dropped, so a ticket issued before the rotation no longer decrypts"},
		}},
		{"testdata/never-refreshes.json", map[string][]string{
			"next-password-in-window": {"the keytab holds kvno 1 only: the product did not pick up the next password (kvno 2)",
				"(kvno 2) does not decrypt with the product's keys: the product holds kvno 1 for http/ITFarm1.contoso.com@CONTOSO.COM, the ticket is kvno 2"},
			"removed-from-principals": {"exited 0: the product did not report that the DC refused it the password"},
		}},
	} {
		t.Run(strings.TrimSuffix(filepath.Base(tc.adapter), ".json"), func(t *testing.T) {
			t.Parallel()
			code, out, ju := conformRun(t, tc.adapter)
			got := ju.failed()
			if code != 1 || len(got) != len(tc.want) {
				t.Errorf("exit %d, failed %d checks, want %d:\n%s", code, len(got), len(tc.want), out)
			}
			for check, frags := range tc.want {
				msg, ok := got[check]
				if !ok {
					t.Errorf("%s passed, want a failure", check)
					continue
				}
				for _, f := range frags {
					if !strings.Contains(msg, f) {
						t.Errorf("%s: message %q lacks %q", check, msg, f)
					}
				}
			}
			for check, msg := range got {
				if _, ok := tc.want[check]; !ok {
					t.Errorf("%s failed, want a pass: %s", check, msg)
				}
			}
		})
	}
}

// Usage errors exit 2 before any world starts.
func TestConformUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"--adapter", "/nonexistent.json"}, {"--adapter", "../../conform/adapters/gmsasim-keytab.json", "--check", "nope"}} {
		var out, errb bytes.Buffer
		if code := run(append([]string{"conform"}, args...), &out, &errb); code != 2 {
			t.Errorf("conform %v: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}
