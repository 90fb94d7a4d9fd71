package scenarios

import "testing"

// BenchmarkScenario is one scenario's overhead: parse, world, steps, invariants.
func BenchmarkScenario(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sc, err := ParseFile("library/gmsa-forgotten-dollar.scn")
		if err != nil {
			b.Fatal(err)
		}
		if res := Run(sc, Options{}); res.Failure != nil {
			b.Fatal(res.Failure)
		}
	}
}
