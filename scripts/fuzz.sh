#!/usr/bin/env bash
# Runs every Go fuzz target of the module for the given time each (default
# 10s); a second argument, an extended regexp, keeps only the targets whose
# "package target" matches (scripts/fuzz.sh 1m 'ingest FuzzReplay').
set -euo pipefail
fuzztime=${1:-10s}
only=${2:-}
cd "$(dirname "$0")/.."
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
  for t in $targets; do
    if [ -n "$only" ] && ! echo "$pkg $t" | grep -Eq "$only"; then
      continue
    fi
    echo "== $pkg $t ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${t}\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s "$pkg"; then
      status=1
    fi
  done
done
exit $status
