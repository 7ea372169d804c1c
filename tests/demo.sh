#!/usr/bin/env bash
# make demo: see tests/demo.py.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-/usr/bin/python3}" tests/demo.py
