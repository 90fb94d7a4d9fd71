package harness_test

import (
	"os"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gmsasim/gmsasim/harness"
)

func TestLibrary(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "gmsasim scenario library")
}

// specDirs are the directories whose scenario files become specs: every scenario file of the
// repository (the library and the MIM migration scenarios), or GMSASIM_HARNESS_DIRS
// (comma-separated; location_test.go runs this binary on a failing fixture).
func specDirs() []string {
	if d := os.Getenv("GMSASIM_HARNESS_DIRS"); d != "" {
		return strings.Split(d, ",")
	}
	return []string{"../scenarios/library", "../scenarios/mim"}
}

// One spec per scenario file, built before the tree runs.
var _ = Describe("scenarios", func() {
	harness.Specs(harness.Config{Dirs: specDirs(), IncludeLong: os.Getenv("GMSASIM_TEST_LONG") != ""})
})
