#!/usr/bin/env bash
# First step of `npm test`: makes sure the real tools the tests run are present.
# Missing ones are installed from Debian when this can (root or password-less
# sudo, apt-get present); otherwise it stops at once with one line naming them,
# instead of letting tests fail one by one or wait out their timeouts.
#   DNSVAKT_NO_INSTALL=1   only check, never install
# Exit 0: every tool is there. Exit 1: the one line above says what is missing.
set -uo pipefail

# The one list of tools the tests need, as "command:Debian package".
# Add a line here when a test starts running another tool; tests that run a
# tool point here (test/fixtures/tool.ts) when it is missing.
TOOLS=(
  "git:git"                         # list folders and blocking.git sync
  "ssh-keygen:openssh-client"       # signed list commits (git verify-commit)
  "dig:bind9-dnsutils"              # end-to-end answers from the CLI
  "promtool:prometheus"             # metrics exposition, rules, dashboard PromQL
  "prometheus:prometheus"           # a real scrape of a running gateway
  "docker-compose:docker-compose"   # docker-compose.yml validated offline
  "systemd-analyze:systemd"         # the unit file's verify and security checks
  "openssl:openssl"                 # certificates and SPKI pins for DoT/DoH tests
  "kdig:knot-dnsutils"              # DoT and DoH answers from a real client
  "curl:curl"                       # DoH over HTTP/2 and HTTP/1.1
  "unbound:unbound"                 # a real DoT/DoH upstream
  "nft:nftables"                    # export-firewall nftables output checked by nft -c
  "iptables-restore:iptables"       # export-firewall iptables output checked by --test
  "ip6tables-restore:iptables"      # ... and the ip6tables output
  "mkfifo:coreutils"                # a log destination nobody reads (stuck stdout test)
)

# Tools in /usr/sbin (nft, iptables, unbound...) count only when they are on PATH, as tests run them by name.
missing_tools=(); missing_pkgs=()
check() {
  missing_tools=(); missing_pkgs=()
  local entry tool pkg
  for entry in "${TOOLS[@]}"; do
    tool=${entry%%:*}; pkg=${entry#*:}
    command -v "$tool" >/dev/null 2>&1 && continue
    missing_tools+=("$tool")
    [[ " ${missing_pkgs[*]} " == *" $pkg "* ]] || missing_pkgs+=("$pkg")
  done
}

check
[ ${#missing_tools[@]} -eq 0 ] && exit 0

stop() { # one line, then exit 1
  echo "npm test needs ${missing_tools[*]} (not on PATH); install them with: apt-get install --no-install-recommends ${missing_pkgs[*]}${1:+ ($1)}" >&2
  exit 1
}

SUDO=()
if [ "${DNSVAKT_NO_INSTALL:-0}" = 1 ]; then stop "DNSVAKT_NO_INSTALL=1"; fi
command -v apt-get >/dev/null 2>&1 || stop "no apt-get here"
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true >/dev/null 2>&1 || stop "not root, no password-less sudo"
  SUDO=(sudo -n)
fi

echo "ensure-test-tools: installing ${missing_pkgs[*]} for ${missing_tools[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}"; } >"$log" 2>&1; then
  tail -n 5 "$log" >&2; rm -f "$log"
  stop "apt-get failed, see above"
fi
rm -f "$log"
check
[ ${#missing_tools[@]} -eq 0 ] || stop "still missing after apt-get install"
echo "ensure-test-tools: installed" >&2
