#!/usr/bin/env bash
# Quick start: set up, then run whistle dev (embedded Temporal + worker) with a demo.
# Extra arguments go to `whistle dev` (e.g. --data-dir DIR --port N --policy FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/whistle dev --demo "$@"
