"""The projection's reads as it grows (``python -m bench --reads N``).

Fills a projection with N cases of a district (``bench.pages``'s: 6 streets, 300
compounds, 30 units; about 10 events a case) through the projection's own write path,
and at each checkpoint on the way (10,000, 100,000 and 1,000,000 cases, then N)
times every read of the case lists and search (keyset pages, each filter, text), one
case with its timeline, and the assessment of a quarter (``whistle stats`` by unit,
compound and whistle; the red and black lists): on SQLite, then on PostgreSQL (a
throwaway server of Debian's package, as the tests start one), in one run.

Each read is called in the benchmark's own process, one call after another, with a
new random argument each time (a compound, a unit, a case, a cursor), and timed with
its session and the rows' objects: the wall time, and the CPU time of the calling
thread (``cpu_p50``/``cpu_p99``: on SQLite the whole read, on PostgreSQL the client's
share; it does not count waiting for a core, so it stays meaningful when other work
shares the machine; the load average is recorded around each checkpoint); memory is the process's peak RSS while the read
repeats, over its RSS before (the peak is reset before each read, Linux's clear_refs):
memory the process already held from the fill is reused, so this is what a read adds
to a process that has run; and the peak of Python's allocations in one more call
(tracemalloc), what the read itself allocates at once. Before a checkpoint's reads the
objects the fill left are collected and frozen (``gc.freeze``): otherwise a read's p99
is the garbage collector walking them, which no API process holds.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from api.app import create_app
from audit.ranking import quarter_lists
from audit.stats import stats
from bench.lives import live
from bench.pages import (
    BATCH,
    COMMUNITIES_PER_STREET,
    COMPOUNDS_PER_COMMUNITY,
    KINDS,
    SETTLED_AFTER,
    STREETS,
    _org_text,
)
from bench.pg import NOT_HERE, ON_STOP, postgres, undo_on_stop
from bench.stats import ms
from models.case import CaseStatus
from models.levels import LEVEL_NAMES
from models.periods import current_quarter, quarter_bounds
from models.publication import CaseChanges
from models.tables import CaseEventRecord
from models.workdays import DEFAULT_TIMEZONE, zone
from org.loader import parse_org
from policy.loader import load_policy
from settings import Settings
from store.case_filters import CaseFilter, CaseScope
from store.engine import make_engine
from store.keyset import encode_cursor
from store.org import activate_org
from store.policies import activate_policy
from store.principals import add_principal, issue_token
from store.projection import write_many
from store.reads import case_events, get_case, projected_case_document, search_page

console = Console()

CHECKPOINTS = (10_000, 100_000, 1_000_000)
REPEAT = 100
READ_BUDGET_SECONDS = 20.0
"""A read slower than this in all stops after ``MIN_SAMPLES``: n says how often it ran."""
MIN_SAMPLES = 5
COMMON_WORDS = "消防"
"""In every bench case's title (``bench.lives``): the search stops at the page's size."""


def checkpoints(n: int) -> list[int]:
    """The case counts measured on the way to ``n``."""
    return [c for c in CHECKPOINTS if c < n] + [n]


def compounds() -> list[str]:
    return [
        f"s{s}c{c}k{k}"
        for s in range(STREETS)
        for c in range(COMMUNITIES_PER_STREET)
        for k in range(COMPOUNDS_PER_COMMUNITY)
    ]


def units() -> list[str]:
    return [f"{kind}_s{s}" for s in range(STREETS) for kind in KINDS]


def fill_range(engine: Engine, start: int, stop: int, now: datetime, seed: int = 7) -> None:
    """Cases ``start`` to ``stop`` (ids ``bench-NNNNNNN``) of ``bench.pages.fill``'s
    district and mix, written the same way; filling on from a count already written."""
    rng = random.Random(seed * 1_000_003 + start)
    places = compounds()
    batch: list[CaseChanges] = []
    for i in range(start, stop):
        compound = rng.choice(places)
        street = compound.split("c")[0]
        pool = [f"{kind}_{street}" for kind in KINDS]
        raised = now - timedelta(minutes=rng.randint(1, 365 * 24 * 60))
        settled = raised < now - SETTLED_AFTER
        life = live(rng, f"bench-{i:07d}", compound, pool, raised, settled=settled)
        batch.append(CaseChanges(summary=life.summary(len(life.events)), events=life.events))
        if len(batch) >= BATCH:
            write_many(engine, batch)
            batch = []
    if batch:
        write_many(engine, batch)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset the process's peak RSS (VmHWM); False where Linux does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


Read = Callable[[random.Random], Callable[[], object]]
"""A read: given the random source, its arguments drawn (not timed), the call to time."""


def reads_of(engine: Engine, n: int, now: datetime) -> dict[str, Read]:
    """Each read by name."""
    everyone = CaseScope()
    places, offices = compounds(), units()
    statuses = [s.value for s in CaseStatus]
    district = zone(DEFAULT_TIMEZONE)
    quarter = current_quarter(district, now)
    start, end = quarter_bounds(quarter, district)
    policy = load_policy(None)

    def page(**where: Any) -> Callable[[], object]:
        return partial(search_page, engine, CaseFilter(**where), everyone, now)

    def scoped(compounds: list[str]) -> Callable[[], object]:
        """The first page a reader whose scope is ``compounds`` sees (api.access.scope_of)."""
        scope = CaseScope(compounds=frozenset(compounds))
        return partial(search_page, engine, CaseFilter(), scope, now)

    def case_id(rng: random.Random) -> str:
        return f"bench-{rng.randrange(n):07d}"

    def anywhere(rng: random.Random) -> str:
        """The cursor of a random case: a page from anywhere in the list."""
        row = get_case(engine, case_id(rng))
        assert row is not None
        return encode_cursor(row.raised_at, row.case_id)

    def timeline(chosen: str) -> object:
        row = get_case(engine, chosen)
        assert row is not None
        return projected_case_document(row, case_events(engine, chosen))

    def assessment(by: str) -> Read:
        return lambda rng: partial(stats, engine, start=start, end=end, by=by)

    stats_over_http = _api_stats(engine, n, quarter)
    return {
        "list: newest": lambda rng: page(),
        "list: a branch's compound (its scope)": lambda rng: scoped([rng.choice(places)]),
        "list: a station's street (its scope)": lambda rng: scoped(
            [c for c in places if c.startswith(f"s{rng.randrange(STREETS)}c")]
        ),
        "list: a page from a cursor": lambda rng: page(after=anywhere(rng)),
        "list: status": lambda rng: page(status=rng.choice(statuses)),
        "list: level": lambda rng: page(level=rng.choice(LEVEL_NAMES)),
        "list: compound": lambda rng: page(compound=rng.choice(places)),
        "list: unit": lambda rng: page(department=rng.choice(offices)),
        "list: overdue": lambda rng: page(overdue=True),
        "list: on time": lambda rng: page(overdue=False),
        "list: closed in a compound, from a cursor": lambda rng: page(
            status=CaseStatus.CLOSED.value, compound=rng.choice(places), after=anywhere(rng)
        ),
        "search: common words": lambda rng: page(text=COMMON_WORDS),
        "search: one case's number (rare)": lambda rng: page(text=f"{rng.randrange(n):07d}"),
        "one case with its timeline": lambda rng: partial(timeline, case_id(rng)),
        "stats by unit, a quarter": assessment("department"),
        "stats by compound, a quarter": assessment("compound"),
        "stats by whistle, a quarter": assessment("level"),
        "red and black lists, a quarter": lambda rng: partial(
            quarter_lists, engine, policy, quarter=quarter, zone=district
        ),
        "API: GET /stats by unit, a quarter": lambda rng: stats_over_http,
    }


def _api_stats(engine: Engine, n: int, quarter: str) -> Callable[[], object]:
    """``GET /stats?quarter=…`` as an auditor, through the API's whole stack in-process
    (its app, authentication, the route, the response model, JSON)."""
    name = f"bench-auditor-{n}"
    add_principal(engine, name=name, kind="auditor", compounds=[], department=None)
    app = create_app(Settings(), engine=engine)
    app.state.engine = engine  # no lifespan: the assessment needs no Temporal client
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://bench",
        headers={"Authorization": f"Bearer {issue_token(engine, name)[1]}"},
    )
    loop = asyncio.new_event_loop()

    def call() -> object:
        asked = http.get("/stats", params={"quarter": quarter, "by": "department"})
        answer = loop.run_until_complete(asked)
        answer.raise_for_status()
        return answer.json()

    return call


def time_reads(engine: Engine, n: int, now: datetime, repeat: int) -> dict[str, Any]:
    rng = random.Random(n)
    timings: dict[str, Any] = {}
    for name, read in reads_of(engine, n, now).items():
        read(rng)()  # a first call: what it loads once is not the read's memory
        before = _status_kib("VmRSS")
        peak_known = _reset_peak()
        seconds: list[float] = []
        cpu: list[float] = []
        for _ in range(repeat):
            call = read(rng)
            began, began_cpu = time.perf_counter(), time.thread_time()
            call()
            cpu.append(time.thread_time() - began_cpu)
            seconds.append(time.perf_counter() - began)
            if len(seconds) >= MIN_SAMPLES and sum(seconds) > READ_BUDGET_SECONDS:
                break
        peak = _status_kib("VmHWM") if peak_known else _status_kib("VmRSS")
        tracemalloc.start()
        read(rng)()
        allocated = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        spent = ms(cpu)
        timings[name] = {
            **ms(seconds),
            "cpu_p50": spent["p50"],
            "cpu_p99": spent["p99"],
            "peak_rss_delta_kib": max(0, peak - before),
            "python_peak_kib": round(allocated / 1024),
        }
    return timings


def _size_bytes(engine: Engine, path: Path | None) -> int:
    if path is not None:
        return sum(f.stat().st_size for f in path.parent.glob(path.name + "*"))
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def grow(
    engine: Engine, n: int, repeat: int, database: str, path: Path | None
) -> list[dict[str, Any]]:
    """Fill ``engine`` checkpoint by checkpoint; time the reads at each."""
    now = datetime.now(UTC)
    policy = load_policy(None)
    activate_policy(engine, policy, source="bench")
    activate_org(engine, parse_org(_org_text(list(policy.departments)), policy, source="bench"))
    rows: list[dict[str, Any]] = []
    filled = 0
    for target in checkpoints(n):
        began = time.perf_counter()
        fill_range(engine, filled, target, now)
        fill_seconds = time.perf_counter() - began
        filled = target
        if database == "postgresql":  # as autovacuum would after such a load
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        with engine.connect() as conn:
            events = conn.execute(select(func.count()).select_from(CaseEventRecord)).scalar_one()
        # The fill's leftovers are no read's: an API process never made them. Collected
        # and frozen, a read's p99 is not a full collection of the fill's objects.
        gc.collect()
        gc.freeze()
        console.print(f"  {database}: {target} cases filled in {fill_seconds:.0f} s; reading ...")
        row = {
            "database": database,
            "cases": target,
            "events": events,
            "fill_seconds": round(fill_seconds, 1),
            "database_bytes": _size_bytes(engine, path),
            "load_average_before": os.getloadavg()[0],
            "reads_ms": time_reads(engine, target, now, repeat),
            "load_average_after": os.getloadavg()[0],
        }
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)  # partial results survive
    return rows


def measure(
    n: int, repeat: int = REPEAT, databases: tuple[str, ...] = ("sqlite", "postgresql")
) -> dict[str, Any]:
    undo_on_stop()
    report: dict[str, Any] = {"cases": n, "repeat": repeat, "checkpoints": checkpoints(n)}
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    if "sqlite" in databases:
        with tempfile.TemporaryDirectory(prefix="whistle-bench-reads-") as scratch:
            path = Path(scratch) / "whistle.db"
            ON_STOP.append(remove := partial(shutil.rmtree, scratch, ignore_errors=True))
            engine = make_engine(f"sqlite:///{path}")
            try:
                rows += grow(engine, n, repeat, "sqlite", path)
            finally:
                engine.dispose()
                ON_STOP.remove(remove)
    if "postgresql" in databases:
        with postgres() as url:
            if url is None:
                skipped.append(NOT_HERE)
            else:
                engine = make_engine(url)
                try:
                    rows += grow(engine, n, repeat, "postgresql", None)
                finally:
                    engine.dispose()
    report["rows"] = rows
    report["skipped"] = skipped
    return report
