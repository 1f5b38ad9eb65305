"""Whole cases: the mix of lives the benchmark drives, their throughput at full
load, and action latency at half load (open loop)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import Session, select

from bench.stats import bounded, ms
from casework.driver import CaseDriver, whistle
from models.policy import Policy
from models.tables import CaseEventRecord
from store.engine import make_engine

if TYPE_CHECKING:
    from bench.stack import Stack

# Short deadlines, so that timers really fire during the run.
BENCH_POLICY = """
[levels.publicity]
report_in = "2s"
resolve = "1h"
[levels.emergency]
report_in = "1h"
resolve = "2h"
[levels.enforcement]
report_in = "1h"
resolve = "2h"
[levels.joint]
report_in = "1h"
resolve = "2h"
[rules]
confirmation = "1h"
"""


@dataclass
class Recorder:
    """Round trips of actions, in seconds, by kind (a ``CaseDriver`` observer)."""

    round_trips: dict[str, list[float]] = field(default_factory=dict)

    def __call__(self, kind: str, seconds: float) -> None:
        self.round_trips.setdefault(kind, []).append(seconds)

    def all(self, *kinds: str) -> list[float]:
        return [
            t
            for kind, trips in self.round_trips.items()
            if not kinds or kind in kinds
            for t in trips
        ]


class Mix:
    """Simulated branches and departments: every whistle, every kind of step,
    each life 20 % of the cases."""

    def __init__(self, drive: CaseDriver, policy: Policy) -> None:
        self.drive, self.policy = drive, policy

    async def open(self, level: str, category: str) -> str:
        request = whistle(self.policy, level=level, category=category, title="bench")
        return await self.drive.raise_whistle(request)

    async def emergency_resolved(self) -> str:
        case = await self.open("emergency", "fire_lane")
        await self.drive.report_in(case, "fire_rescue", "police")
        await self.drive.sign(case, "fire_rescue")
        await self.drive.confirm(case, 5)
        return case

    async def missed_report_in(self) -> str:
        """Publicity, nobody reports in within 2s: the timer escalates it to emergency."""
        case = await self.open("publicity", "fire_safety")
        await asyncio.sleep(2.0)
        await self.drive.until_level(case, "emergency")
        await self.drive.report_in(case, "fire_rescue", "police")
        await self.drive.sign(case, "fire_rescue")
        await self.drive.confirm(case, 4)
        return case

    async def returns_to_joint(self) -> str:
        case = await self.open("enforcement", "illegal_structure")
        for unit in ("urban_management", "housing"):  # each return approved by the station
            await self.drive.sign(case, unit, "not-ours", "not_our_duty")
            await self.drive.review_return(case, unit)
        await self.drive.joint_meeting(
            case,
            lead="urban_management",
            attendees=["urban_management", "housing", "police"],
            decision="demolish",
        )
        for department in ("urban_management", "housing", "police"):
            await self.drive.sign(case, department)
        await self.drive.confirm(case, 5)
        return case

    async def extension_and_redo(self) -> str:
        case = await self.open("enforcement", "dog_keeping")
        await self.drive.report_in(case, "police", "urban_management")
        await self.drive.extend(case, "police", 3600, "owner away")
        await self.drive.sign(case, "police")
        await self.drive.reopen(case, "dog still loose")
        await self.drive.sign(case, "police")
        await self.drive.confirm(case, 3)
        return case

    async def unresolved_escalation(self) -> str:
        case = await self.open("emergency", "parking")
        await self.drive.report_in(case, "police", "urban_management")
        await self.drive.sign(case, "police", "unresolved", "owner refuses")
        await self.drive.report_in(case, "police", "urban_management")
        await self.drive.sign(case, "police")
        await self.drive.confirm(case, 4)
        return case

    def lives(self) -> list[Callable[[], Awaitable[str]]]:
        return [
            self.emergency_resolved,
            self.missed_report_in,
            self.returns_to_joint,
            self.extension_and_redo,
            self.unresolved_escalation,
        ]


async def cases(stack: Stack, count: int) -> tuple[dict[str, Any], list[str], Recorder]:
    """``count`` whole lives, ``stack.concurrency`` at a time, each to its close."""
    recorder = Recorder()
    drive = CaseDriver(stack.client, stack.task_queue, observe=recorder)
    lives = Mix(drive, stack.policy).lives()

    async def life(i: int) -> str:
        case_id = await lives[i % len(lives)]()
        await drive.finished(case_id)
        return case_id

    started = time.perf_counter()
    case_ids = await bounded(stack.concurrency, [partial(life, i) for i in range(count)])
    elapsed = time.perf_counter() - started
    result = {
        "cases": count,
        "seconds": round(elapsed, 2),
        "cases_per_second": round(count / elapsed, 2),
    }
    return result, case_ids, recorder


async def latency(stack: Stack, rate: float, seconds: float) -> dict[str, Any]:
    """Open-loop: start cases at ``rate``/s; time report-in and sign-off round
    trips, and the delay until the sign-off's event is in the SQL projection."""
    recorder = Recorder()
    drive = CaseDriver(stack.client, stack.task_queue, observe=recorder)
    engine = make_engine(stack.db_url)
    visible: list[float] = []

    def projected_seq(case_id: str) -> int:
        with Session(engine) as session:
            query = select(func.max(CaseEventRecord.seq)).where(CaseEventRecord.case_id == case_id)
            return int(session.exec(query).one() or 0)

    async def one() -> None:
        case_id = await drive.raise_whistle(
            whistle(stack.policy, level="emergency", category="fire_lane", title="bench")
        )
        await drive.report_in(case_id, "fire_rescue", "police")
        await drive.sign(case_id, "fire_rescue")
        done = time.perf_counter()
        # sign-off and resolution are events 5 and 6
        while await asyncio.to_thread(projected_seq, case_id) < 6:
            await asyncio.sleep(0.005)
        visible.append(time.perf_counter() - done)
        await drive.confirm(case_id, 5)

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
    return {
        "rate_cases_per_second": round(rate, 2),
        "cases": len(tasks),
        "action_round_trip_ms": ms(recorder.all("ReportIn", "SignOff")),
        "projection_visible_ms": ms(visible),
    }
