package harness_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gmsasim/gmsasim/harness"
)

func TestLibrary(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "gmsasim scenario library")
}

// One spec per scenario file of the library, built before the tree runs.
var _ = Describe("scenario library", func() {
	harness.Specs(harness.Config{Dirs: []string{"../scenarios/library"}})
})
