"""The benchmark's quick mode, as a smoke test: it runs end to end and reports
every measure. No timing is asserted here; figures live in bench/RESULTS.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_bench_quick_runs_and_reports_every_measure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--sweep", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["ceiling"]["workflows_per_second"] > 0
    assert report["cases"]["cases"] == 25 and report["cases"]["workflow_tasks_per_case"] > 0
    assert report["ratio"]["cases_per_second_vs_ceiling_workflows_per_second"] > 0
    assert report["latency_at_half_load"]["action_round_trip_ms"]["n"] > 0
    assert report["latency_at_half_load"]["projection_visible_ms"]["p99"] is not None
    assert report["replay"]["histories"] == 25 and report["replay"]["failures"] == 0
    assert report["memory"]["worker_rss_mib_with_open_cases"] > 0
    assert [row["open_cases"] for row in report["growth"]] == [20, 50, 100]
    lateness = report["lateness"]
    assert [row["deadlines_per_second"] for row in lateness["rows"]] == [2, 10]
    for row in lateness["rows"]:
        assert row["early"] == 0 and row["lateness_s"]["p99"] is not None
    assert lateness["p99_passes_limit"]


def test_bench_reads_fills_and_times_every_read(tmp_path: Path) -> None:
    """``--reads N``: every read at N cases, on SQLite and (when installed) PostgreSQL."""
    out = tmp_path / "reads.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--reads", "100", "--read-repeat", "5", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["checkpoints"] == [100]
    databases = {row["database"] for row in report["rows"]}
    assert "sqlite" in databases and (databases == {"sqlite", "postgresql"} or report["skipped"])
    for row in report["rows"]:
        assert row["cases"] == 100 and row["events"] > 100
        reads = row["reads_ms"]
        assert "one case with its timeline" in reads and "red and black lists, a quarter" in reads
        assert all(timing["n"] >= 5 and timing["p99"] is not None for timing in reads.values())
