"""The benchmark's tables on the console (the JSON report holds every figure)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def print_report(report: dict[str, Any]) -> None:
    table = Table("measure", "value", title="whistle benchmark")
    c, k, r = report["ceiling"], report["cases"], report["ratio"]
    lat, rep, mem = report["latency_at_half_load"], report["replay"], report["memory"]
    rows = [
        ("ceiling: trivial workflows/s", c["workflows_per_second"]),
        ("ceiling: workflow tasks/s", c["workflow_tasks_per_second"]),
        ("cases/s (whole lives)", k["cases_per_second"]),
        ("workflow tasks per case", k["workflow_tasks_per_case"]),
        ("history events per case", k["history_events_per_case"]),
        ("case workflow tasks/s", k["workflow_tasks_per_second"]),
        (
            "ratio cases/s : ceiling workflows/s",
            r["cases_per_second_vs_ceiling_workflows_per_second"],
        ),
        ("ratio workflow tasks/s : ceiling", r["workflow_tasks_per_second_vs_ceiling"]),
        ("half load (cases/s)", lat["rate_cases_per_second"]),
        ("action round trip p50/p95/p99 ms", _triple(lat["action_round_trip_ms"])),
        ("projection visible p50/p95/p99 ms", _triple(lat["projection_visible_ms"])),
        ("replay histories/s, one process", rep["one_process_histories_per_second"]),
        (f"replay histories/s, {rep['processes']} processes", rep["histories_per_second"]),
        ("replay failures", rep["failures"]),
        ("fresh worker RSS MiB", mem["fresh_worker_rss_mib"]),
        (f"worker RSS MiB, {mem['open_cases']} open cases", mem["worker_rss_mib_with_open_cases"]),
        ("KiB per cached open case", mem["kib_per_cached_open_case"]),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    if report["lateness"]:
        print_lateness(report["lateness"])
    if report["growth"]:
        print_growth(report["growth"])


def print_lateness(sweep: dict[str, Any]) -> None:
    table = Table(
        "due/s",
        "raised/s",
        "cases (steady)",
        "late p50 s",
        "late p99 s",
        "late max s",
        "all cases p99 s",
        "1st task lag p99 s",
        title=(
            f"escalation lateness (deadline {sweep['deadline_seconds']} s); "
            f"p99 > {sweep['p99_limit_seconds']:g} s: {sweep['p99_passes_limit']}"
        ),
    )
    for row in sweep["rows"]:
        late, every = row["lateness_s"], row["all_lateness_s"]
        table.add_row(
            f"{row['deadlines_per_second']:g}",
            str(row["raised_per_second"]),
            f"{row['cases']} ({late['n']})",
            str(late["p50"]),
            str(late["p99"]),
            str(late["max"]),
            str(every["p99"]),
            str(row["first_task_lag_s"]["p99"]),
        )
    console.print(table)


def print_growth(rows: list[dict[str, Any]]) -> None:
    growth = Table(
        "open cases",
        "opened/s",
        "worker RSS MiB",
        "KiB/open case",
        "action p50/p99 ms",
        title="growth",
    )
    for row in rows:
        trips = row["action_round_trip_ms"]
        growth.add_row(
            str(row["open_cases"]),
            str(row["opened_per_second"]),
            str(row["worker_rss_mib"]),
            str(row["rss_kib_per_open_case"]),
            f"{trips['p50']} / {trips['p99']}",
        )
    console.print(growth)


def _triple(values: dict[str, Any]) -> str:
    return f"{values['p50']} / {values['p95']} / {values['p99']}"
