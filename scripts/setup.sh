#!/usr/bin/env bash
# Create .venv and install whistle with pinned dependencies (constraints.txt).
# Usage: scripts/setup.sh [extra]   e.g. scripts/setup.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
target="."
if [ -n "${1:-}" ]; then target=".[$1]"; fi
.venv/bin/python -m pip install --quiet -c constraints.txt -e "$target"
