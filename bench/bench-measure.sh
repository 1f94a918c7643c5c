# Sourced by bench/run-bench.sh: one measured run of one target on one query mix, appended to
# $RESULTS as a TSV row. CPU per answered query comes from /proc (the target and its children),
# throughput from dnsperf, latency from bench/latency-probe.mjs at a fixed rate.
# Needs: WORK RESULTS SECS CLIENTS PROBE_QPS PROBE_SECS MIXED_COUNT PIN_LOAD and PORT/PID/CRASHES.

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

# Query files for the blocked/cached mixes are shared; mixed files are unique per (target, rep) so
# the 10% "never asked" names really are new to every target in every run.
gen_shared_queries() {
  gen --mix blocked --count 200000 --seed 11 > "$WORK/q-blocked.txt"
  gen --mix cached --count 200000 --seed 12 > "$WORK/q-cached.txt"
  gen --mix warm --count 1000 --seed 13 > "$WORK/q-warm.txt"
  gen --mix blocked --count $((PROBE_QPS * PROBE_SECS)) --seed 21 > "$WORK/p-blocked.txt"
  gen --mix cached --count $((PROBE_QPS * PROBE_SECS)) --seed 22 > "$WORK/p-cached.txt"
}

# A target found dead is counted (CRASHES) and, if it is ours, restarted so later runs measure it.
ensure_alive() { # rep mix target -> 0 if it is (again) running
  local rep=$1 mix=$2 t=$3
  alive "$t" && return 0
  log "!! $t (pid ${PID[$t]}) is not running"
  CRASHES[$t]=$(( ${CRASHES[$t]:-0} + 1 ))
  restartable "$t" || return 1
  echo "=== bench: $t (pid ${PID[$t]}) found dead before run rep=$rep mix=$mix at $(date -u +%T); restarting ===" >> "$WORK/$t.log"
  start_target "$t" && wait_up "$t" "${PORT[$t]}"
}

run_one() { # rep mix target
  local rep=$1 mix=$2 t=$3 port=${PORT[$3]} qf pf extra=()
  if ! ensure_alive "$rep" "$mix" "$t"; then printf '%s\t%s\t%s\tDEAD\n' "$rep" "$mix" "$t" >> "$RESULTS"; return 0; fi
  local pid=${PID[$t]}
  case $mix in
    blocked) qf="$WORK/q-blocked.txt"; pf="$WORK/p-blocked.txt" ;;
    cached)  qf="$WORK/q-cached.txt";  pf="$WORK/p-cached.txt" ;;
    mixed)
      qf="$WORK/q-mixed-$rep$t.txt"; pf="$WORK/p-mixed-$rep$t.txt"; extra=(-n 1)
      gen --mix mixed --count "$MIXED_COUNT" --seed $((100 + rep)) --tag "t$rep$t" > "$qf"
      gen --mix mixed --count $((PROBE_QPS * PROBE_SECS)) --seed $((200 + rep)) --tag "p$rep$t" > "$pf" ;;
  esac
  if [ "$mix" != blocked ]; then # warm: every hot name once, at a gentle rate
    $PIN_LOAD dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/q-warm.txt" -n 1 -l 10 -Q 5000 >/dev/null 2>&1 || true
  fi
  local out="$WORK/dnsperf-$rep-$mix-$t.txt" c0 c1 rss probe="$WORK/probe-$rep-$mix-$t.json"
  c0=$(cpu_ticks "$pid")
  $PIN_LOAD dnsperf -s 127.0.0.1 -p "$port" -d "$qf" -l "$SECS" -c "$CLIENTS" -t 2 "${extra[@]}" > "$out" 2>&1 || true
  c1=$(cpu_ticks "$pid")
  rss=$(rss_kib "$pid" 2>/dev/null || echo 0)
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
