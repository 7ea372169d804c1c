#!/usr/bin/env bash
# The official Node.js clients against the test server, each against its matching flavour:
#   @elastic/elasticsearch 9.x          -> es9 (the client sends compatible-with=9 headers)
#   @elastic/elasticsearch 9.x (compat-with=8 transport) -> es8
#   @elastic/elasticsearch 9.x as shipped -> es8 must refuse it (400 media_type_header_exception)
#   @opensearch-project/opensearch 3.x  -> opensearch
# Needs tests/setup.sh to have installed the clients under .deps/node_modules.
# Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PYTHON=${PYTHON:-/usr/bin/python3}
export NODE_PATH="$ROOT/.deps/node_modules"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if ! command -v node >/dev/null 2>&1 || [ ! -d "$NODE_PATH/@elastic/elasticsearch" ] \
   || [ ! -d "$NODE_PATH/@opensearch-project/opensearch" ]; then
  echo "FAIL node or the clients are missing (run tests/setup.sh)"
  echo "0 passed, 1 failed"
  exit 1
fi

start_server() {   # flavour name -> sets $port; the server is a child of this shell
  local fl=$1 ready="$tmp/ready.$2"
  "$PYTHON" tests/esserver/server.py --host 127.0.0.1 --port 0 --flavour "$fl" --ready-file "$ready" \
    >"$tmp/server.$2.out" 2>"$tmp/server.$2.log" &
  pids+=($!)
  port=
  for _ in $(seq 200); do [ -s "$ready" ] && break; sleep 0.05; done
  [ -s "$ready" ] || { echo "server $fl did not start"; cat "$tmp/server.$2.log"; return 1; }
  port=$(cat "$ready")
}

total_p=0; total_f=0
run() {   # flavour mode
  local out p f
  start_server "$1" "$2" || { total_f=$((total_f + 1)); return; }
  out=$(node tests/esserver/clients.js "$2" "http://127.0.0.1:$port" 3000 2>&1)
  echo "$out" | sed "s/^/[$2 on $1] /"
  local line
  line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -z "$line" ]; then total_f=$((total_f + 1)); return; fi
  p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
  total_p=$((total_p + p)); total_f=$((total_f + f))
  if [ -s "$tmp/server.$2.log" ]; then
    echo "[$2 on $1] server stderr:"; sed 's/^/    /' "$tmp/server.$2.log"
    total_f=$((total_f + 1))
  fi
}

run es9 elastic
run es8 elastic-compat8
run es8 elastic-on-es8
run opensearch opensearch
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
