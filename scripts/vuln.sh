#!/usr/bin/env bash
# Runs govulncheck against a Go vulnerability database built locally, for
# machines that cannot reach vuln.go.dev but can reach a Go module proxy:
#
#   1. installs govulncheck (golang.org/x/vuln, $MATCHD_GOVULNCHECK_VERSION);
#   2. downloads golang.org/x/vulndb ($MATCHD_VULNDB_VERSION, default latest)
#      from the module proxy: its data/osv/ holds every report as OSV JSON;
#   3. turns data/osv/ into the v1 database layout govulncheck reads
#      (index/db.json, index/modules.json, index/vulns.json, ID/<id>.json)
#      with vulndb's own cmd/indexdb, once per vulndb version, under
#      ${XDG_CACHE_HOME:-~/.cache}/matchd-vulndb/;
#   4. runs govulncheck -db file://… on the module, with the Go toolchain
#      that builds matchd (standard-library findings are about that
#      toolchain).
#
# Exit status: govulncheck's (0: nothing reachable; 3: vulnerabilities
# found), or 1 when the database cannot be built. Extra arguments go to
# govulncheck (default ./...).
set -euo pipefail
cd "$(dirname "$0")/.."
govulncheck_version=${MATCHD_GOVULNCHECK_VERSION:-v1.10.0}
vulndb_version=${MATCHD_VULNDB_VERSION:-latest}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/matchd-vulndb

gobin=$(go env GOPATH)/bin
if ! "$gobin/govulncheck" -version 2>/dev/null | grep -q "govulncheck@$govulncheck_version"; then
  echo "== installing govulncheck $govulncheck_version"
  go install "golang.org/x/vuln/cmd/govulncheck@$govulncheck_version"
fi

# -json prints the resolved version and where the module was extracted.
info=$(go mod download -json "golang.org/x/vulndb@$vulndb_version")
version=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p')
src=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$version" ] || [ ! -d "$src/data/osv" ]; then
  echo "vuln.sh: golang.org/x/vulndb@$vulndb_version has no data/osv:" >&2
  printf '%s\n' "$info" >&2
  exit 1
fi
db=$cache/$version
if [ ! -f "$db/index/db.json" ]; then
  echo "== building the vulnerability database from golang.org/x/vulndb@$version ($(ls "$src/data/osv" | wc -l) reports)"
  rm -rf "$db.tmp"
  mkdir -p "$cache"
  go run "golang.org/x/vulndb/cmd/indexdb@$version" -vulns "$src/data/osv" -out "$db.tmp"
  mv "$db.tmp" "$db"
fi

echo "== govulncheck $govulncheck_version, $(go env GOVERSION), database golang.org/x/vulndb@$version"
status=0
out=$("$gobin/govulncheck" -db "file://$db" "${@:-./...}" 2>&1) || status=$?
printf '%s\n' "$out"
if [ "$status" -ne 0 ] && printf '%s\n' "$out" | grep -q 'Found in: .*@go[0-9]'; then
  echo "vuln.sh: findings in the standard library are fixed by a newer Go toolchain (see each 'Fixed in');" >&2
  echo "vuln.sh: build with it, e.g. GOTOOLCHAIN=goX.Y.Z, and run this script the same way." >&2
fi
exit $status
