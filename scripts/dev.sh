#!/usr/bin/env bash
# Quick start: set up, then run whistle dev (embedded Temporal + worker). The demo cases
# are raised on the first start only (whistle dev --demo leaves demo.done in the data
# directory), so restarting resumes them instead of counting them again in `whistle stats`.
# Extra arguments go to `whistle dev` (e.g. --data-dir DIR --port N --policy FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/whistle dev --demo "$@"
