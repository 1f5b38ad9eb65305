"""Drive cases from a client: raise a whistle and carry a case through its steps.

One driver for everything that acts on cases as a script would (the tests' kit,
the benchmark, ``whistle dev --demo``). It only calls ``casework.cases``: each
step is one action, delivered as the API and the CLI deliver it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from temporalio.client import Client

from casework.cases import act, new_action_id, raise_whistle, read_case
from models.case import (
    BRANCH,
    STATION,
    Action,
    ActionResult,
    CaseState,
    Confirm,
    DecideExtension,
    HoldJointMeeting,
    RaiseWhistle,
    Reopen,
    ReportIn,
    RequestExtension,
    ReviewReturn,
    SignOff,
    Withdraw,
)
from models.evidence import Evidence
from models.levels import WhistleLevel
from models.policy import Policy

Observer = Callable[[str, float], None]
"""Told each action's kind (its class name) and round trip in seconds."""


def whistle(
    policy: Policy,
    *,
    level: int | str = "emergency",
    category: str,
    title: str,
    compound: str = "Anningyuan",
    description: str = "",
    location: str = "",
    raised_by: str = BRANCH,
    departments: list[str] | None = None,
    evidence: list[Evidence] | None = None,
) -> RaiseWhistle:
    """The request that blows a whistle; ``level`` by name or number."""
    return RaiseWhistle(
        compound=compound,
        level=WhistleLevel.parse(level),
        category=category,
        title=title,
        description=description,
        location=location,
        raised_by=raised_by,
        departments=departments or [],
        policy=policy,
        evidence=evidence or [],
    )


def level_of(state: CaseState) -> WhistleLevel:
    return WhistleLevel.parse(state.level)


@dataclass
class CaseDriver:
    """Raises cases on ``task_queue`` and acts on them, one action per step."""

    client: Client
    task_queue: str
    observe: Observer | None = None

    async def raise_whistle(self, request: RaiseWhistle, *, case_id: str | None = None) -> str:
        return await raise_whistle(
            self.client, request, task_queue=self.task_queue, case_id=case_id
        )

    async def do(self, case_id: str, action: Action) -> ActionResult:
        started = time.perf_counter()
        result = await act(self.client, case_id, action)
        if self.observe is not None:
            self.observe(type(action).__name__, time.perf_counter() - started)
        return result

    async def report_in(self, case_id: str, *departments: str) -> None:
        for department in departments:
            await self.do(case_id, ReportIn(action_id=new_action_id(), department=department))

    async def sign(
        self, case_id: str, department: str, outcome: str = "resolved", reason: str = ""
    ) -> ActionResult:
        return await self.do(
            case_id,
            SignOff(
                action_id=new_action_id(), department=department, outcome=outcome, reason=reason
            ),
        )

    async def extend(self, case_id: str, department: str, seconds: int, reason: str) -> None:
        """The department asks for more time and its request is approved."""
        await self.do(
            case_id,
            RequestExtension(
                action_id=new_action_id(), department=department, seconds=seconds, reason=reason
            ),
        )
        await self.do(
            case_id,
            DecideExtension(
                action_id=new_action_id(), actor=STATION, department=department, approve=True
            ),
        )

    async def review_return(
        self, case_id: str, department: str, *, approve: bool = True, reason: str = ""
    ) -> None:
        """The station approves (or refuses) a unit's return."""
        await self.do(
            case_id,
            ReviewReturn(
                action_id=new_action_id(),
                actor=STATION,
                department=department,
                approve=approve,
                reason=reason,
            ),
        )

    async def joint_meeting(
        self,
        case_id: str,
        *,
        lead: str,
        decision: str,
        attendees: list[str] | None = None,
        tasks: dict[str, str] | None = None,
        deadline_seconds: int | None = None,
    ) -> ActionResult:
        meeting = HoldJointMeeting(
            action_id=new_action_id(),
            actor=STATION,
            lead=lead,
            decision=decision,
            attendees=attendees or [],
            tasks=tasks or {},
            deadline_seconds=deadline_seconds,
        )
        return await self.do(case_id, meeting)

    async def reopen(self, case_id: str, reason: str) -> None:
        await self.do(case_id, Reopen(action_id=new_action_id(), reason=reason))

    async def confirm(self, case_id: str, satisfaction: int, note: str = "") -> None:
        await self.do(
            case_id, Confirm(action_id=new_action_id(), satisfaction=satisfaction, note=note)
        )

    async def withdraw(self, case_id: str, reason: str) -> None:
        await self.do(case_id, Withdraw(action_id=new_action_id(), reason=reason))

    async def state(self, case_id: str) -> CaseState:
        return await read_case(self.client, case_id)

    async def until_level(self, case_id: str, level: str, *, poll: float = 0.25) -> CaseState:
        """The case's state once it is at ``level`` (a timer escalates it in its own time)."""
        wanted = WhistleLevel.parse(level)
        while level_of(state := await self.state(case_id)) != wanted:
            await asyncio.sleep(poll)
        return state

    async def finished(self, case_id: str) -> CaseState:
        """The final state, once the case has closed."""
        handle = self.client.get_workflow_handle(case_id, result_type=CaseState)
        result: CaseState = await handle.result()
        return result
