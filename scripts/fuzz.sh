#!/usr/bin/env bash
# Runs every Go fuzz target of the module for the given time each (default
# 10s); a second argument, an extended regexp, keeps only the targets whose
# "package target" matches (scripts/fuzz.sh 1m 'ingest FuzzReplay').
set -euo pipefail
fuzztime=${1:-10s}
only=${2:-}
cd "$(dirname "$0")/.."
status=0
# count prints the number of files in a corpus directory (0 if absent).
count() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
  for t in $targets; do
    if [ -n "$only" ] && ! echo "$pkg $t" | grep -Eq "$only"; then
      continue
    fi
    echo "== $pkg $t ($fuzztime)"
    corpus="$dir/testdata/fuzz/$t"
    before=$(count "$corpus")
    log=$(mktemp)
    if go test -run '^$' -fuzz "^${t}\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s "$pkg" 2>&1 | tee "$log"; [ "${PIPESTATUS[0]}" -ne 0 ]; then
      after=$(count "$corpus")
      # The fuzzer can report "context deadline exceeded" when -fuzztime
      # ends while a worker is still running a slow input; that is no
      # finding. A real failure always writes its input to the corpus.
      if [ "$after" -eq "$before" ] && grep -q 'context deadline exceeded' "$log"; then
        echo "   (time ran out inside a slow input; no failing input was found)"
      else
        status=1
      fi
    fi
    rm -f "$log"
  done
done
exit $status
