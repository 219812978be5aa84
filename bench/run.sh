#!/usr/bin/env bash
# End-to-end benchmark: matchd replay against grep -F, rg -F and a naive Go
# baseline on generated corpora. Arguments go to bench/cmd/matchd-bench:
#   bench/run.sh            full sizes (1M records, 100k URLs, 1M IPs, ...)
#   bench/run.sh --short    CI sizes
#   bench/run.sh --short --floor 2   exit 1 below 2x the best peer
# See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./bench/cmd/matchd-bench "$@"
