package harness_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A failing scenario under Ginkgo points at its .scn file: the spec's location is the file at its
// world line, and the failure message starts with the failing step's file:line. The test runs
// this test binary on a fixture directory and reads Ginkgo's JSON report.
func TestFailingScenarioSpecLocation(t *testing.T) {
	if os.Getenv("GMSASIM_HARNESS_DIRS") != "" {
		t.Skip("inside the run this test starts")
	}
	report := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLibrary$", "-ginkgo.json-report="+report)
	cmd.Env = append(os.Environ(), "GMSASIM_HARNESS_DIRS=testdata/failing")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the failing fixture passed:\n%s", out)
	}
	var suites []struct {
		SpecReports []struct {
			LeafNodeText     string
			LeafNodeLocation struct {
				FileName   string
				LineNumber int
			}
			State   string
			Failure struct{ Message string }
		}
	}
	b, rerr := os.ReadFile(report)
	if rerr != nil || json.Unmarshal(b, &suites) != nil || len(suites) != 1 {
		t.Fatalf("report: %v\n%s", rerr, out)
	}
	found := false
	for _, r := range suites[0].SpecReports {
		if !strings.Contains(r.LeafNodeText, "fails-at-line-9.scn") {
			continue
		}
		found = true
		loc := r.LeafNodeLocation
		if !strings.HasSuffix(loc.FileName, filepath.Join("testdata", "failing", "fails-at-line-9.scn")) || loc.LineNumber != 3 {
			t.Errorf("spec location %s:%d, want the .scn file at its world line 3", loc.FileName, loc.LineNumber)
		}
		if r.State != "failed" || !strings.Contains(r.Failure.Message, "fails-at-line-9.scn:9") {
			t.Errorf("state %s, failure %q: want failed at fails-at-line-9.scn:9", r.State, r.Failure.Message)
		}
	}
	if !found {
		t.Errorf("no spec for the fixture in the report:\n%s", out)
	}
}
