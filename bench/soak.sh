#!/usr/bin/env bash
# Soak: the gateway (built CLI, one worker) under dnsperf at about half its measured maximum for
# SOAK_SECONDS (default 600), the lists reloaded (SIGHUP after a list change) every 30 s, and an
# exemption for this client expiring half way. Passes when: the gateway stays up, dnsperf loses
# at most 0.1% (its own timeouts), RSS grows less than 10% from warm-up to the end, no error
# lines are logged, and after expiry the exempted name is blocked again. The RSS criterion is judged
# only for runs of 300 s or more.
# Run from the repo root: npm run soak   (SOAK_SECONDS=30 for a smoke run). Loopback only.
# Env: SOAK_SECONDS (600), SOAK_RELOAD_SECONDS (30), SOAK_QPS (half the measured max), SOAK_PORT_BASE (25400)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SECS="${SOAK_SECONDS:-600}"
EVERY="${SOAK_RELOAD_SECONDS:-30}"
BASE="${SOAK_PORT_BASE:-25400}"
UP_PORT=$BASE; DNS_PORT=$((BASE + 1)); ADMIN_PORT=$((BASE + 2))
WORK="$(mktemp -d /tmp/dnsvakt-soak.XXXXXX)"
PIDS=()
log() { printf '[soak %s] %s\n' "$(date +%T)" "$*" >&2; }
cleanup() {
  local rc=$?
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  log "stopped the processes it started; work dir kept: $WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
command -v dnsperf >/dev/null || { log "dnsperf is needed (apt-get install dnsperf)"; exit 2; }
[ -f dist/cli.js ] || { log "build first: npm run build"; exit 2; }

# Lists (a copy: the reloads change them) and an exemption for 127.0.0.1 expiring half way.
cp -r blocklists "$WORK/lists"
EXPIRES=$(date -u -d "@$(( $(date +%s) + SECS / 2 ))" +%Y-%m-%dT%H:%M:%SZ)
cat > "$WORK/lists/exemptions.yaml" <<YAML
exemptions:
  - id: SOAK-1
    client: 127.0.0.1/32
    categories: [telegram]
    reason: "soak test: expires half way"
    approvedBy: "bench/soak.sh"
    expires: $EXPIRES
YAML
cat > "$WORK/dnsvakt.yaml" <<YAML
workers: 1
listen: { dns: ["127.0.0.1:$DNS_PORT"], admin: "127.0.0.1:$ADMIN_PORT" }
upstream: { servers: ["127.0.0.1:$UP_PORT"] }
blocking: { dir: "$WORK/lists", watchInterval: 1h }
log: { level: info }
YAML

node bench/soak-upstream.mjs "$UP_PORT" & PIDS+=($!)
node dist/cli.js serve --config "$WORK/dnsvakt.yaml" > "$WORK/gateway.log" 2>&1 & GW=$!; PIDS+=($GW)
for _ in $(seq 100); do dig @127.0.0.1 -p "$DNS_PORT" +time=1 +tries=1 tiktok.com >/dev/null 2>&1 && break; sleep 0.2; done
status() { dig @127.0.0.1 -p "$DNS_PORT" +time=2 +tries=1 "$1" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
BEFORE=$(status t.me)

# Queries: 70% of 2,000 hot names (cached, TTL 30 s), 15% blocked, 15% misses that never repeat within the file.
node -e '
  let s = 7; const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296)
  const blocked = ["tiktok.com", "www.tiktok.com", "telegram.org", "t.me", "api.tiktokv.com"]
  const out = []
  for (let i = 0; i < 200000; i++) {
    const x = r()
    out.push(x < 0.7 ? `h${Math.floor(r() * 2000)}.soak.test A` : x < 0.85 ? `${blocked[i % blocked.length]} A` : `m${i}.soak.test A`)
  }
  require("fs").writeFileSync(process.argv[1], out.join("\n") + "\n")' "$WORK/queries.txt"

QPS="${SOAK_QPS:-}"
if [ -z "$QPS" ]; then
  MAX=$(dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORK/queries.txt" -l 5 -c 4 -t 2 2>/dev/null | sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p')
  QPS=$(printf '%.0f' "$(echo "${MAX:-2000} / 2" | bc -l)")
  log "measured max ${MAX:-?} qps; soaking at $QPS qps for $SECS s"
fi
rss() { awk '/VmRSS/ { print $2 }' "/proc/$GW/status"; }
RSS_START=$(rss)
dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORK/queries.txt" -l "$SECS" -Q "$QPS" -c 4 -t 2 > "$WORK/dnsperf.txt" 2>&1 & PERF=$!; PIDS+=($PERF)
# Warm-up: the first fifth of the run (at least 5 s): V8 grows its heap to the load's working size first.
WARM_AT=$(( SECS / 5 )); [ "$WARM_AT" -lt 5 ] && WARM_AT=5
START=$(date +%s); NEXT_RELOAD=$((START + EVERY)); RSS_WARM=""; RELOADS=0
echo -e "seconds\trss_kib" > "$WORK/rss.tsv"
while kill -0 "$PERF" 2>/dev/null; do
  sleep 5
  NOW=$(date +%s); kill -0 "$GW" 2>/dev/null || { log "the gateway died"; break; }
  echo -e "$((NOW - START))\t$(rss)" >> "$WORK/rss.tsv"
  if [ -z "$RSS_WARM" ] && [ $((NOW - START)) -ge "$WARM_AT" ]; then RSS_WARM=$(rss); fi
  if [ "$NOW" -ge "$NEXT_RELOAD" ]; then
    echo "soak-reload-$RELOADS.example.test" >> "$WORK/lists/tiktok.txt"
    kill -HUP "$GW"; RELOADS=$((RELOADS + 1)); NEXT_RELOAD=$((NOW + EVERY))
  fi
done
wait "$PERF" || true
# A reload runs in a worker thread: give the last one time to finish and log.
for _ in $(seq 20); do [ "$(grep -c '"event":"lists-reloaded"' "$WORK/gateway.log" || true)" -ge "$RELOADS" ] && break; sleep 0.5; done
ALIVE=yes; kill -0 "$GW" 2>/dev/null || ALIVE=no
RSS_END=$( [ "$ALIVE" = yes ] && rss || echo 0 ); RSS_WARM=${RSS_WARM:-$RSS_END}
AFTER=$( [ "$ALIVE" = yes ] && status t.me || echo none )
SENT=$(sed -n 's/.*Queries sent: *\([0-9]*\).*/\1/p' "$WORK/dnsperf.txt")
DONE=$(sed -n 's/.*Queries completed: *\([0-9]*\).*/\1/p' "$WORK/dnsperf.txt")
LOST=$(sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p' "$WORK/dnsperf.txt")
ERRORS=$(grep -c '"level":[56]0' "$WORK/gateway.log" || true)
OK_RELOADS=$(grep -c '"event":"lists-reloaded"' "$WORK/gateway.log" || true)
GROWTH=$(echo "($RSS_END - $RSS_WARM) * 100 / $RSS_WARM" | bc -l)
printf 'date=%s seconds=%s qps=%s sent=%s completed=%s lost=%s reloads=%s/%s rss_start_mib=%.1f rss_warm_mib=%.1f rss_end_mib=%.1f rss_growth_pct=%.1f error_lines=%s exempt_before=%s exempt_after=%s alive=%s\n' \
  "$(date -u +%FT%TZ)" "$SECS" "$QPS" "$SENT" "$DONE" "$LOST" "$OK_RELOADS" "$RELOADS" \
  "$(echo "$RSS_START/1024" | bc -l)" "$(echo "$RSS_WARM/1024" | bc -l)" "$(echo "$RSS_END/1024" | bc -l)" "$GROWTH" "$ERRORS" "$BEFORE" "$AFTER" "$ALIVE"
FAIL=""
[ "$ALIVE" = yes ] || FAIL="$FAIL gateway-died"
[ "${SENT:-0}" -gt 0 ] && [ $(( ${LOST:-0} * 1000 )) -le "${SENT:-0}" ] || FAIL="$FAIL lost>0.1%"
if [ "$SECS" -ge 300 ]; then
  [ "$(echo "$GROWTH < 10" | bc)" = 1 ] || FAIL="$FAIL rss-growth"
else
  log "RSS growth not judged: a run under 300 s is a smoke run (heap still growing to its working size)"
fi
[ "${ERRORS:-0}" -eq 0 ] || FAIL="$FAIL error-lines"
[ "$BEFORE" = NOERROR ] && [ "$AFTER" = NXDOMAIN ] || FAIL="$FAIL exemption-expiry"
[ "$OK_RELOADS" -ge "$RELOADS" ] || FAIL="$FAIL reloads"
if [ -n "$FAIL" ]; then log "FAILED:$FAIL"; exit 1; fi
log "passed"
