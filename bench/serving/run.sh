#!/usr/bin/env bash
# The serving benchmark in one command: wrk (Debian package) is installed when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q wrk; else sudo apt-get install -y -q wrk; fi
fi
exec .venv/bin/python bench/serving/bench.py "$@"
