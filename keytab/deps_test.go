package keytab

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The package is for programs that talk to a real DC: what it builds with (its non-test imports,
// transitively, within this module) holds nothing of the simulator.
func TestImportsNoSimulatorPackage(t *testing.T) {
	const module = "github.com/gmsasim/gmsasim/"
	seen := map[string]bool{}
	var visit func(rel string)
	visit = func(rel string) {
		if seen[rel] {
			return
		}
		seen[rel] = true
		pkg, err := build.ImportDir(filepath.Join("..", filepath.FromSlash(rel)), 0)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, imp := range pkg.Imports {
			if dep, ok := strings.CutPrefix(imp, module); ok {
				visit(dep)
			}
		}
	}
	visit("keytab")
	var deps []string
	for rel := range seen {
		deps = append(deps, rel)
	}
	slices.Sort(deps)
	for _, rel := range deps {
		top, _, _ := strings.Cut(rel, "/")
		if slices.Contains([]string{"sim", "fakead", "scenarios", "harness", "cmd"}, top) {
			t.Errorf("keytab depends on the simulator package %s (deps: %v)", rel, deps)
		}
	}
	if !slices.Contains(deps, "fakekds") {
		t.Errorf("deps %v: the walk missed fakekds, which keytab imports", deps)
	}
}
