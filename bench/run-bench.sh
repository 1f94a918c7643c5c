#!/usr/bin/env bash
# dnsvakt benchmark: dnsvakt (on this machine's Node.js and on Node.js 24) vs Unbound vs dnsmasq
# doing the same job (block the shipped lists, forward the rest to one local NSD upstream, cache),
# with Node's bare UDP echo server (bench/echo-floor.mjs) as the floor, all interleaved in one run.
# Run from the repo root: npm run bench (full) or npm run bench:quick (QUICK=1: one repetition,
# short runs, a few minutes, prints the table and leaves docs/ and bench/configs/ alone).
# Loopback only. Every load run is bounded in time (dnsperf -l, probe --seconds) and in count.
# Env knobs: BENCH_REPS (3), BENCH_SECONDS (6), BENCH_CLIENTS (4), PROBE_QPS (5000), PROBE_SECONDS (5),
#            BENCH_PORT_BASE (25300), BENCH_TARGETS (all, see TARGETS), BENCH_NO_DOC=1 (don't
#            rewrite docs/benchmarks.md), QUICK=1 (BENCH_REPS=1 BENCH_SECONDS=3 PROBE_SECONDS=2 BENCH_NO_DOC=1)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
QUICK="${QUICK:-0}"
if [ "$QUICK" = 1 ]; then
  : "${BENCH_REPS:=1}" "${BENCH_SECONDS:=3}" "${PROBE_SECONDS:=2}" "${BENCH_NO_DOC:=1}"
fi
REPS="${BENCH_REPS:-3}"
SECS="${BENCH_SECONDS:-6}"
CLIENTS="${BENCH_CLIENTS:-4}"
PROBE_QPS="${PROBE_QPS:-5000}"
PROBE_SECS="${PROBE_SECONDS:-5}"
BASE="${BENCH_PORT_BASE:-25300}"
MIXED_COUNT=$((SECS * 250000)) # one pass (-n 1): bounded; at ~250k q/s a pass is not exhausted
# Interleaving order within each mix. echo/echo-node24: the floor on each Node.js line.
# Each floor runs right before the dnsvakt on its Node.js line, so the two share the machine's speed
# of that minute (report.mjs divides them per repetition).
TARGETS=(${BENCH_TARGETS:-echo dnsvakt unbound echo-node24 dnsvakt-node24 dnsmasq dnsvakt2})
UP_PORT=$BASE
declare -A PORT=([dnsvakt]=$((BASE + 1)) [unbound]=$((BASE + 2)) [dnsmasq]=$((BASE + 3)) [dnsvakt2]=$((BASE + 4))
  [dnsvakt-node24]=$((BASE + 5)) [echo]=$((BASE + 6)) [echo-node24]=$((BASE + 7)))
declare -A PID CRASHES
WORK="$(mktemp -d /tmp/dnsvakt-bench.XXXXXX)"
RESULTS="$WORK/results.tsv"
PIDS=()

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

cleanup() {
  local rc=$?
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  log "stopped all started processes; work dir kept: $WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source bench/bench-servers.sh
source bench/bench-measure.sh

# ---------- 1. packages, Node.js 24, pinning ----------
need_pkgs=()
command -v dnsperf >/dev/null || need_pkgs+=(dnsperf)
command -v unbound >/dev/null || [ -x /usr/sbin/unbound ] || need_pkgs+=(unbound)
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || need_pkgs+=(dnsmasq)
command -v nsd >/dev/null || [ -x /usr/sbin/nsd ] || need_pkgs+=(nsd)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq && $SUDO apt-get install -y --no-install-recommends "${need_pkgs[@]}"
  # the Debian packages start system services on :53; we don't need them
  for s in unbound dnsmasq nsd; do $SUDO systemctl stop "$s" 2>/dev/null || true; done
fi
export PATH="$PATH:/usr/sbin:/sbin"

NODE24=""
if [[ " ${TARGETS[*]} " == *-node24* ]]; then
  if NODE24=$(bash scripts/node-bin.sh 24); then log "Node.js 24: $("$NODE24/node" --version)"
  else log "no Node.js 24 (scripts/node-bin.sh failed): skipping the -node24 targets"; TARGETS=($(printf '%s\n' "${TARGETS[@]}" | grep -v -- '-node24$'))
  fi
fi

# CPU pinning: servers on core 0, load generators (and the upstream) on core 1, if there are 2+ cores
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  PIN_SRV="taskset -c 0"; PIN_LOAD="taskset -c 1"
else
  PIN_SRV=""; PIN_LOAD=""; log "fewer than 2 cores or no taskset: no CPU pinning"
fi

for p in $UP_PORT "${PORT[@]}"; do
  if ss -Hlun "sport = :$p" 2>/dev/null | grep -q .; then log "port $p is busy; set BENCH_PORT_BASE"; exit 1; fi
done

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "warning: load average $LOAD_START on $(nproc) CPUs: other work on this machine will make the numbers noisy"
fi

# ---------- 2. build, blocked names (the same set for every target) ----------
log "building dnsvakt"
npm run build --silent >/dev/null
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

# ---------- 3/4. upstream and targets ----------
start_upstream
write_configs
[ "$QUICK" = 1 ] || keep_configs
for t in "${TARGETS[@]}"; do : > "$WORK/$t.log"; start_target "$t"; done
wait_up nsd $UP_PORT
for t in "${TARGETS[@]}"; do wait_up "$t" "${PORT[$t]}"; done
log "all servers up: $(for t in "${TARGETS[@]}"; do printf '%s=%s ' "$t" "${PID[$t]}"; done)"

log "generating query files"
gen_shared_queries
DNSPERF_VERSION=$(dnsperf -h 2>&1 | sed -n 's/.*DNS Performance Testing Tool.*Version \([^ ]*\).*/\1/p' | head -1)
[ -z "$DNSPERF_VERSION" ] && DNSPERF_VERSION=$(dpkg-query -W -f='${Version}' dnsperf 2>/dev/null || echo unknown)
printf 'rep\tmix\ttarget\tqps\tcompleted\tlost\tavg_lat_ms\tcpu_us_per_q\trss_mib\tp50_us\tp99_us\tprobe_lost\trcodes\tprobe_rcodes\n' > "$RESULTS"

# ---------- 5. runs: every target per mix, interleaved, REPS times ----------
START=$(date +%s)
for rep in $(seq 1 "$REPS"); do
  for mix in blocked cached mixed; do
    for t in "${TARGETS[@]}"; do run_one "$rep" "$mix" "$t"; done
  done
done
log "runs took $(( $(date +%s) - START )) s"
for t in "${TARGETS[@]}"; do
  alive "$t" || { log "!! $t exited during the benchmark (see $WORK/$t.log)"; CRASHES[$t]=$(( ${CRASHES[$t]:-0} + 1 )); }
done

# ---------- 6. report ----------
vakt_logs() { cat "$WORK"/dnsvakt*.log 2>/dev/null || true; }
{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "dnsvakt=$(node -p 'require("./package.json").version') ($(git rev-parse --short HEAD 2>/dev/null || echo no-git))"
  echo "node=$(node -v)"
  echo "node24=$([ -n "$NODE24" ] && "$NODE24/node" -v || echo none)"
  echo "node_flags=${NODE_FLAGS[*]}"
  echo "unbound=$(unbound -V 2>/dev/null | sed -n 's/^Version //p' | head -1)"
  echo "dnsmasq=$(dnsmasq -v 2>/dev/null | sed -n 's/^Dnsmasq version \([^ ]*\).*/\1/p')"
  echo "dnsperf=$DNSPERF_VERSION"
  echo "nsd=$(nsd -v 2>&1 | sed -n 's/^NSD version //p' | head -1)"
  echo "nproc=$(nproc)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "kernel=$(uname -r)"
  echo "quick=$QUICK"; echo "reps=$REPS"; echo "secs=$SECS"; echo "clients=$CLIENTS"; echo "probe_qps=$PROBE_QPS"; echo "probe_secs=$PROBE_SECS"
  echo "targets=${TARGETS[*]}"
  echo "blocked_names=$NBLOCK"
  echo "list_files=${LIST_FILES[*]}"
  echo "loadavg_start=$LOAD_START"
  echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "pinned=$([ -n "$PIN_SRV" ] && echo yes || echo no)"
  echo "dnsvakt_log_lines=$(vakt_logs | grep -c . || true)"
  echo "crashes=$(for t in "${TARGETS[@]}"; do printf '%s %s, ' "$t" "${CRASHES[$t]:-0}"; done | sed 's/, $//')"
  echo "dnsvakt_errors=$(vakt_logs | grep -m1 -oE 'Error \[[A-Z_]+\][^\n]*|"level":(50|60)[^}]*' | head -1 | tr -d '\n' | cut -c1-200)"
} > "$WORK/meta.env"
if [ "$QUICK" != 1 ]; then
  cp "$RESULTS" bench/configs/last-results.tsv
  cp "$WORK/meta.env" bench/configs/last-meta.env
  vakt_logs | head -200 > bench/configs/last-dnsvakt.log
fi
if [ -n "$(vakt_logs)" ]; then log "dnsvakt logs (first 20 lines):"; vakt_logs | head -20 >&2; fi
if [ "${BENCH_NO_DOC:-0}" != 1 ]; then
  node bench/report.mjs "$RESULTS" "$WORK/meta.env" docs/benchmarks.md
  log "wrote docs/benchmarks.md"
else
  node bench/report.mjs "$RESULTS" "$WORK/meta.env" -
fi
