#!/usr/bin/env bash
# Quick hot-path check: CPU time per answered query for blocked, cached and
# upstream-miss answers (dnsvakt pinned to core 0, dnsperf to core 1), against
# a dnsmasq upstream on loopback. Bounded: three 6-second dnsperf runs.
#   PROFILE=1     also write a --cpu-prof profile and print the top functions
#   MIXES="miss"  run only the listed mixes
#   NODE_FLAGS="--max-semi-space-size=4"  flags for dnsvakt's node (default none)
#   FLOOR=1       run a bare Node UDP echo server (bench/echo-floor.mjs) in
#                 dnsvakt's place: Node's own floor on this machine
# Usage: bash bench/hot-path.sh        (after npm run build)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d /tmp/dnsvakt-hot.XXXXXX)"
UP=26400; GW=26401; SECS="${SECS:-6}"
export PATH="$PATH:/usr/sbin"
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

dnsmasq --no-daemon --port=$UP --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
  --local-ttl=3600 --address=/bench.test/192.0.2.10 >/dev/null 2>&1 &
pids+=($!)
cat > "$WORK/cfg.yaml" <<YAML
workers: 1
listen: { dns: ["127.0.0.1:$GW"], admin: "" }
upstream: { servers: ["127.0.0.1:$UP"] }
blocking: { dir: $ROOT/blocklists }
log: { level: warn }
YAML
node -e '
const fs = require("fs"); let s = 1; const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
const names = fs.readFileSync(process.argv[1] + "/blocklists/tiktok.txt", "utf8").split("\n").filter((l) => l && !l.startsWith("#"))
const b = [], c = [], m = []
for (let i = 0; i < 50000; i++) {
  b.push(`x${Math.floor(rnd() * 1e5)}.${names[Math.floor(rnd() * names.length)]} ${rnd() < 0.5 ? "A" : "AAAA"}`)
  c.push(`h${Math.floor(1000 * Math.pow(rnd(), 3))}.bench.test A`)
}
for (let i = 0; i < 400000; i++) m.push(`u${i}-${Math.floor(rnd() * 1e9)}.bench.test A`)
fs.writeFileSync(process.argv[2] + "/blocked.txt", b.join("\n") + "\n"); fs.writeFileSync(process.argv[2] + "/cached.txt", c.join("\n") + "\n")
fs.writeFileSync(process.argv[2] + "/miss.txt", m.join("\n") + "\n")
' "$ROOT" "$WORK"
prof=(); [ "${PROFILE:-0}" = 1 ] && prof=(--cpu-prof "--cpu-prof-dir=$WORK")
if [ "${FLOOR:-0}" = 1 ]; then   # Node's floor: an echo server with no DNS logic, same sockets and load
  taskset -c 0 node "${prof[@]}" "$ROOT/bench/echo-floor.mjs" $GW >"$WORK/gw.log" 2>&1 &
else
  # shellcheck disable=SC2086 # NODE_FLAGS is a list of flags
  taskset -c 0 node ${NODE_FLAGS:-} "${prof[@]}" "$ROOT/dist/cli.js" serve --config "$WORK/cfg.yaml" >"$WORK/gw.log" 2>&1 &
fi
gw=$!; pids+=($gw)
sleep 1.5
# warm the cache
taskset -c 1 dnsperf -s 127.0.0.1 -p $GW -d "$WORK/cached.txt" -n 1 -c 2 -q 100 >/dev/null 2>&1 || true
hz=$(getconf CLK_TCK)
for mix in ${MIXES:-blocked cached miss}; do
  t0=$(awk '{print $14+$15}' /proc/$gw/stat)
  once=(); [ "$mix" = miss ] && once=(-n 1)   # every name once: each one is an upstream miss
  out=$(taskset -c 1 dnsperf -s 127.0.0.1 -p $GW -d "$WORK/$mix.txt" -l "$SECS" -c 4 -q 200 "${once[@]}" 2>&1)
  t1=$(awk '{print $14+$15}' /proc/$gw/stat)
  n=$(sed -nE 's/.*Queries completed: +([0-9]+).*/\1/p' <<<"$out")
  qps=$(sed -nE 's/.*Queries per second: +([0-9.]+).*/\1/p' <<<"$out")
  awk -v t=$((t1 - t0)) -v n="$n" -v hz="$hz" -v q="$qps" -v m=$mix 'BEGIN { printf "%-8s %8.0f q/s  %6.2f us CPU/query  (%d answers)\n", m, q, t / hz * 1e6 / n, n }'
done
kill -TERM $gw; wait $gw 2>/dev/null || true
if [ "${PROFILE:-0}" = 1 ]; then
  node -e '
const p = JSON.parse(require("fs").readFileSync(process.argv[1])); const dt = {}; let total = 0; const self = new Map()
p.samples.forEach((id, i) => (dt[id] = (dt[id] || 0) + (p.timeDeltas[i] || 0)))
for (const n of p.nodes) { const t = dt[n.id] || 0; total += t; const f = n.callFrame; const k = `${f.functionName || "(anon)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber}`; self.set(k, (self.get(k) || 0) + t) }
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log((100 * v / total).toFixed(1).padStart(5) + "%", k)
' "$(ls "$WORK"/*.cpuprofile | head -1)"
fi
