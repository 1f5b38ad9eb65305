"""Helpers the tests share: raise cases, act on them, move the clock, read state.
Raising and acting go through ``casework.driver``, as the bench and the demo do."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casework.driver import CaseDriver, whistle
from models.case import Action, ActionResult, CaseState, RaiseWhistle
from models.evidence import Evidence
from models.policy import Policy

TASK_QUEUE = "whistle-test"
_queue = [TASK_QUEUE]


@contextmanager
def using_queue(task_queue: str) -> Iterator[None]:
    """Raise cases on another worker's task queue (e.g. one on PostgreSQL)."""
    _queue.append(task_queue)
    try:
        yield
    finally:
        _queue.pop()


# Cases each test raised, so that a fixture can withdraw those left open: an
# open case's timers would otherwise keep firing as later tests move the clock.
raised_cases: list[tuple[Client, str]] = []


def aid() -> str:
    return uuid.uuid4().hex


def driver(client: Client) -> CaseDriver:
    """The shared case driver, on the queue the test raises its cases on."""
    return CaseDriver(client, _queue[-1])


def raise_request(
    policy: Policy,
    *,
    level: int | str = "emergency",
    category: str = "fire_lane",
    departments: list[str] | None = None,
    title: str = "Car blocking the fire lane",
    description: str = "A grey sedan has blocked the fire lane by building 3 since 07:00.",
    compound: str = "Anningyuan",
    evidence: list[Evidence] | None = None,
) -> RaiseWhistle:
    return whistle(
        policy,
        level=level,
        category=category,
        title=title,
        description=description,
        compound=compound,
        location="Building 3",
        raised_by="branch-secretary-li",
        departments=departments,
        evidence=evidence,
    )


async def raise_case(client: Client, policy: Policy, **options: object) -> str:
    request = raise_request(policy, **options)  # type: ignore[arg-type]
    case_id = await driver(client).raise_whistle(
        request, case_id=f"case-test-{uuid.uuid4().hex[:10]}"
    )
    raised_cases.append((client, case_id))
    return case_id


async def do(client: Client, case_id: str, action: Action) -> ActionResult:
    return await driver(client).do(case_id, action)


async def report_in(client: Client, case_id: str, *departments: str) -> None:
    await driver(client).report_in(case_id, *departments)


async def sign(
    client: Client, case_id: str, department: str, outcome: str = "resolved", reason: str = ""
) -> ActionResult:
    return await driver(client).sign(case_id, department, outcome, reason)


async def state_of(client: Client, case_id: str) -> CaseState:
    return await driver(client).state(case_id)


async def until(
    client: Client,
    case_id: str,
    predicate: Callable[[CaseState], bool],
    *,
    timeout: float = 20.0,
) -> CaseState:
    """The case's state once ``predicate`` holds (timers fire asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = await driver(client).state(case_id)
        if predicate(state):
            return state
        if loop.time() > deadline:
            kinds = [e.kind for e in state.events]
            raise AssertionError(f"case {case_id} never got there: {state.status} {kinds}")
        await asyncio.sleep(0.05)


def kinds(state: CaseState) -> list[str]:
    return [e.kind for e in state.events]


async def skip(env: WorkflowEnvironment, **delta: float) -> None:
    """Move the test server's clock forward; timers due in between fire."""
    await env.sleep(timedelta(**delta))


async def final_state(client: Client, case_id: str) -> CaseState:
    return await driver(client).finished(case_id)


async def history_length(client: Client, case_id: str, *, timeout: float = 30.0) -> int:
    """Events in the case's history once it is at rest (no task or activity in flight).

    The count and the in-flight check come from one ``describe`` (one snapshot of the
    case's mutable state): fetching the events and then describing would let an activity
    finish in between and hide its five events. A count taken while anything is in
    flight would grow later, so never at rest within ``timeout`` is an error, not a count.
    """
    handle = client.get_workflow_handle(case_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        raw = (await handle.describe()).raw_description
        if not raw.pending_activities and not raw.HasField("pending_workflow_task"):
            return raw.workflow_execution_info.history_length
        if loop.time() > deadline:
            pending = [a.activity_type.name for a in raw.pending_activities]
            task = raw.HasField("pending_workflow_task")
            raise AssertionError(
                f"{case_id} not at rest after {timeout} s: workflow task {task}, {pending}"
            )
        await asyncio.sleep(0.05)


async def update_events(client: Client, case_id: str) -> list[str]:
    """Ids of the updates the history accepted."""
    handle = client.get_workflow_handle(case_id)
    return [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]


async def skip_past(
    client: Client,
    env: WorkflowEnvironment,
    case_id: str,
    deadline: Callable[[CaseState], datetime | None],
    *,
    by: timedelta = timedelta(minutes=1),
) -> CaseState:
    """Move the clock to ``by`` past the case's ``deadline`` (as the case holds it now)."""
    state = await state_of(client, case_id)
    at = deadline(state)
    assert at is not None, f"case {case_id} has no such deadline: {state.deadlines}"
    now = await env.get_current_time()
    await sleep_in_steps(env, at - now + by)
    return state


async def sleep_in_steps(env: WorkflowEnvironment, span: timedelta) -> None:
    """``env.sleep(span)`` a day at a time: one call over weeks of timers can outlast
    the test server's RPC timeout on a busy machine, the clock ends at the same time."""
    left = max(span, timedelta(0))
    while left > timedelta(0):
        step = min(left, timedelta(days=1))
        await env.sleep(step)
        left -= step


# --- the station's review of returns (退单审核) ---------------------------------

STATION_ACTOR = "station:anning"
"""The street station's principal, as the tests' station actions name it."""


async def review(
    client: Client,
    case_id: str,
    department: str,
    *,
    approve: bool = True,
    reason: str = "",
) -> ActionResult:
    """The station approves (the unit leaves) or refuses (it stays) a return."""
    from models.case import ReviewReturn

    action = ReviewReturn(
        action_id=aid(),
        actor=STATION_ACTOR,
        department=department,
        approve=approve,
        reason=reason,
    )
    return await do(client, case_id, action)


async def give_back(client: Client, case_id: str, department: str, reason: str) -> ActionResult:
    """退单: the unit asks to return the case and the station approves; the
    answer is the approval's (the unit leaving, and what follows)."""
    asked = await sign(client, case_id, department, "not-ours", reason=reason)
    assert [e.kind for e in asked.events] == ["return_requested"], asked.events
    return await review(client, case_id, department)
