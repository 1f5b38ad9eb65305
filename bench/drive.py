"""Simulated branches and departments driving cases through their whole life."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from temporalio.client import Client

from casework.cases import act, new_action_id, raise_whistle, read_case
from models.case import (
    Action,
    CaseState,
    Confirm,
    DecideExtension,
    HoldJointMeeting,
    RaiseWhistle,
    Reopen,
    ReportIn,
    RequestExtension,
    SignOff,
)
from models.levels import WhistleLevel
from models.policy import Policy
from workflows.case import WhistleCase

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
    """Round trips of actions, in seconds, by kind."""

    round_trips: dict[str, list[float]] = field(default_factory=dict)

    def add(self, kind: str, seconds: float) -> None:
        self.round_trips.setdefault(kind, []).append(seconds)


class Driver:
    def __init__(self, client: Client, task_queue: str, policy: Policy, recorder: Recorder) -> None:
        self.client, self.task_queue, self.policy, self.recorder = (
            client,
            task_queue,
            policy,
            recorder,
        )

    async def open(self, level: str, category: str, title: str = "bench") -> str:
        request = RaiseWhistle(
            compound=f"compound-{hash(title) % 50}",
            level=WhistleLevel.parse(level).value,
            category=category,
            title=title,
            policy=self.policy,
        )
        return await raise_whistle(self.client, request, task_queue=self.task_queue)

    async def do(self, case_id: str, action: Action) -> None:
        started = time.perf_counter()
        await act(self.client, case_id, action)
        self.recorder.add(type(action).__name__, time.perf_counter() - started)

    async def report_in(self, case_id: str, *departments: str) -> None:
        for department in departments:
            await self.do(case_id, ReportIn(action_id=new_action_id(), department=department))

    async def sign(
        self, case_id: str, department: str, outcome: str = "resolved", reason: str = ""
    ) -> None:
        await self.do(
            case_id,
            SignOff(
                action_id=new_action_id(), department=department, outcome=outcome, reason=reason
            ),
        )

    async def confirm(self, case_id: str, score: int) -> None:
        await self.do(case_id, Confirm(action_id=new_action_id(), satisfaction=score))

    async def finished(self, case_id: str) -> CaseState:
        handle = self.client.get_workflow_handle_for(WhistleCase.run, case_id)
        return await handle.result()

    # --- the mix: every whistle, every kind of step ----------------------------

    async def emergency_resolved(self) -> str:
        case = await self.open("emergency", "fire_lane")
        await self.report_in(case, "fire_rescue", "police")
        await self.sign(case, "fire_rescue")
        await self.confirm(case, 5)
        return case

    async def missed_report_in(self) -> str:
        """Publicity, nobody reports in within 2s: the timer escalates it to emergency."""
        case = await self.open("publicity", "fire_safety")
        await asyncio.sleep(2.0)
        while (await read_case(self.client, case)).level != "emergency":
            await asyncio.sleep(0.25)
        await self.report_in(case, "fire_rescue", "police")
        await self.sign(case, "fire_rescue")
        await self.confirm(case, 4)
        return case

    async def returns_to_joint(self) -> str:
        case = await self.open("enforcement", "illegal_structure")
        await self.sign(case, "urban_management", "not-ours", "not_our_duty")
        await self.sign(case, "housing", "not-ours", "not_our_duty")
        await self.do(
            case,
            HoldJointMeeting(
                action_id=new_action_id(),
                lead="urban_management",
                attendees=["urban_management", "housing", "police"],
                decision="demolish",
            ),
        )
        for department in ("urban_management", "housing", "police"):
            await self.sign(case, department)
        await self.confirm(case, 5)
        return case

    async def extension_and_redo(self) -> str:
        case = await self.open("enforcement", "dog_keeping")
        await self.report_in(case, "police", "urban_management")
        await self.do(
            case,
            RequestExtension(
                action_id=new_action_id(), department="police", seconds=3600, reason="owner away"
            ),
        )
        await self.do(
            case, DecideExtension(action_id=new_action_id(), department="police", approve=True)
        )
        await self.sign(case, "police")
        await self.do(case, Reopen(action_id=new_action_id(), reason="dog still loose"))
        await self.sign(case, "police")
        await self.confirm(case, 3)
        return case

    async def unresolved_escalation(self) -> str:
        case = await self.open("emergency", "parking")
        await self.report_in(case, "police", "urban_management")
        await self.sign(case, "police", "unresolved", "owner refuses")
        await self.report_in(case, "police", "urban_management")
        await self.sign(case, "police")
        await self.confirm(case, 4)
        return case

    def mix(self) -> list[Callable[[], Awaitable[str]]]:
        return [
            self.emergency_resolved,
            self.missed_report_in,
            self.returns_to_joint,
            self.extension_and_redo,
            self.unresolved_escalation,
        ]
