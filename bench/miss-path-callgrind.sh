#!/usr/bin/env bash
# Instructions per query (blocked, cached, upstream miss) under callgrind:
# bench/miss-path-cost.mjs run at two query counts per mode, the difference
# divided by the difference in queries (start-up and JIT warm-up cancel out).
# Needs valgrind and a build (npm run build). Takes a few minutes.
#   MODES="miss" N1=2000 N2=10000 WINDOW=16 bash bench/miss-path-callgrind.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${PORT:-25450}"; N1="${N1:-2000}"; N2="${N2:-10000}"; WINDOW="${WINDOW:-16}"
SOAK_TTL=3600 node "$ROOT/bench/soak-upstream.mjs" "$PORT" & up=$!
trap 'kill $up 2>/dev/null || true' EXIT
sleep 0.5
count() {
  valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
    node "$ROOT/bench/miss-path-cost.mjs" "$1" "$2" "$PORT" "$WINDOW" 2>&1 | sed -nE 's/.*Collected : ([0-9]+).*/\1/p'
}
for mode in ${MODES:-blocked cached miss driver}; do
  a=$(count "$mode" "$N1"); b=$(count "$mode" "$N2")
  awk -v m="$mode" -v a="$a" -v b="$b" -v n1="$N1" -v n2="$N2" 'BEGIN { printf "%-8s %9.0f instructions/query  (%d queries: %.0f, %d queries: %.0f)\n", m, (b - a) / (n2 - n1), n1, a, n2, b }'
done
