package scenarios

import (
	"bytes"
	"encoding/xml"
	"flag"
	"github.com/gmsasim/gmsasim/fakekds"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gmsasim/gmsasim/scenarios/ps"
)

// Malformed scenarios fail at parse time with file, line and what was expected.
func TestMalformed(t *testing.T) {
	want := map[string]string{
		"unknown-cmdlet.scn":        `unknown-cmdlet.scn:7: unknown cmdlet "New-ADFoo"; the simulator knows: Add-ADGroupMember`,
		"bad-parameter.scn":         "bad-parameter.scn:6: New-ADServiceAccount has no parameter -Colour; its parameters are: -Name -DNSHostName",
		"unclosed-quote.scn":        "unclosed-quote.scn:6: PowerShell: column 13: the string is missing the terminator: ' (unclosed single-quoted string)",
		"missing-separator.scn":     `missing-separator.scn:6: directive "advance" (line 5): expected its input lines to end with a line "----", found a blank line`,
		"missing-separator-eof.scn": `missing-separator-eof.scn:6: directive "ps" (line 5): expected a line "----" before the end of the file`,
		"no-header.scn":             "no-header.scn:1: expected a leading # paragraph",
		"unknown-directive.scn":     `unknown-directive.scn:5: unknown directive "teleport"; expected one of: advance, check, crash-at, cut`,
		"bad-world.scn":             `bad-world.scn:2: world: world line 1 (domain contoso.com schema=fortyseven): schema="fortyseven": expected an objectVersion`,
		"unclosed-hashtable.scn":    "unclosed-hashtable.scn:6: PowerShell: column 67: missing closing '}' of a hashtable @{...}",
	}
	files, _ := filepath.Glob("testdata/malformed/*.scn")
	if len(files) != len(want) {
		t.Fatalf("%d malformed files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		_, err := ParseFile(f)
		if err == nil {
			t.Errorf("%s: parsed without error", f)
			continue
		}
		w := want[filepath.Base(f)]
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s:\n got  %v\n want ...%s...", f, err, w)
		}
		if _, ok := err.(*ParseError); !ok {
			t.Errorf("%s: error is %T, want *ParseError", f, err)
		}
	}
}

// The binder: prefixes, positional arguments, mandatory parameters, enums, as PowerShell reports them.
func TestBind(t *testing.T) {
	cases := []struct{ in, want string }{
		{`New-ADGroup G1 Global -Desc hi`, "Description=hi GroupScope=Global Name=G1"},
		{`New-ADGroup G1`, "Cannot process command because of one or more missing mandatory parameters: GroupScope."},
		{`New-ADGroup G1 Global extra`, "A positional parameter cannot be found that accepts argument 'extra'."},
		{`New-ADServiceAccount X -DNSHostName a -KerberosEncryptionType RC4,AES256`, "DNSHostName=a KerberosEncryptionType=[RC4 AES256] Name=X"},
		{`New-ADServiceAccount X -Principals a`, "Parameter cannot be processed because the parameter name 'Principals' is ambiguous. Possible matches include: -PrincipalsAllowedToDelegateToAccount -PrincipalsAllowedToRetrieveManagedPassword."},
		{`New-ADGroup G1 -GroupScope Global -GroupScope Universal`, "Cannot bind parameter because parameter 'GroupScope' is specified more than once."},
	}
	for _, c := range cases {
		stmts, err := ps.Parse(c.in)
		if err != nil {
			t.Fatal(err)
		}
		s := ps.NewSession()
		def := newCmdletTable().lookup(stmts[0].Cmd.Name)
		b, err := ps.Bind(&def.Cmdlet, stmts[0].Cmd.Elems, func(e ps.Expr) (any, error) { return s.Eval(e, nil) })
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			var kv []string
			for k, v := range b {
				if ss, ok := v.([]string); ok {
					v = "[" + strings.Join(ss, " ") + "]"
				}
				kv = append(kv, k+"="+ps.ToString(v))
			}
			sort.Strings(kv)
			got = strings.Join(kv, " ")
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s:\n got  %s\n want %s", c.in, got, c.want)
		}
	}
}

func TestSecurityDescriptorRoundTrip(t *testing.T) {
	sids := []string{"S-1-5-21-1-2-3-1104", "S-1-5-21-1-2-3-1105"}
	sd, err := buildGMSAMembershipSD(sids)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseGMSAMembershipSD(sd)
	if err != nil || strings.Join(got, ",") != strings.Join(sids, ",") {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if sd[0] != 1 || sd[2] != 0x04 || sd[3] != 0x80 {
		t.Errorf("header %x: want revision 1, control SE_SELF_RELATIVE|SE_DACL_PRESENT", sd[:4])
	}
	if _, err := parseGMSAMembershipSD(sd[:30]); err == nil {
		t.Error("truncated descriptor parsed")
	}
}

const brokenScenario = `# A deliberately broken expectation.
# labels: test
world seed=5
domain contoso.com
dc DC1 os=2016
dc DC2 os=2016 link=DC1:1h
----
domain contoso.com (CONTOSO) schema=88 sid=S-1-5-21-3857832889-1318777465-3325247844
dc DC1 os=2016
dc DC2 os=2016
link DC2-DC1 delay=1h

ps on=DC1
New-ADGroup ITFarmHosts Global
----

advance 2h
----
+1h00m00s DC2 replicated 1 change from DC1

ps on=DC2
(Get-ADGroup ITFarmHosts).Name
----
ITFarmHostz
`

// A broken expectation fails with seed, file:line, time, a diff and the replay command, and the
// same run replays identically (same trace).
func TestFailureAndReplay(t *testing.T) {
	sc, err := Parse("broken.scn", brokenScenario)
	if err != nil {
		t.Fatal(err)
	}
	res := Run(sc, Options{})
	if res.Failure == nil {
		t.Fatal("broken expectation passed")
	}
	msg := res.Failure.Error()
	for _, want := range []string{"seed=5 scenario=broken.scn:21 t=+2h00m: output differs", " - ITFarmHostz", " + ITFarmHosts",
		"last trace lines:", "+1h00m00s DC2 replicated 1 change from DC1", "replay: gmsasim run broken.scn --seed 5"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
	again := Run(sc, Options{Seed: 5, SeedSet: true})
	if again.Failure == nil || again.Failure.Error() != msg {
		t.Errorf("replay differs:\n%v\nvs\n%s", again.Failure, msg)
	}
	if strings.Join(again.Trace, "\n") != strings.Join(res.Trace, "\n") {
		t.Error("same seed, different trace")
	}
}

// Rewrite records outputs; running the rewritten file passes.
func TestRewriteRoundTrip(t *testing.T) {
	sc, err := Parse("broken.scn", brokenScenario)
	if err != nil {
		t.Fatal(err)
	}
	res := Run(sc, Options{Rewrite: true})
	if !strings.Contains(res.Rewritten, "----\nITFarmHosts\n") {
		t.Fatalf("rewrite did not record the output:\n%s", res.Rewritten)
	}
	sc2, err := Parse("fixed.scn", res.Rewritten)
	if err != nil {
		t.Fatal(err)
	}
	if r := Run(sc2, Options{}); r.Failure != nil {
		t.Fatalf("rewritten scenario fails: %v", r.Failure)
	}
}

var rewrite = flag.Bool("rewrite", false, "rewrite the library's expected outputs (pending files are left alone)")

// Every library file parses, starts with a header, and passes (or is pending). With -rewrite the
// expected outputs are regenerated; review the diff.
func TestLibrary(t *testing.T) {
	if !*rewrite && os.Getenv("GMSASIM_TEST_LONG") == "" {
		t.Skip("make test runs every scenario file as a Ginkgo spec (harness/library_suite_test.go); -rewrite or GMSASIM_TEST_LONG=1 runs them here too")
	}
	files, _ := filepath.Glob("library/*.scn")
	if len(files) < 30 {
		t.Errorf("library has %d scenarios, want at least 30", len(files))
	}
	keys := fakekds.NewKeyMemo() // shared by the files' worlds, as gmsasim run shares one
	for _, f := range files {
		if *rewrite {
			sc, err := ParseFileForRewrite(f)
			if err != nil {
				t.Fatal(err)
			}
			if res := Run(sc, Options{Rewrite: true}); !res.Skipped {
				if err := os.WriteFile(f, []byte(res.Rewritten), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		sc, err := ParseFile(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		res := Run(sc, Options{Keys: keys})
		if res.Failure != nil {
			t.Errorf("%v", res.Failure)
		}
		if res.Skipped != sc.Pending() {
			t.Errorf("%s: skipped=%v pending=%v", f, res.Skipped, sc.Pending())
		}
	}
}

func TestJUnitAndReport(t *testing.T) {
	sc, _ := Parse("broken.scn", brokenScenario)
	ok, _ := ParseFile("library/replication-partition-heal.scn")
	results := []*Result{Run(sc, Options{}), Run(ok, Options{})}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, results, 0); err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &suite); err != nil {
		t.Fatalf("JUnit is not XML: %v", err)
	}
	if suite.Tests != 2 || suite.Failures != 1 || len(suite.Cases) != 2 || suite.Cases[0].Failure == nil {
		t.Errorf("JUnit: %+v", suite)
	}
	buf.Reset()
	if err := WriteReport(&buf, results, "summary"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "replication delivery", "DC2", "FAIL"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestLabelFilter(t *testing.T) {
	sc := &Scenario{Labels: []string{"kds", "replication"}}
	for expr, want := range map[string]bool{"kds": true, "!kds": false, "kds && !slow": true, "gmsa || replication": true,
		"(gmsa || kds) && pending": false, "gmsa, kds": true} {
		f, err := ParseLabelFilter(expr)
		if err != nil || f.Match(sc) != want {
			t.Errorf("%q: %v, %v", expr, f != nil && f.Match(sc), err)
		}
	}
	if _, err := ParseLabelFilter("kds &&"); err == nil {
		t.Error("dangling && accepted")
	}
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }

// A metamorphic scenario whose end state depends on replication timing fails the metamorphic
// check: here DC2 deletes the gMSA itself only if DC1's delete has not arrived yet.
func TestMetamorphicCatchesTimingDependence(t *testing.T) {
	b, err := os.ReadFile("library/gmsa-decommission-farm.scn")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "# labels: gmsa, lifecycle, replication, seed-001", "# labels: gmsa, lifecycle, replication, seed-001, metamorphic", 1)
	sc, err := Parse("timing.scn", text)
	if err != nil {
		t.Fatal(err)
	}
	res := Run(sc, Options{})
	if res.Failure == nil || !strings.Contains(res.Failure.Msg, "metamorphic: with link delays x4 the directory ends with digest") {
		t.Fatalf("metamorphic check did not fire: %v", res.Failure)
	}
	ok, _ := ParseFile("library/replication-partition-heal.scn")
	if r := Run(ok, Options{}); r.Failure != nil || r.Digest == "" {
		t.Fatalf("metamorphic scenario: %v (digest %q)", r.Failure, r.Digest)
	}
}
