#!/usr/bin/env bash
# dnsvakt benchmark: dnsvakt vs Unbound vs dnsmasq doing the same job (block the shipped lists,
# forward the rest to one local nsd upstream, cache). Run from the repo root: npm run bench
# Loopback only. Every load run is bounded in time (dnsperf -l, probe --seconds) and in count.
# Env knobs: BENCH_REPS (2), BENCH_SECONDS (8), BENCH_CLIENTS (4), PROBE_QPS (5000), PROBE_SECONDS (5),
#            BENCH_PORT_BASE (25300), BENCH_NO_DOC=1 (don't rewrite docs/benchmarks.md)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPS="${BENCH_REPS:-2}"
SECS="${BENCH_SECONDS:-8}"
CLIENTS="${BENCH_CLIENTS:-4}"
PROBE_QPS="${PROBE_QPS:-5000}"
PROBE_SECS="${PROBE_SECONDS:-5}"
BASE="${BENCH_PORT_BASE:-25300}"
UP_PORT=$BASE; VAKT_PORT=$((BASE + 1)); UNBOUND_PORT=$((BASE + 2)); DNSMASQ_PORT=$((BASE + 3)); VAKT2_PORT=$((BASE + 4))
WORK="$(mktemp -d /tmp/dnsvakt-bench.XXXXXX)"
RESULTS="$WORK/results.tsv"
PIDS=()

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

cleanup() {
  local rc=$?
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  sleep 0.5
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  done
  log "stopped all started processes; work dir kept: $WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------- 1. packages ----------
need_pkgs=()
command -v dnsperf >/dev/null || need_pkgs+=(dnsperf)
command -v unbound >/dev/null || [ -x /usr/sbin/unbound ] || need_pkgs+=(unbound)
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || need_pkgs+=(dnsmasq)
command -v nsd >/dev/null || [ -x /usr/sbin/nsd ] || need_pkgs+=(nsd)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y "${need_pkgs[@]}" || { $SUDO apt-get update && $SUDO apt-get install -y "${need_pkgs[@]}"; }
  # the Debian packages start system services on :53; we don't need them
  for s in unbound dnsmasq nsd; do $SUDO systemctl stop "$s" 2>/dev/null || true; done
fi
export PATH="$PATH:/usr/sbin:/sbin"

# CPU pinning: servers on core 0, load generators (and the upstream) on core 1, if there are 2+ cores
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  PIN_SRV="taskset -c 0"; PIN_LOAD="taskset -c 1"
else
  PIN_SRV=""; PIN_LOAD=""; log "fewer than 2 cores or no taskset: no CPU pinning"
fi

for p in $UP_PORT $VAKT_PORT $UNBOUND_PORT $DNSMASQ_PORT $VAKT2_PORT; do
  if ss -Hlun "sport = :$p" 2>/dev/null | grep -q .; then log "port $p is busy; set BENCH_PORT_BASE"; exit 1; fi
done

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "warning: load average $LOAD_START on $(nproc) CPUs: other work on this machine will make the numbers noisy"
fi

# ---------- 2. build ----------
log "building dnsvakt"
npm run build --silent >/dev/null

# ---------- blocked names (same set for all three targets) ----------
# <category>.txt plus any <category>.<part>.txt (same format, same category), never *.cidrs.txt
LIST_FILES=()
for cat in tiktok telegram doh-bypass; do
  for f in blocklists/"$cat".txt blocklists/"$cat".*.txt; do
    [ -f "$f" ] && [[ "$f" != *.cidrs.txt ]] && LIST_FILES+=("$f")
  done
done
log "list files: ${LIST_FILES[*]}"
grep -hv '^[[:space:]]*#' "${LIST_FILES[@]}" \
  | awk 'NF {print tolower($1)}' | sed 's/\.$//' | sort -u > "$WORK/blocked-names.txt"
NBLOCK=$(wc -l < "$WORK/blocked-names.txt")
log "$NBLOCK blocked names"

# ---------- 3. upstream: nsd with bench.test ----------
mkdir -p "$WORK/nsd"
{
  echo '$ORIGIN bench.test.'
  echo '$TTL 3600'
  echo '@ IN SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 3600'
  echo '@ IN NS ns.bench.test.'
  echo 'ns IN A 127.0.0.1'
  for i in $(seq 0 1999); do echo "h$i IN A 198.18.$((i / 250)).$((i % 250 + 1))"; done
  echo '* IN A 198.18.255.1'
} > "$WORK/nsd/bench.test.zone"
cat > "$WORK/nsd/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1@$UP_PORT
  do-ip6: no
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "$WORK/nsd"
  database: ""
  zonelistfile: "$WORK/nsd/zone.list"
  xfrdfile: "$WORK/nsd/xfrd.state"
  xfrdir: "$WORK/nsd"
  pidfile: "$WORK/nsd/nsd.pid"
  logfile: "$WORK/nsd/nsd.log"
  verbosity: 0
  hide-version: yes
  # NSD's response rate limiting (on by default) would drop most of the benchmark's answers
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: bench.test
  zonefile: bench.test.zone
CONF
$PIN_LOAD nsd -d -c "$WORK/nsd/nsd.conf" >"$WORK/nsd/stdout.log" 2>&1 &
PIDS+=($!)

# ---------- 4. targets ----------
# dnsvakt
cat > "$WORK/dnsvakt.yaml" <<CONF
workers: 1
listen:
  dns: ["127.0.0.1:$VAKT_PORT"]
  admin: ""
upstream:
  servers: ["127.0.0.1:$UP_PORT"]
blocking:
  dir: "$ROOT/blocklists"
groups:
  default:
    enforce: [tiktok, telegram, doh-bypass]
log:
  level: warn
CONF
# dnsvakt with two cluster workers (what a second core brings): same job, its own port, not pinned
sed -e "s/^workers: 1/workers: 2/" -e "s/127.0.0.1:$VAKT_PORT/127.0.0.1:$VAKT2_PORT/" "$WORK/dnsvakt.yaml" > "$WORK/dnsvakt2.yaml"
# unbound
{
  cat <<CONF
server:
  interface: 127.0.0.1@$UNBOUND_PORT
  port: $UNBOUND_PORT
  do-ip6: no
  num-threads: 1
  chroot: ""
  username: ""
  directory: "$WORK"
  pidfile: "$WORK/unbound.pid"
  do-daemonize: no
  use-syslog: no
  logfile: ""
  verbosity: 0
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  msg-cache-size: 64m
  rrset-cache-size: 128m
  so-rcvbuf: 4m
  # Unbound answers the RFC 6761 name "test." locally by default; the upstream zone is bench.test
  local-zone: "test." nodefault
CONF
  while read -r n; do echo "  local-zone: \"$n.\" always_nxdomain"; done < "$WORK/blocked-names.txt"
  cat <<CONF
remote-control:
  control-enable: no
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@$UP_PORT
CONF
} > "$WORK/unbound.conf"
# dnsmasq
{
  cat <<CONF
port=$DNSMASQ_PORT
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
server=127.0.0.1#$UP_PORT
cache-size=10000
dns-forward-max=1000
user=root
pid-file=$WORK/dnsmasq.pid
CONF
  while read -r n; do echo "address=/$n/"; done < "$WORK/blocked-names.txt"
} > "$WORK/dnsmasq.conf"
# keep copies of the generated configs next to the docs' reference
mkdir -p bench/configs
sed "s#$WORK#/tmp/dnsvakt-bench.XXXXXX#g; s#$ROOT#<repo>#g" "$WORK/dnsvakt.yaml" > bench/configs/dnsvakt.yaml
sed "s#$WORK#/tmp/dnsvakt-bench.XXXXXX#g" "$WORK/unbound.conf" > bench/configs/unbound.conf
sed "s#$WORK#/tmp/dnsvakt-bench.XXXXXX#g" "$WORK/dnsmasq.conf" > bench/configs/dnsmasq.conf
sed "s#$WORK#/tmp/dnsvakt-bench.XXXXXX#g" "$WORK/nsd/nsd.conf" > bench/configs/nsd.conf

unbound-checkconf "$WORK/unbound.conf" >/dev/null
dnsmasq --test -C "$WORK/dnsmasq.conf" >/dev/null 2>&1

declare -A PORT PID CRASHES
PORT[dnsvakt]=$VAKT_PORT; PORT[unbound]=$UNBOUND_PORT; PORT[dnsmasq]=$DNSMASQ_PORT; PORT[dnsvakt2]=$VAKT2_PORT
start_dnsvakt() {
  $PIN_SRV node dist/cli.js serve --config "$WORK/dnsvakt.yaml" >>"$WORK/dnsvakt.log" 2>&1 &
  PID[dnsvakt]=$!; PIDS+=($!)
}
: > "$WORK/dnsvakt.log"
start_dnsvakt
node dist/cli.js serve --config "$WORK/dnsvakt2.yaml" >>"$WORK/dnsvakt2.log" 2>&1 &
PID[dnsvakt2]=$!; PIDS+=($!)
$PIN_SRV unbound -d -c "$WORK/unbound.conf" >"$WORK/unbound.log" 2>&1 &
PID[unbound]=$!; PIDS+=($!)
$PIN_SRV dnsmasq -k -C "$WORK/dnsmasq.conf" --log-facility="$WORK/dnsmasq.log" >"$WORK/dnsmasq.stdout" 2>&1 &
PID[dnsmasq]=$!; PIDS+=($!)
# (taskset execs the program, so $! is the server's own pid)

wait_up() { # name port
  local i
  for i in $(seq 1 60); do
    if out=$(printf 'h1.bench.test A\n' > "$WORK/one.txt"; dnsperf -s 127.0.0.1 -p "$2" -d "$WORK/one.txt" -n 1 -t 1 2>/dev/null) \
       && grep -q 'Queries completed: *1 ' <<<"$out"; then return 0; fi
    sleep 0.25
  done
  log "$1 did not answer on port $2"; return 1
}
wait_up nsd $UP_PORT
for t in dnsvakt dnsvakt2 unbound dnsmasq; do wait_up "$t" "${PORT[$t]}"; done
log "all servers up (pids: dnsvakt ${PID[dnsvakt]}, unbound ${PID[unbound]}, dnsmasq ${PID[dnsmasq]})"

# ---------- helpers ----------
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { # pid -> utime+stime of the process (all threads), its waited-for children and its live children (cluster workers)
  local p total=0
  for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
    total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
rss_kib() { # the process and its live children
  local p total=0
  for p in "$1" $(pgrep -P "$1" 2>/dev/null); do total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
  echo "$total"
}
alive() { kill -0 "${PID[$1]}" 2>/dev/null; }
field() { # file label -> first number after label
  sed -n "s/^ *$2: *\([0-9.]*\).*/\1/p" "$1" | head -1
}

gen() { node bench/gen-queries.mjs --blocked "$WORK/blocked-names.txt" "$@"; }

# Files for the cached/blocked mixes are shared; mixed files are unique per (target, rep) so the
# 10% "never asked" names really are new to every target in every run.
log "generating query files"
gen --mix blocked --count 200000 --seed 11 > "$WORK/q-blocked.txt"
gen --mix cached --count 200000 --seed 12 > "$WORK/q-cached.txt"
gen --mix warm --count 1000 --seed 13 > "$WORK/q-warm.txt"
gen --mix blocked --count $((PROBE_QPS * PROBE_SECS)) --seed 21 > "$WORK/p-blocked.txt"
gen --mix cached --count $((PROBE_QPS * PROBE_SECS)) --seed 22 > "$WORK/p-cached.txt"
MIXED_COUNT=2000000  # one pass (-n 1): bounded; at ~250k qps x 8 s a pass is not exhausted

DNSPERF_VERSION=$(dnsperf -h 2>&1 | sed -n 's/.*DNS Performance Testing Tool.*Version \([^ ]*\).*/\1/p' | head -1)
[ -z "$DNSPERF_VERSION" ] && DNSPERF_VERSION=$(dpkg-query -W -f='${Version}' dnsperf 2>/dev/null || echo unknown)

printf 'rep\tmix\ttarget\tqps\tcompleted\tlost\tavg_lat_ms\tcpu_us_per_q\trss_mib\tp50_us\tp99_us\tprobe_lost\trcodes\tprobe_rcodes\n' > "$RESULTS"

run_one() { # rep mix target
  local rep=$1 mix=$2 t=$3 port=${PORT[$3]} pid=${PID[$3]} qf pf extra=""
  local tagn="$rep$t"
  if ! alive "$t"; then
    # A crashed target is recorded (CRASHES count, log kept) and, for dnsvakt, restarted so later runs still measure it.
    log "!! $t (pid $pid) is not running"
    CRASHES[$t]=$(( ${CRASHES[$t]:-0} + 1 ))
    if [ "$t" = dnsvakt ]; then
      echo "=== bench: dnsvakt (pid $pid) found dead before run rep=$rep mix=$mix at $(date -u +%T); restarting ===" >> "$WORK/dnsvakt.log"
      start_dnsvakt; pid=${PID[$t]}; wait_up "$t" "$port" || { printf '%s\t%s\t%s\tDEAD\n' "$rep" "$mix" "$t" >> "$RESULTS"; return; }
    else
      printf '%s\t%s\t%s\tDEAD\n' "$rep" "$mix" "$t" >> "$RESULTS"; return
    fi
  fi
  case $mix in
    blocked) qf="$WORK/q-blocked.txt"; pf="$WORK/p-blocked.txt" ;;
    cached)  qf="$WORK/q-cached.txt";  pf="$WORK/p-cached.txt" ;;
    mixed)
      qf="$WORK/q-mixed-$tagn.txt"; pf="$WORK/p-mixed-$tagn.txt"; extra="-n 1"
      gen --mix mixed --count $MIXED_COUNT --seed $((100 + rep)) --tag "t$tagn" > "$qf"
      gen --mix mixed --count $((PROBE_QPS * PROBE_SECS)) --seed $((200 + rep)) --tag "p$tagn" > "$pf" ;;
  esac
  if [ "$mix" != blocked ]; then # warm: every hot name once, at a gentle rate
    $PIN_LOAD dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/q-warm.txt" -n 1 -l 10 -Q 5000 >/dev/null 2>&1 || true
  fi
  local out="$WORK/dnsperf-$rep-$mix-$t.txt"
  local c0 c1; c0=$(cpu_ticks "$pid")
  $PIN_LOAD dnsperf -s 127.0.0.1 -p "$port" -d "$qf" -l "$SECS" -c "$CLIENTS" -t 2 $extra > "$out" 2>&1 || true
  c1=$(cpu_ticks "$pid")
  local rss; rss=$(rss_kib "$pid" 2>/dev/null || echo 0)
  local probe="$WORK/probe-$rep-$mix-$t.json"
  sleep 0.5
  $PIN_LOAD node bench/latency-probe.mjs --port "$port" --file "$pf" --qps "$PROBE_QPS" --seconds "$PROBE_SECS" > "$probe" 2>&1 || echo '{}' > "$probe"
  local qps completed lost avg rc
  qps=$(field "$out" "Queries per second"); completed=$(field "$out" "Queries completed"); lost=$(field "$out" "Queries lost")
  avg=$(sed -n 's/^ *Average Latency (s): *\([0-9.]*\).*/\1/p' "$out" | head -1)
  rc=$(sed -n 's/^ *Response codes: *//p' "$out" | head -1 | tr -d '\t')
  node -e '
    const [rep, mix, t, qps, completed, lost, avg, dt, tck, rss, rc, probeFile] = process.argv.slice(1)
    let p = {}; try { p = JSON.parse(require("fs").readFileSync(probeFile, "utf8")) } catch {}
    const cpu = Number(completed) > 0 ? (Number(dt) / Number(tck)) * 1e6 / Number(completed) : NaN
    const pr = p.rcodes ? Object.entries(p.rcodes).map(([k, v]) => k + " " + v).join(", ") : "probe failed"
    console.log([rep, mix, t, Math.round(Number(qps)), completed, lost, (Number(avg) * 1000).toFixed(3), cpu.toFixed(2),
      (Number(rss) / 1024).toFixed(1), p.p50_us ?? "", p.p99_us ?? "", p.lost ?? "", rc, pr].join("\t"))
  ' "$rep" "$mix" "$t" "${qps:-0}" "${completed:-0}" "${lost:-0}" "${avg:-0}" "$((c1 - c0))" "$CLK_TCK" "$rss" "$rc" "$probe" >> "$RESULTS"
  log "$(tail -1 "$RESULTS" | cut -f1-12)"
  [ "$mix" = mixed ] && rm -f "$qf"
  return 0
}

# ---------- 5/6. runs: interleaved A B C per mix, REPS times ----------
START=$(date +%s)
for rep in $(seq 1 "$REPS"); do
  for mix in blocked cached mixed; do
    for t in dnsvakt dnsvakt2 unbound dnsmasq; do run_one "$rep" "$mix" "$t"; done
  done
done
log "runs took $(( $(date +%s) - START )) s"

for t in dnsvakt dnsvakt2 unbound dnsmasq; do
  alive "$t" || { log "!! $t exited during the benchmark (see $WORK/$t.log)"; CRASHES[$t]=$(( ${CRASHES[$t]:-0} + 1 )); }
done

# ---------- 7. report ----------
{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "dnsvakt=$(node -p 'require("./package.json").version') ($(git rev-parse --short HEAD 2>/dev/null || echo no-git))"
  echo "node=$(node -v)"
  echo "unbound=$(unbound -V 2>/dev/null | sed -n 's/^Version //p' | head -1)"
  echo "dnsmasq=$(dnsmasq -v 2>/dev/null | sed -n 's/^Dnsmasq version \([^ ]*\).*/\1/p')"
  echo "dnsperf=$DNSPERF_VERSION"
  echo "nsd=$(nsd -v 2>&1 | sed -n 's/^NSD version //p' | head -1)"
  echo "nproc=$(nproc)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "kernel=$(uname -r)"
  echo "reps=$REPS"; echo "secs=$SECS"; echo "clients=$CLIENTS"; echo "probe_qps=$PROBE_QPS"; echo "probe_secs=$PROBE_SECS"
  echo "blocked_names=$NBLOCK"
  echo "list_files=${LIST_FILES[*]}"
  echo "loadavg_start=$LOAD_START"
  echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "pinned=$([ -n "$PIN_SRV" ] && echo yes || echo no)"
  echo "dnsvakt_log_lines=$(grep -c . "$WORK/dnsvakt.log" || true)"
  echo "crashes=dnsvakt ${CRASHES[dnsvakt]:-0}, unbound ${CRASHES[unbound]:-0}, dnsmasq ${CRASHES[dnsmasq]:-0}"
  echo "dnsvakt_errors=$(grep -m1 -oE 'Error \[[A-Z_]+\][^\n]*|"level":(50|60)[^}]*' "$WORK/dnsvakt.log" | head -1 | tr -d '\n' | cut -c1-200)"
} > "$WORK/meta.env"
cp "$RESULTS" bench/configs/last-results.tsv
cp "$WORK/meta.env" bench/configs/last-meta.env
if [ -s "$WORK/dnsvakt.log" ]; then
  log "dnsvakt log (first 20 lines):"; head -20 "$WORK/dnsvakt.log" >&2
  head -200 "$WORK/dnsvakt.log" > bench/configs/last-dnsvakt.log
else
  : > bench/configs/last-dnsvakt.log
fi
if [ "${BENCH_NO_DOC:-0}" != 1 ]; then
  node bench/report.mjs "$RESULTS" "$WORK/meta.env" docs/benchmarks.md
  log "wrote docs/benchmarks.md"
else
  node bench/report.mjs "$RESULTS" "$WORK/meta.env" -
fi
