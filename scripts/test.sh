#!/usr/bin/env bash
# Set up with the test tools, then lint, type-check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .
# Two processes, each whole test file in one of them (its session servers with it):
# most tests wait on servers and timers, so two share the 2 cores well.
.venv/bin/pytest -n 2 --dist loadfile "$@"
