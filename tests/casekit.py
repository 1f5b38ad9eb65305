"""Helpers the tests share to raise cases, act on them and wait for state."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casework.cases import act, raise_whistle, read_case
from models.case import Action, ActionResult, CaseState, RaiseWhistle
from models.policy import Policy

TASK_QUEUE = "whistle-test"


async def raise_case(
    client: Client,
    policy: Policy,
    *,
    level: int | str = "emergency",
    category: str = "fire_lane",
    departments: list[str] | None = None,
    title: str = "Car blocking the fire lane",
) -> str:
    from models.levels import WhistleLevel

    request = RaiseWhistle(
        compound="Anningyuan",
        level=WhistleLevel.parse(level).value,
        category=category,
        title=title,
        description="A grey sedan has blocked the fire lane by building 3 since 07:00.",
        location="Building 3",
        raised_by="branch-secretary-li",
        departments=departments or [],
        policy=policy,
    )
    case_id = await raise_whistle(
        client, request, task_queue=TASK_QUEUE, case_id=f"case-test-{uuid.uuid4().hex[:10]}"
    )
    await until(client, case_id, lambda s: any(e.kind == "dispatched" for e in s.events))
    return case_id


async def do(client: Client, case_id: str, action: Action) -> ActionResult:
    return await act(client, case_id, action)


async def until(
    client: Client,
    case_id: str,
    predicate: Callable[[CaseState], bool],
    *,
    timeout: float = 15.0,
) -> CaseState:
    """The case's state once ``predicate`` holds (workflow tasks run asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = await read_case(client, case_id)
        if predicate(state):
            return state
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"case {case_id} never reached the state; last: {state.status}")
        await asyncio.sleep(0.05)


async def skip(env: WorkflowEnvironment, **delta: float) -> None:
    """Move the test server's clock forward; timers due in between fire."""
    await env.sleep(timedelta(**delta))


async def history_length(client: Client, case_id: str) -> int:
    return len([e async for e in client.get_workflow_handle(case_id).fetch_history_events()])


def aid() -> str:
    return uuid.uuid4().hex
