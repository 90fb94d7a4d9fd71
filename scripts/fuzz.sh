#!/usr/bin/env bash
# Runs every Go fuzz target in the module, one at a time, each for $FUZZTIME. A crasher fails the
# run; Go writes it to the package's testdata/fuzz/<Target>/, where it stays as a regression test.
set -euo pipefail
FUZZTIME=${FUZZTIME:-30s}
# Go minimises every new-coverage input for up to 60 s by default; with the large seeds (whole
# scenario files, LDIF exports) a short run then spends its time minimising and executes almost
# nothing (FuzzImportLDIF: 7 execs in 25 s). Bound it.
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-2s}
cd "$(dirname "$0")/.."
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -h -o '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "== $pkg $target ($FUZZTIME)"
    if ! go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME"; then
      echo "FAIL: $pkg $target" >&2
      status=1
    fi
  done
done
exit $status
