"""Lateness sweep: how late escalations come as more deadlines fall due.

At each rate R, publicity cases are raised open loop at R per second for
``raise_seconds``; nobody reports in, so each is reminded at half its deadline
and escalated to emergency at its deadline: after the first ``deadline`` seconds,
raises, reminders and escalations each run at R per second. Lateness is the
time from a case's deadline (raised + deadline, both workflow time) to its
``escalated`` event. The deadline starts at the case's first workflow task: how
long that trails the accepted start is reported too (``first_task_lag_s``). The figures are over the cases whose deadline fell while
cases were still being raised (the steady state); ``all`` covers every case.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from sqlalchemy import func
from sqlmodel import Session, col, select

from bench.stats import percentile
from casework.driver import whistle
from models.levels import WhistleLevel
from models.tables import CaseEventRecord, CaseRecord
from policy.loader import parse_policy
from store.engine import make_engine

if TYPE_CHECKING:
    from bench.stack import Stack

console = Console()

RATES = [1.0, 5.0, 10.0, 20.0, 25.0, 30.0]
P99_LIMIT = 5.0
"""Seconds: the rate at which the p99 passes this is reported."""


def seconds(values: list[float]) -> dict[str, float | None]:
    def s(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    return {
        "n": len(values),
        "p50": s(percentile(values, 0.50)),
        "p99": s(percentile(values, 0.99)),
        "max": s(max(values)) if values else None,
        "mean": s(statistics.fmean(values)) if values else None,
    }


async def step(stack: Stack, rate: float, deadline: int, raise_seconds: float) -> dict[str, Any]:
    policy = parse_policy(
        f'[levels.publicity]\nreport_in = "{deadline}s"\nresolve = "2h"\n', source="lateness"
    )
    drive = stack.driver()
    count = max(1, round(rate * raise_seconds))
    steady = max(1, round(rate * (raise_seconds - deadline)))
    gate = asyncio.Semaphore(64)
    loop = asyncio.get_running_loop()

    accepted: dict[str, datetime] = {}

    async def one(number: int) -> str:
        request = whistle(
            policy, level="publicity", category="fire_safety", title=f"lateness {rate}/s {number}"
        )
        await asyncio.sleep(max(0.0, started + number / rate - loop.time()))
        async with gate:
            case_id = await drive.raise_whistle(request)
        accepted[case_id] = datetime.now(UTC)
        return case_id

    started = loop.time()
    ids = await asyncio.gather(*(one(n) for n in range(count)))
    raising = loop.time() - started
    engine = make_engine(stack.db_url)
    emergency = WhistleLevel.EMERGENCY.label

    def escalated() -> int:
        with Session(engine) as session:
            query = select(func.count()).where(
                col(CaseRecord.case_id).in_(ids), col(CaseRecord.level) == emergency
            )
            return int(session.exec(query).one())

    def times(kind: str) -> dict[str, datetime]:
        with Session(engine) as session:
            query = select(CaseEventRecord.case_id, CaseEventRecord.at).where(
                CaseEventRecord.kind == kind, col(CaseEventRecord.case_id).in_(ids)
            )
            return dict(session.exec(query).all())

    give_up = time.monotonic() + deadline + 600
    try:
        while await asyncio.to_thread(escalated) < count:
            if time.monotonic() > give_up:
                raise RuntimeError(f"lateness: cases not escalated after 10 minutes: {stack.root}")
            await asyncio.sleep(0.5)
        raised, escalations = (
            await asyncio.to_thread(times, "raised"),
            await asyncio.to_thread(times, "escalated"),
        )
    finally:
        engine.dispose()
    late = [(escalations[c] - raised[c]).total_seconds() - deadline for c in ids]
    # The deadline runs from the case's first workflow task, which may trail its start.
    first_task = [max(0.0, (_utc(raised[c]) - accepted[c]).total_seconds()) for c in ids]
    steady_late = seconds(late[:steady])
    row: dict[str, Any] = {
        "deadlines_per_second": rate,
        "raised_per_second": round(count / raising, 2),
        "deadline_seconds": deadline,
        "cases": count,
        "lateness_s": steady_late,
        "all_lateness_s": seconds(late),
        "early": sum(1 for value in late if value < 0),
        "first_task_lag_s": seconds(first_task[:steady]),
    }
    console.print(
        f"  {rate:g}/s: lateness p50 {steady_late['p50']} s, "
        f"p99 {steady_late['p99']} s ({steady} of {count} cases)"
    )
    await asyncio.sleep(2.0)  # the last escalations' notifications are sent
    return row


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def sweep(
    stack: Stack, rates: list[float], deadline: int, raise_seconds: float
) -> dict[str, Any]:
    rows = [await step(stack, rate, deadline, raise_seconds) for rate in rates]
    passing = [
        row["deadlines_per_second"] for row in rows if (row["lateness_s"]["p99"] or 0.0) > P99_LIMIT
    ]
    return {
        "deadline_seconds": deadline,
        "raise_seconds": raise_seconds,
        "p99_limit_seconds": P99_LIMIT,
        "rows": rows,
        "p99_passes_limit_at": passing[0] if passing else None,
        "p99_passes_limit": (
            f"at {passing[0]:g}/s" if passing else f"not reached up to {max(rates):g}/s"
        ),
    }
