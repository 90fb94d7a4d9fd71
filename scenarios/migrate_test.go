package scenarios

import (
	"os"
	"path/filepath"
	"testing"
)

// Every MIM scenario (scenarios/mim) parses and passes; -rewrite regenerates their outputs.
func TestMIMLibrary(t *testing.T) {
	files, _ := filepath.Glob("mim/*.scn")
	if len(files) < 15 {
		t.Errorf("scenarios/mim has %d scenarios, want at least 15", len(files))
	}
	for _, f := range files {
		f := f
		t.Run(filepath.Base(f), func(t *testing.T) {
			if *rewrite {
				sc, err := ParseFileForRewrite(f)
				if err != nil {
					t.Fatal(err)
				}
				if res := Run(sc, Options{Rewrite: true}); !res.Skipped {
					if res.Failure != nil && res.Failure.Expected == "" && res.Failure.Got == "" {
						t.Fatalf("%v", res.Failure)
					}
					if err := os.WriteFile(f, []byte(res.Rewritten), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			sc, err := ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res := Run(sc, Options{})
			if res.Failure != nil {
				t.Errorf("%v", res.Failure)
			}
		})
	}
}
