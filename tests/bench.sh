#!/usr/bin/env bash
# make bench: throughput figures for `ddb2es sync` (prints; never fails on a number).
# Runs tests/bench/bench.py with one DynamoDB Local and one Elasticsearch test
# server; see that file for the knobs (BENCH_ITEMS, BENCH_LARGE, BENCH_PROFILE...).
# perf (Debian linux-perf) and valgrind are installed here when missing and
# profiling is on; if they cannot be installed the profile part says so.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
export BUILD PYTHON
export DDB2ES_BIN="$PWD/$BUILD/ddb2es"
export DDB2ES_ROOT="$PWD"

if [ ! -x "$DDB2ES_BIN" ]; then
  echo "bench: $DDB2ES_BIN not found (run make)" >&2
  exit 2
fi

if [ "${BENCH_PROFILE:-1}" != 0 ]; then
  missing=()
  command -v perf >/dev/null 2>&1 || missing+=(linux-perf)
  command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: installing ${missing[*]} for the profiles"
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    if ! { $sudo apt-get update -qq >/dev/null && \
           $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
      echo "bench: could not install ${missing[*]}; the profiles will say what is missing"
    fi
  fi
fi

exec "$PYTHON" tests/bench/bench.py
