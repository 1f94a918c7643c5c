#!/usr/bin/env bash
# RSS of dnsvakt after a mixed load with upstream misses (issue 14: within
# 128 MB with the default cache). dnsvakt as `npm start` runs it (default
# config, shipped lists, workers: 1) against bench/soak-upstream.mjs; dnsperf
# sends QUERIES queries once each: 10 % blocked names, 80 % 1,000 hot names,
# 10 % new names (so QUERIES/10 cache entries are made). Prints VmRSS and
# VmHWM after the load, and the cache's entries and bytes from /metrics.
#   QUERIES=600000 EXTRA_CONFIG='cache: { maxBytes: 32MiB }' [TRACE_GC=1] [SETTLE=10] [NODE_FLAGS=...] bash bench/miss-rss.sh [DIST_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="${1:-$ROOT/dist}"
UP=26450; GW=26451; ADMIN=26452; QUERIES="${QUERIES:-600000}"
WORK="$(mktemp -d /tmp/dnsvakt-rss.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
SOAK_TTL=3600 node "$ROOT/bench/soak-upstream.mjs" $UP & pids+=($!)
cat > "$WORK/cfg.yaml" <<YAML
listen: { dns: ["127.0.0.1:$GW"], admin: "127.0.0.1:$ADMIN" }
upstream: { servers: ["127.0.0.1:$UP"] }
blocking: { dir: $ROOT/blocklists }
log: { level: warn }
${EXTRA_CONFIG:-}
YAML
node -e '
const fs = require("fs"); let s = 7; const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
const names = fs.readFileSync(process.argv[1] + "/blocklists/tiktok.txt", "utf8").split("\n").filter((l) => l && !l.startsWith("#"))
const out = [], n = +process.argv[3]
for (let i = 0; i < n; i++) {
  const r = rnd()
  out.push(r < 0.1 ? `x${i}.${names[i % names.length]} A` : r < 0.9 ? `h${Math.floor(1000 * Math.pow(rnd(), 3))}.bench.test A` : `u${i}-${Math.floor(rnd() * 1e9)}.bench.test A`)
}
fs.writeFileSync(process.argv[2] + "/mixed.txt", out.join("\n") + "\n")
' "$ROOT" "$WORK" "$QUERIES"
(cd "$WORK" && ln -s "$DIST" dist && ln -s "$ROOT/node_modules" node_modules && ln -s "$ROOT/package.json" package.json && ln -s "$ROOT/blocklists" blocklists)
node ${NODE_FLAGS:---max-semi-space-size=16} ${TRACE_GC:+--trace-gc} "$WORK/dist/cli.js" serve --config "$WORK/cfg.yaml" >"$WORK/gw.log" 2>&1 & gw=$!; pids+=($gw)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$ADMIN/metrics" >/dev/null 2>&1 && break; sleep 0.2; done
echo "start: $(grep VmRSS /proc/$gw/status)"
dnsperf -s 127.0.0.1 -p $GW -d "$WORK/mixed.txt" -n 1 -c 4 -q 200 2>&1 | grep -E "Queries (sent|completed|lost)|Queries per second" | tr -s ' ' | paste -sd' '
grep -E "VmRSS|VmHWM" /proc/$gw/status | tr -s ' \t' ' ' | paste -sd' '
sleep "${SETTLE:-0}"   # SETTLE=10: again after V8's memory reducer had time to run
[ -n "${TRACE_GC:-}" ] && grep -E "Mark-Compact|Scavenge" "$WORK/gw.log" | tail -3
grep -E "VmRSS|VmHWM" /proc/$gw/status | tr -s ' \t' ' ' | paste -sd' '
curl -s "http://127.0.0.1:$ADMIN/metrics" | grep -E "^dnsvakt_cache_(entries|bytes)|^nodejs_heap_size_(used|total)_bytes|^nodejs_heap_space_size_(used|total)_bytes.*(old|new)_space|^nodejs_external_memory_bytes" | sed -E 's/^(dnsvakt_|nodejs_)//' | paste -sd' '
