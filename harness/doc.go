// Package harness turns gmsasim scenario files into Ginkgo v2 specs and offers Gomega matchers
// for Go users' own specs against a sim.World.
//
// Specs builds one spec per scenario file before the tree runs (labels from the file header;
// files labelled pending are skipped unless asked for), so the library runs under plain
// `go test ./...` and in parallel under `ginkgo -p`. Each spec runs the scenario with the shared
// runner of package scenarios, which after every scenario checks the invariants (replicas
// identical after quiescence) and, for files labelled metamorphic, reruns with other link delays
// and requires the same directory digest. A failing spec's message starts with
// "seed=N scenario=path:line t=+HhMm" and ends with the replay command.
//
// Matchers: Converge() (a *sim.World whose replicas are identical after quiescence),
// PassScenario() (a *scenarios.Result without failure) and HaveDigestOf(w) (two worlds' first
// replicas hold the same directory).
//
// Ginkgo and Gomega are imported here and in tests only (STYLE.md).
package harness
