# Sourced by bench/run-bench.sh: the upstream (NSD) and the targets' configs, and how each target
# starts. Every target answers on 127.0.0.1:${PORT[target]}; dnsvakt, Unbound, dnsmasq and the
# echo floor are pinned to core 0 ($PIN_SRV) except dnsvakt2 (two workers, not pinned).
# Needs: ROOT WORK UP_PORT PIN_SRV PIN_LOAD NODE24 (empty: no Node 24 targets) and the PORT map.

# ---------- upstream: NSD serving bench.test ----------
start_upstream() {
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
}

# ---------- target configs ----------
write_configs() {
  local t
  cat > "$WORK/dnsvakt.yaml" <<CONF
workers: 1
listen:
  dns: ["127.0.0.1:${PORT[dnsvakt]}"]
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
  # the same job on Node 24, and with two cluster workers (what a second core brings)
  sed "s/127.0.0.1:${PORT[dnsvakt]}/127.0.0.1:${PORT[dnsvakt-node24]}/" "$WORK/dnsvakt.yaml" > "$WORK/dnsvakt-node24.yaml"
  sed -e "s/^workers: 1/workers: 2/" -e "s/127.0.0.1:${PORT[dnsvakt]}/127.0.0.1:${PORT[dnsvakt2]}/" "$WORK/dnsvakt.yaml" > "$WORK/dnsvakt2.yaml"
  {
    cat <<CONF
server:
  interface: 127.0.0.1@${PORT[unbound]}
  port: ${PORT[unbound]}
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
    while read -r t; do echo "  local-zone: \"$t.\" always_nxdomain"; done < "$WORK/blocked-names.txt"
    cat <<CONF
remote-control:
  control-enable: no
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@$UP_PORT
CONF
  } > "$WORK/unbound.conf"
  {
    cat <<CONF
port=${PORT[dnsmasq]}
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
    while read -r t; do echo "address=/$t/"; done < "$WORK/blocked-names.txt"
  } > "$WORK/dnsmasq.conf"
  unbound-checkconf "$WORK/unbound.conf" >/dev/null
  dnsmasq --test -C "$WORK/dnsmasq.conf" >/dev/null 2>&1
}

# Copies of the generated configs next to the docs' reference (full runs only).
keep_configs() {
  mkdir -p bench/configs
  sed "s#$WORK#/tmp/dnsvakt-bench.XXXXXX#g; s#$ROOT#<repo>#g" "$WORK/dnsvakt.yaml" > bench/configs/dnsvakt.yaml
  sed "s#$WORK#/tmp/dnsvakt-bench.XXXXXX#g" "$WORK/unbound.conf" > bench/configs/unbound.conf
  sed "s#$WORK#/tmp/dnsvakt-bench.XXXXXX#g" "$WORK/dnsmasq.conf" > bench/configs/dnsmasq.conf
  sed "s#$WORK#/tmp/dnsvakt-bench.XXXXXX#g" "$WORK/nsd/nsd.conf" > bench/configs/nsd.conf
}

# dnsvakt runs as deployed (deploy/Dockerfile, deploy/systemd): with V8's young generation bounded.
NODE_FLAGS=(--max-semi-space-size=16)

# Starts one target in the background and records its pid in PID[target] (taskset execs the
# program, so $! is the server's own pid).
start_target() {
  local t=$1 log="$WORK/$1.log"
  case $t in
    dnsvakt)        $PIN_SRV node "${NODE_FLAGS[@]}" dist/cli.js serve --config "$WORK/dnsvakt.yaml" >>"$log" 2>&1 & ;;
    dnsvakt-node24) $PIN_SRV "$NODE24/node" "${NODE_FLAGS[@]}" dist/cli.js serve --config "$WORK/dnsvakt-node24.yaml" >>"$log" 2>&1 & ;;
    dnsvakt2)       node "${NODE_FLAGS[@]}" dist/cli.js serve --config "$WORK/dnsvakt2.yaml" >>"$log" 2>&1 & ;;
    echo)           $PIN_SRV node bench/echo-floor.mjs "${PORT[echo]}" >>"$log" 2>&1 & ;;
    echo-node24)    $PIN_SRV "$NODE24/node" bench/echo-floor.mjs "${PORT[echo-node24]}" >>"$log" 2>&1 & ;;
    unbound)        $PIN_SRV unbound -d -c "$WORK/unbound.conf" >>"$log" 2>&1 & ;;
    dnsmasq)        $PIN_SRV dnsmasq -k -C "$WORK/dnsmasq.conf" --log-facility="$WORK/dnsmasq.dnsmasq-log" >>"$log" 2>&1 & ;;
    *) log "unknown target $t"; return 1 ;;
  esac
  PID[$t]=$!; PIDS+=($!)
}

# Targets a crash is worth a restart for (ours); a crashed Unbound or dnsmasq is recorded only.
restartable() { [[ $1 == dnsvakt* || $1 == echo* ]]; }

wait_up() { # name port
  local i out
  printf 'h1.bench.test A\n' > "$WORK/one.txt"
  for i in $(seq 1 60); do
    if out=$(dnsperf -s 127.0.0.1 -p "$2" -d "$WORK/one.txt" -n 1 -t 1 2>/dev/null) \
       && grep -q 'Queries completed: *1 ' <<<"$out"; then return 0; fi
    sleep 0.25
  done
  log "$1 did not answer on port $2"; return 1
}
