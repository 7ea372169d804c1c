#!/usr/bin/env bash
# Runs every test of ddb2es and ends with one plain total line:
#   N passed, N failed
# A test is a cmocka binary ($BUILD/tests/test_*) or a script tests/*/test_*.py
# (run with $PYTHON) or tests/*/test_*.sh (bash). Each prints its own counts:
# cmocka its [ PASSED ]/[ FAILED ] lines, a script a final "N passed, N failed"
# line. A test that exits non-zero without counting a failure counts as one
# failure, so a crash is never a pass.
#   tests/run.sh [--only SUBSTRING]... [--list]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
export BUILD PYTHON
export DDB2ES_BIN="$PWD/$BUILD/ddb2es"
export DDB2ES_ROOT="$PWD"

only=(); list=0
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only+=("$2"); shift 2;;
    --list) list=1; shift;;
    *) echo "usage: tests/run.sh [--only SUBSTRING]... [--list]" >&2; exit 2;;
  esac
done

tests=()
for t in "$BUILD"/tests/test_*; do [ -x "$t" ] && [ -f "$t" ] && tests+=("$t"); done
for t in tests/*/test_*.py tests/*/test_*.sh; do [ -f "$t" ] && tests+=("$t"); done
if [ ${#only[@]} -gt 0 ]; then
  keep=()
  for t in "${tests[@]}"; do for o in "${only[@]}"; do case "$t" in *"$o"*) keep+=("$t"); break;; esac; done; done
  tests=("${keep[@]+"${keep[@]}"}")
fi
if [ $list -eq 1 ]; then printf '%s\n' "${tests[@]}"; exit 0; fi

total_pass=0; total_fail=0; failed_tests=()
log_dir="$BUILD/test-logs"; mkdir -p "$log_dir"

# Runs one test into its log and writes "rc seconds" beside it.
run_one() {
  local t=$1 name=${1##*/} log="$log_dir/${1##*/}.log" start rc
  start=$(date +%s)
  case "$t" in
    *.py) timeout -k 10 "$TEST_TIMEOUT" "$PYTHON" "$t" >"$log" 2>&1; rc=$?;;
    *.sh) timeout -k 10 "$TEST_TIMEOUT" bash "$t" >"$log" 2>&1; rc=$?;;
    *)    timeout -k 10 "$TEST_TIMEOUT" "$t" >"$log" 2>&1; rc=$?;;
  esac
  [ "$rc" -eq 124 ] && echo "test killed after ${TEST_TIMEOUT}s (TEST_TIMEOUT)" >>"$log"
  echo "$rc $(( $(date +%s) - start ))" >"$log.rc"
}

# Reads a finished test's counts and prints its line.
report_one() {
  local t=$1 name=${1##*/} log="$log_dir/${1##*/}.log" rc secs p=0 f=0 line
  read -r rc secs <"$log.rc"
  case "$t" in
    *.py|*.sh)
      line=$(grep -E '^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
      if [ -n "$line" ]; then
        p=$(sed -E 's/^([A-Za-z_-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
        f=$(sed -E 's/^([A-Za-z_-]+: )?[0-9]+ passed, ([0-9]+) failed.*/\2/' <<<"$line")
      fi;;
    *)
      p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
      f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}');;
  esac
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  if [ "$f" -gt 0 ]; then
    failed_tests+=("$t")
    printf 'FAIL %-40s %4d passed %3d failed %4ds (log: %s)\n' "$name" "$p" "$f" "$secs" "$log"
    tail -n 40 "$log" | sed 's/^/    | /'
  else
    printf 'ok   %-40s %4d passed %3d failed %4ds\n' "$name" "$p" "$f" "$secs"
  fi
}

# Unit tests one after the other (they take a second); the slower scripts run
# $JOBS at a time (default: the number of cores), each with its own servers on
# its own ports. Lines are printed in a fixed order whatever finishes first.
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
TEST_TIMEOUT=${TEST_TIMEOUT:-420}  # a hung test fails instead of eating the CI budget
running=0
for t in "${tests[@]}"; do
  rm -f "$log_dir/${t##*/}.log.rc"
  case "$t" in
    *.py|*.sh)
      run_one "$t" &
      running=$((running + 1))
      if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi;;
    *) run_one "$t";;
  esac
done
wait
for t in "${tests[@]}"; do report_one "$t"; done
echo
[ ${#failed_tests[@]} -gt 0 ] && printf 'failed: %s\n' "${failed_tests[*]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
