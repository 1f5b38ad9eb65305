"""``python -m bench`` / ``whistle bench``: one run that measures the ceiling,
full cases, latency at half load, replay, memory, escalation lateness as more
deadlines fall due, and (``--sweep``) growth.

It starts its own embedded Temporal dev server (SQLite file, the same pragmas
as ``whistle dev``) and a worker process, in a scratch directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from bench import cases as whole_cases
from bench import lateness, memory
from bench import notify as notifications
from bench import pages as workbench_pages
from bench import reads as projection_reads
from bench import workers as scale_out
from bench.ceiling import ceiling as measure_ceiling
from bench.pg import NOT_HERE, postgres, undo_on_stop
from bench.replay import replay
from bench.report import print_report
from bench.stack import Stack
from bench.stats import ms, workflow_tasks
from settings import get_settings

console = Console()
app = typer.Typer(add_completion=False, help=__doc__)


async def run(
    *,
    cases: int,
    ceiling: int,
    latency_seconds: float,
    concurrency: int,
    sweep: list[int],
    memory_cases: int,
    lateness_rates: list[float],
    lateness_deadline: int,
    lateness_seconds: float,
) -> dict[str, Any]:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="whistle-bench-") as scratch:
        stack = Stack(Path(scratch), concurrency)
        try:
            await stack.start()
            console.print(f"[bold]ceiling[/]: {ceiling} trivial workflows ...")
            ceiling_result = await measure_ceiling(stack, ceiling)
            console.print(f"[bold]cases[/]: {cases} whole cases, {concurrency} at a time ...")
            case_result, case_ids, recorder = await whole_cases.cases(stack, cases)
            histories = await stack.histories(case_ids)
            tasks = [workflow_tasks(h) for h in histories]
            case_result["workflow_tasks_per_case"] = round(statistics.fmean(tasks), 1)
            case_result["workflow_tasks_per_second"] = round(
                case_result["cases_per_second"] * case_result["workflow_tasks_per_case"], 1
            )
            case_result["history_events_per_case"] = round(
                statistics.fmean(len(h.events) for h in histories), 1
            )
            case_result["action_round_trip_ms_at_full_load"] = ms(recorder.all())
            ratio = {
                "cases_per_second_vs_ceiling_workflows_per_second": round(
                    case_result["cases_per_second"] / ceiling_result["workflows_per_second"], 3
                ),
                "workflow_tasks_per_second_vs_ceiling": round(
                    case_result["workflow_tasks_per_second"]
                    / ceiling_result["workflow_tasks_per_second"],
                    3,
                ),
            }
            half = case_result["cases_per_second"] / 2
            console.print(f"[bold]latency[/]: {latency_seconds:.0f}s at {half:.1f} cases/s ...")
            latency_result = await whole_cases.latency(stack, half, latency_seconds)
            console.print(f"[bold]replay[/]: {len(histories)} histories ...")
            replay_result = await replay(histories)
            console.print(f"[bold]memory[/]: {memory_cases} open cases, fresh worker ...")
            memory_result = await memory.memory(stack, memory_cases)
            lateness_result: dict[str, Any] = {}
            if lateness_rates:
                console.print(
                    f"[bold]lateness[/]: {lateness_rates} deadlines/s, "
                    f"{lateness_seconds:g} s each, deadline {lateness_deadline} s ..."
                )
                lateness_result = await lateness.sweep(
                    stack, lateness_rates, lateness_deadline, lateness_seconds
                )
            growth = []
            if sweep:
                console.print(f"[bold]growth[/]: {sweep} open cases ...")
                growth = await memory.growth(stack, sweep, samples=200)
            return {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "settings": {
                    "workflow_sandbox": get_settings().workflow_sandbox,
                    "max_cached_cases": get_settings().max_cached_cases,
                    "cases": cases,
                    "ceiling_workflows": ceiling,
                    "concurrency": concurrency,
                    "latency_seconds": latency_seconds,
                },
                "ceiling": ceiling_result,
                "cases": case_result,
                "ratio": ratio,
                "latency_at_half_load": latency_result,
                "replay": replay_result,
                "memory": memory_result,
                "lateness": lateness_result,
                "growth": growth,
                "bench_seconds": round(time.perf_counter() - began, 1),
            }
        finally:
            stack.stop()


def _rates(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"a comma-separated list of rates, e.g. 1,5,10; got {text!r}"
        ) from None


@app.command()
def main(
    cases: Annotated[int, typer.Option("--cases", min=5)] = 1000,
    ceiling: Annotated[int, typer.Option("--ceiling", min=10)] = 2000,
    latency_seconds: Annotated[float, typer.Option("--latency-seconds", min=1)] = 30.0,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1)] = 64,
    memory_cases: Annotated[int, typer.Option("--memory-cases", min=10)] = 1000,
    lateness_rates: Annotated[
        str,
        typer.Option(
            "--lateness-rates", help="Deadlines falling due per second; empty skips the sweep."
        ),
    ] = ",".join(f"{rate:g}" for rate in lateness.RATES),
    lateness_deadline: Annotated[int, typer.Option("--lateness-deadline", min=2)] = 10,
    lateness_seconds: Annotated[float, typer.Option("--lateness-seconds", min=3)] = 30.0,
    sweep: Annotated[
        bool, typer.Option("--sweep", help="Growth at 100, 1,000 and 5,000 open cases.")
    ] = False,
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run under a minute.")] = False,
    pages: Annotated[
        int | None,
        typer.Option(
            "--pages",
            min=100,
            help="Only the workbench's pages, with this many cases in the projection.",
        ),
    ] = None,
    page_repeat: Annotated[int, typer.Option("--page-repeat", min=5)] = 40,
    reads: Annotated[
        int | None,
        typer.Option(
            "--reads",
            min=100,
            help="Only the projection's reads, at 10k/100k/1M cases on the way to this many "
            "(SQLite, then PostgreSQL).",
        ),
    ] = None,
    read_repeat: Annotated[int, typer.Option("--read-repeat", min=5)] = projection_reads.REPEAT,
    notify: Annotated[
        int | None,
        typer.Option(
            "--notify",
            min=5,
            help="Only notifications: this many whole cases, delivered to a local receiver.",
        ),
    ] = None,
    notifier_process: Annotated[
        bool, typer.Option("--notifier-process", help="With --notify: whistle notifier alone.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=5, help="Only cases/s with one worker, then two: this many cases."
        ),
    ] = None,
    on_postgres: Annotated[
        bool,
        typer.Option(
            "--postgres", help="With --notify or --workers: the projection on PostgreSQL."
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="JSON file (default bench/out/...).")
    ] = None,
) -> None:
    """Measure whistle against Temporal's own ceiling on this machine."""
    if pages is not None:
        _pages(pages, page_repeat, out)
        return
    if notify is not None:
        _notify(notify, concurrency, notifier_process, on_postgres, out)
        return
    if workers is not None:
        _workers(workers, concurrency, on_postgres, out)
        return
    if reads is not None:
        _reads(reads, read_repeat, out)
        return
    rates = _rates(lateness_rates)
    if quick:
        cases, ceiling, latency_seconds, memory_cases = 25, 100, 3.0, 50
        rates, lateness_deadline, lateness_seconds = [2.0, 10.0], 3, 6.0
    if rates and lateness_seconds <= lateness_deadline:
        raise typer.BadParameter("--lateness-seconds must exceed --lateness-deadline")
    steps = [100, 1000, 5000] if sweep else []
    if quick and sweep:
        steps = [20, 50, 100]
    report = asyncio.run(
        run(
            cases=cases,
            ceiling=ceiling,
            latency_seconds=latency_seconds,
            concurrency=concurrency,
            sweep=steps,
            memory_cases=memory_cases,
            lateness_rates=rates,
            lateness_deadline=lateness_deadline,
            lateness_seconds=lateness_seconds,
        )
    )
    report["settings"]["quick"] = quick
    print_report(report)
    target = out or Path("bench/out") / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2), encoding="utf-8")
    console.print(f"wrote {target}")


def _notify(
    cases: int, concurrency: int, own_process: bool, on_postgres: bool, out: Path | None
) -> None:
    console.print(f"[bold]notify[/]: {cases} whole cases, their notifications delivered ...")
    with (
        tempfile.TemporaryDirectory(prefix="whistle-bench-notify-") as scratch,
        _database(on_postgres) as url,
    ):
        report = asyncio.run(
            notifications.measure(
                Path(scratch), cases, concurrency, own_process=own_process, database_url=url
            )
        )
    _write(report, "notify", out)


def _workers(cases: int, concurrency: int, on_postgres: bool, out: Path | None) -> None:
    console.print(f"[bold]workers[/]: {cases} whole cases with one worker, then with two ...")
    with (
        tempfile.TemporaryDirectory(prefix="whistle-bench-workers-") as scratch,
        _database(on_postgres) as url,
    ):
        runs = asyncio.run(scale_out.measure(Path(scratch), cases, concurrency, url))
    database = "postgresql" if on_postgres else "sqlite"
    _write({"database": database, "concurrency": concurrency, "runs": runs}, "workers", out)


@contextmanager
def _database(on_postgres: bool) -> Iterator[str | None]:
    """None (each stack's own SQLite file), or a throwaway PostgreSQL server's URL."""
    if not on_postgres:
        yield None
        return
    undo_on_stop()
    with postgres() as url:
        if url is None:
            raise typer.BadParameter(NOT_HERE, param_hint="--postgres")
        yield url


def _write(report: dict[str, Any], name: str, out: Path | None) -> None:
    report["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform()}
    report["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    console.print_json(json.dumps(report))
    target = out or Path("bench/out") / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2), encoding="utf-8")
    console.print(f"wrote {target}")


def _pages(cases: int, repeat: int, out: Path | None) -> None:
    console.print(f"[bold]pages[/]: the workbench with {cases} cases in the projection ...")
    with tempfile.TemporaryDirectory(prefix="whistle-bench-pages-") as scratch:
        report = asyncio.run(workbench_pages.measure(Path(scratch), cases, repeat))
    _write(report, "pages", out)


def _reads(cases: int, repeat: int, out: Path | None) -> None:
    console.print(f"[bold]reads[/]: the projection's reads on the way to {cases} cases ...")
    report = projection_reads.measure(cases, repeat)
    _write(report, "reads", out)
