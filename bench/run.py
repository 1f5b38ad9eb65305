"""``python -m bench`` / ``whistle bench``: one run that measures the ceiling,
full cases, latency at half load, replay, memory, and (``--sweep``) growth.

It starts its own embedded Temporal dev server (SQLite file, the same pragmas
as ``whistle dev``) and a worker process, in a scratch directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

from audit.replay_many import ParallelReplayer, replay_in_process
from bench.drive import BENCH_POLICY, Driver, Recorder
from bench.trivial import CEILING_QUEUE, Trivial
from casework.cases import act, new_action_id
from cli.dev import EmbeddedTemporal, _port_in_use
from models.case import ReportIn, SignOff, Withdraw
from models.tables import CaseEventRecord, CaseRecord
from policy.loader import parse_policy
from settings import get_settings
from store.engine import make_engine

console = Console()
app = typer.Typer(add_completion=False, help=__doc__)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def workflow_tasks(history: WorkflowHistory) -> int:
    return sum(
        1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    )


async def bounded(concurrency: int, jobs: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


def free_port_pair(start: int = 17233) -> int:
    port = start
    while _port_in_use(port) or _port_in_use(port + 1000):
        port += 1
    return port


class Bench:
    def __init__(self, root: Path, concurrency: int) -> None:
        self.root = root
        self.concurrency = concurrency
        self.server = EmbeddedTemporal(root / "server", free_port_pair())
        self.db_url = f"sqlite:///{root / 'whistle.db'}"
        self.task_queue = "bench-cases"
        self.worker: subprocess.Popen[str] | None = None
        self.policy = parse_policy(BENCH_POLICY, source="bench")
        self.client: Client

    async def start(self) -> None:
        self.server.start()
        self.client = await self.server.connect()
        await self.start_worker()

    async def start_worker(self) -> None:
        env = {
            **os.environ,
            "WHISTLE_TEMPORAL_ADDRESS": self.server.address,
            "WHISTLE_DATABASE_URL": self.db_url,
            "WHISTLE_TASK_QUEUE": self.task_queue,
            "WHISTLE_LOG_LEVEL": "WARNING",
        }
        with (self.root / "worker.log").open("a") as log:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "bench.worker"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert self.worker.stdout is not None
        line = await asyncio.to_thread(self.worker.stdout.readline)
        if "ready" not in line:
            raise RuntimeError(f"bench worker did not start: see {self.root / 'worker.log'}")

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.terminate()
            try:
                self.worker.wait(30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
            self.worker = None

    async def fresh_worker(self) -> float:
        """A new worker process, warmed by one case; its RSS in MiB.

        Memory per case is measured from a fresh process: one that already ran
        the load reuses freed memory and its RSS hides what cached cases cost.
        """
        self.stop_worker()
        await self.start_worker()
        warm, _ = await self.open_cases(1)
        await self.close_all(warm)
        await asyncio.sleep(1.0)
        return rss_mib(self.worker_pid)

    def stop(self) -> None:
        self.stop_worker()
        self.server.stop()

    @property
    def worker_pid(self) -> int:
        assert self.worker is not None
        return self.worker.pid

    # --- 1. ceiling -----------------------------------------------------------------

    async def ceiling(self, count: int) -> dict[str, Any]:
        prefix = f"trivial-{time.time_ns()}"

        async def one(i: int) -> int:
            result: int = await self.client.execute_workflow(
                Trivial.run, i, id=f"{prefix}-{i}", task_queue=CEILING_QUEUE
            )
            return result

        started = time.perf_counter()
        await bounded(self.concurrency * 4, [partial(one, i) for i in range(count)])
        elapsed = time.perf_counter() - started
        sample = await self.client.get_workflow_handle(f"{prefix}-0").fetch_history()
        tasks = workflow_tasks(sample)
        return {
            "workflows": count,
            "seconds": round(elapsed, 2),
            "workflows_per_second": round(count / elapsed, 2),
            "workflow_tasks_per_workflow": tasks,
            "workflow_tasks_per_second": round(count * tasks / elapsed, 1),
        }

    # --- 2. cases ---------------------------------------------------------------------

    async def cases(self, count: int) -> tuple[dict[str, Any], list[str], Recorder]:
        recorder = Recorder()
        driver = Driver(self.client, self.task_queue, self.policy, recorder)
        mix = driver.mix()

        async def life(i: int) -> str:
            case_id = await mix[i % len(mix)]()
            await driver.finished(case_id)
            return case_id

        started = time.perf_counter()
        case_ids = await bounded(self.concurrency, [partial(life, i) for i in range(count)])
        elapsed = time.perf_counter() - started
        return (
            {
                "cases": count,
                "seconds": round(elapsed, 2),
                "cases_per_second": round(count / elapsed, 2),
            },
            case_ids,
            recorder,
        )

    async def histories(self, case_ids: list[str]) -> list[WorkflowHistory]:
        async def one(case_id: str) -> WorkflowHistory:
            return await self.client.get_workflow_handle(case_id).fetch_history()

        return await bounded(32, [partial(one, c) for c in case_ids])

    # --- 3. latency at half load -------------------------------------------------------

    async def latency(self, rate: float, seconds: float) -> dict[str, Any]:
        """Open-loop: start cases at ``rate``/s; time report-in and sign-off round
        trips, and the delay until the sign-off's event is in the SQL projection."""
        recorder = Recorder()
        driver = Driver(self.client, self.task_queue, self.policy, recorder)
        engine = make_engine(self.db_url)
        visible: list[float] = []

        def projected_seq(case_id: str) -> int:
            with Session(engine) as session:
                return int(
                    session.exec(
                        select(func.max(CaseEventRecord.seq)).where(
                            CaseEventRecord.case_id == case_id
                        )
                    ).one()
                    or 0
                )

        async def one() -> None:
            case_id = await driver.open("emergency", "fire_lane")
            await driver.report_in(case_id, "fire_rescue", "police")
            started = time.perf_counter()
            await act(
                self.client,
                case_id,
                SignOff(action_id=new_action_id(), department="fire_rescue", outcome="resolved"),
            )
            done = time.perf_counter()
            recorder.add("SignOff", done - started)
            # sign-off and resolution are events 5 and 6
            while await asyncio.to_thread(projected_seq, case_id) < 6:
                await asyncio.sleep(0.005)
            visible.append(time.perf_counter() - done)
            await driver.confirm(case_id, 5)

        tasks = []
        interval = 1.0 / rate
        started = time.perf_counter()
        next_at = started
        while time.perf_counter() - started < seconds:
            tasks.append(asyncio.create_task(one()))
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await asyncio.gather(*tasks)
        engine.dispose()
        trips = recorder.round_trips.get("ReportIn", []) + recorder.round_trips.get("SignOff", [])
        return {
            "rate_cases_per_second": round(rate, 2),
            "cases": len(tasks),
            "action_round_trip_ms": _ms(trips),
            "projection_visible_ms": _ms(visible),
        }

    # --- 4. replay ----------------------------------------------------------------------

    async def replay(self, histories: list[WorkflowHistory]) -> dict[str, Any]:
        """One replayer in this process, then a process per core (``audit replay-archive``)."""
        started = time.perf_counter()
        outcomes = await replay_in_process(histories)
        one = time.perf_counter() - started
        async with ParallelReplayer() as pool:  # its start-up is not timed, as for one
            started = time.perf_counter()
            parallel = await pool.replay(histories)
            elapsed = time.perf_counter() - started
        return {
            "histories": len(histories),
            "one_process_histories_per_second": round(len(histories) / one, 1),
            "processes": pool.processes,
            "seconds": round(elapsed, 2),
            "histories_per_second": round(len(histories) / elapsed, 1),
            "failures": sum(o.failure is not None for o in parallel),
            "one_process_failures": sum(o.failure is not None for o in outcomes),
        }

    # --- 5 and 6. memory and growth -------------------------------------------------------

    async def open_cases(self, count: int) -> tuple[list[str], float]:
        driver = Driver(self.client, self.task_queue, self.policy, Recorder())

        async def one() -> str:
            return await driver.open("emergency", "noise")

        started = time.perf_counter()
        ids = await bounded(self.concurrency * 2, [one for _ in range(count)])
        await self.settled(ids)
        return ids, time.perf_counter() - started

    async def settled(self, case_ids: list[str], status: str | None = None) -> None:
        """Wait until the worker has run and projected every case (in ``status``):
        a start returns before the first task ran, and memory measured earlier
        misses cases; a withdrawal returns before the case has finished."""
        engine = make_engine(self.db_url)

        def projected() -> int:
            with Session(engine) as session:
                query = select(func.count()).where(col(CaseRecord.case_id).in_(case_ids))
                if status is not None:
                    query = query.where(CaseRecord.status == status)
                return int(session.exec(query).one())

        deadline = time.monotonic() + 600
        try:
            while await asyncio.to_thread(projected) < len(case_ids):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cases not projected after 10 minutes: see {self.root}")
                await asyncio.sleep(0.2)
        finally:
            engine.dispose()

    async def action_sample(self, case_ids: list[str], samples: int) -> list[float]:
        trips = []
        for case_id in case_ids[:samples]:
            started = time.perf_counter()
            await act(
                self.client, case_id, ReportIn(action_id=new_action_id(), department="environment")
            )
            trips.append(time.perf_counter() - started)
        return trips

    async def growth(self, steps: list[int], samples: int) -> list[dict[str, Any]]:
        opened: list[str] = []
        rows = []
        base = await self.fresh_worker()
        for target in steps:
            more = target - len(opened)
            ids, elapsed = await self.open_cases(more)
            opened += ids
            trips = await self.action_sample(ids, samples)
            rss = rss_mib(self.worker_pid)
            row = {
                "open_cases": len(opened),
                "opened_per_second": round(more / elapsed, 1),
                "worker_rss_mib": round(rss, 1),
                "rss_kib_per_open_case": round((rss - base) * 1024 / len(opened), 1),
                "action_round_trip_ms": _ms(trips),
            }
            rows.append(row)
            console.print(f"  growth: {json.dumps(row)}")  # partial results survive a long run
        await self.close_all(opened)
        return rows

    async def close_all(self, case_ids: list[str]) -> None:
        async def one(case_id: str) -> None:
            await act(
                self.client, case_id, Withdraw(action_id=new_action_id(), reason="bench done")
            )

        await bounded(self.concurrency * 2, [partial(one, c) for c in case_ids])
        await self.settled(case_ids, status="withdrawn")


def _ms(values: list[float]) -> dict[str, float | None]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    return {
        "n": len(values),
        "p50": ms(percentile(values, 0.50)),
        "p95": ms(percentile(values, 0.95)),
        "p99": ms(percentile(values, 0.99)),
        "mean": ms(statistics.fmean(values)) if values else None,
    }


async def run(
    *,
    cases: int,
    ceiling: int,
    latency_seconds: float,
    concurrency: int,
    sweep: list[int],
    memory_cases: int,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="whistle-bench-") as scratch:
        bench = Bench(Path(scratch), concurrency)
        try:
            await bench.start()
            console.print(f"[bold]ceiling[/]: {ceiling} trivial workflows ...")
            ceiling_result = await bench.ceiling(ceiling)
            console.print(f"[bold]cases[/]: {cases} whole cases, {concurrency} at a time ...")
            case_result, case_ids, recorder = await bench.cases(cases)
            histories = await bench.histories(case_ids)
            tasks = [workflow_tasks(h) for h in histories]
            case_result["workflow_tasks_per_case"] = round(statistics.fmean(tasks), 1)
            case_result["workflow_tasks_per_second"] = round(
                case_result["cases_per_second"] * case_result["workflow_tasks_per_case"], 1
            )
            case_result["history_events_per_case"] = round(
                statistics.fmean(len(h.events) for h in histories), 1
            )
            case_result["action_round_trip_ms_at_full_load"] = _ms(
                [t for trips in recorder.round_trips.values() for t in trips]
            )
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
            latency_result = await bench.latency(half, latency_seconds)
            console.print(f"[bold]replay[/]: {len(histories)} histories ...")
            replay_result = await bench.replay(histories)
            console.print(f"[bold]memory[/]: {memory_cases} open cases, fresh worker ...")
            before = await bench.fresh_worker()
            opened, _ = await bench.open_cases(memory_cases)
            after = rss_mib(bench.worker_pid)
            await bench.close_all(opened)
            memory_result = {
                "fresh_worker_rss_mib": round(before, 1),
                "worker_rss_mib_with_open_cases": round(after, 1),
                "open_cases": memory_cases,
                "kib_per_cached_open_case": round((after - before) * 1024 / memory_cases, 1),
            }
            growth = []
            if sweep:
                console.print(f"[bold]growth[/]: {sweep} open cases ...")
                growth = await bench.growth(sweep, samples=200)
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
                "growth": growth,
            }
        finally:
            bench.stop()


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
    if report["growth"]:
        growth = Table(
            "open cases",
            "opened/s",
            "worker RSS MiB",
            "KiB/open case",
            "action p50/p99 ms",
            title="growth",
        )
        for row in report["growth"]:
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


@app.command()
def main(
    cases: Annotated[int, typer.Option("--cases", min=5)] = 1000,
    ceiling: Annotated[int, typer.Option("--ceiling", min=10)] = 2000,
    latency_seconds: Annotated[float, typer.Option("--latency-seconds", min=1)] = 30.0,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1)] = 64,
    memory_cases: Annotated[int, typer.Option("--memory-cases", min=10)] = 1000,
    sweep: Annotated[
        bool, typer.Option("--sweep", help="Growth at 100, 1,000 and 5,000 open cases.")
    ] = False,
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run under a minute.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="JSON file (default bench/out/...).")
    ] = None,
) -> None:
    """Measure whistle against Temporal's own ceiling on this machine."""
    if quick:
        cases, ceiling, latency_seconds, memory_cases = 25, 100, 3.0, 50
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
        )
    )
    report["settings"]["quick"] = quick
    print_report(report)
    target = out or Path("bench/out") / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2), encoding="utf-8")
    console.print(f"wrote {target}")
