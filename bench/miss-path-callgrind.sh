#!/usr/bin/env bash
# Instructions per query (blocked, cached, upstream miss) under callgrind:
# bench/miss-path-cost.mjs run at two query counts per mode, the difference
# divided by the difference in queries (start-up and JIT warm-up cancel out).
# node runs --single-threaded: callgrind counts every thread, and V8's
# background compiler and GC threads otherwise add work that varies from run
# to run. WINDOW=1 (the default) sends one query at a time, so each miss is
# one event-loop turn and the count repeats within ~1 %; with WINDOW=16 how
# many replies one wake-up brings depends on timing, and a miss's count
# varied by ~20 % between runs of one build.
# Needs valgrind and a build (npm run build). Takes several minutes a mode.
#   MODES="miss" N1=4000 N2=20000 WINDOW=1 bash bench/miss-path-callgrind.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${PORT:-25450}"; N1="${N1:-4000}"; N2="${N2:-20000}"; WINDOW="${WINDOW:-1}"
SOAK_TTL=3600 node "$ROOT/bench/soak-upstream.mjs" "$PORT" & up=$!
trap 'kill $up 2>/dev/null || true' EXIT
sleep 0.5
count() {
  valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
    node --single-threaded "$ROOT/bench/miss-path-cost.mjs" "$1" "$2" "$PORT" "$WINDOW" 2>&1 | sed -nE 's/.*Collected : ([0-9]+).*/\1/p'
}
for mode in ${MODES:-blocked cached miss driver}; do
  a=$(count "$mode" "$N1"); b=$(count "$mode" "$N2")
  awk -v m="$mode" -v a="$a" -v b="$b" -v n1="$N1" -v n2="$N2" 'BEGIN { printf "%-8s %9.0f instructions/query  (%d queries: %.0f, %d queries: %.0f)\n", m, (b - a) / (n2 - n1), n1, a, n2, b }'
done
