"""Faults injected into real processes: the worker SIGKILLed mid-flight, the
Temporal server SIGKILLed with timers pending, the SQLite projection locked.
Nothing accepted is lost or doubled."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from casework.cases import act, new_action_id, raise_whistle, read_case
from models.case import CaseState, Confirm, RaiseWhistle, ReportIn, SignOff
from models.tables import NotificationRecord
from policy.loader import parse_policy
from store.engine import make_engine
from store.reads import case_events
from tests.casekit import final_state
from tests.stackkit import QUEUE, Stack

pytestmark = pytest.mark.e2e

FAST = parse_policy('[levels.publicity]\nreport_in = "3s"\nresolve = "1h"\n', source="faults")
T = TypeVar("T")


async def open_case(client: Client, level: str = "emergency") -> str:
    request = RaiseWhistle(
        compound="Anningyuan",
        level={"publicity": 1, "emergency": 2}[level],
        category="fire_lane" if level == "emergency" else "fire_safety",
        title="fault",
        policy=FAST,
    )
    return await raise_whistle(client, request, task_queue=QUEUE)


async def life(client: Client, case_id: str, pause: float, *, finish: bool = True) -> CaseState:
    """A whole emergency case; every action retried until it is accepted.

    A case finishes only once its last events are projected, so with the
    projection down ``finish=False`` returns the state as the workflow holds it.
    """
    steps = [
        ReportIn(action_id=new_action_id(), department="fire_rescue"),
        ReportIn(action_id=new_action_id(), department="police"),
        SignOff(action_id=new_action_id(), department="fire_rescue", outcome="resolved"),
        Confirm(action_id=new_action_id(), satisfaction=5),
    ]
    for step in steps:
        await asyncio.sleep(pause)
        await retry(partial(act, client, case_id, step))
    if not finish:
        return await read_case(client, case_id)
    return await final_state(client, case_id)


async def retry(call: Callable[[], Awaitable[T]], attempts: int = 120) -> T:
    for _ in range(attempts):
        try:
            return await call()
        except Exception:  # the worker or server is down: the same action again
            await asyncio.sleep(0.5)
    raise AssertionError("an action was never accepted")


def assert_exactly_once(engine: Engine, state: CaseState) -> None:
    rows = case_events(engine, state.case_id)
    assert [(r.seq, r.kind, r.hash) for r in rows] == [
        (e.seq, e.kind, e.hash) for e in state.events
    ]
    kinds = Counter(e.kind for e in state.events)
    assert kinds["reported_in"] == 2 and kinds["signed_off"] == 1 and kinds["confirmed"] == 1
    with Session(engine) as session:
        notes = session.exec(
            select(NotificationRecord).where(NotificationRecord.case_id == state.case_id)
        ).all()
    dispatches = Counter((n.level, n.department) for n in notes if n.kind == "dispatch")
    assert dispatches == Counter({("emergency", "fire_rescue"): 1, ("emergency", "police"): 1})


async def test_worker_sigkill_mid_flight(stack: Stack) -> None:
    client = await stack.server.connect()
    engine = make_engine(f"sqlite:///{stack.db}")
    cases = [await open_case(client) for _ in range(20)]
    lives = [asyncio.create_task(life(client, c, pause=0.3)) for c in cases]
    for _ in range(200):  # kill it mid-flight: some cases moving, none finished
        if sum(len(case_events(engine, c)) >= 3 for c in cases) >= 5:
            break
        await asyncio.sleep(0.05)
    assert not all(task.done() for task in lives)
    stack.kill_worker()
    await asyncio.sleep(2.0)
    stack.start_worker()
    states = await asyncio.wait_for(asyncio.gather(*lives), timeout=180)
    for state in states:
        assert state.status == "closed"
        for _ in range(100):
            if len(case_events(engine, state.case_id)) == len(state.events):
                break
            await asyncio.sleep(0.1)
        assert_exactly_once(engine, state)
    engine.dispose()


async def test_server_sigkill_timers_still_fire(stack: Stack) -> None:
    client = await stack.server.connect()
    engine = make_engine(f"sqlite:///{stack.db}")
    cases = [await open_case(client, "publicity") for _ in range(5)]
    for _ in range(200):  # the deadlines' timers exist once the dispatch is published
        if all(len(case_events(engine, c)) >= 2 for c in cases):
            break
        await asyncio.sleep(0.05)
    engine.dispose()
    stack.kill_server()
    await asyncio.sleep(1.0)
    stack.server.start()
    client = await stack.server.connect()
    for case_id in cases:
        for _ in range(120):
            state = await retry(partial(read_case, client, case_id))
            if state.level == "emergency":
                break
            await asyncio.sleep(0.5)
        escalation = next(e for e in state.events if e.kind == "escalated")
        assert escalation.reason and "report-in deadline missed" in escalation.reason
        late = (escalation.at - state.raised_at).total_seconds()
        assert 3 <= late < 30, late  # due at 3s; fired once the server was back


async def test_locked_projection_delays_but_loses_nothing(stack: Stack) -> None:
    client = await stack.server.connect()
    case_id = await open_case(client)
    engine = make_engine(f"sqlite:///{stack.db}")
    for _ in range(100):
        if len(case_events(engine, case_id)) == 2:
            break
        await asyncio.sleep(0.1)
    lock = sqlite3.connect(stack.db, timeout=1)
    lock.execute("BEGIN EXCLUSIVE")  # the projection database is unavailable
    try:
        state = await asyncio.wait_for(life(client, case_id, pause=0.1, finish=False), timeout=90)
        assert state.status == "closed"  # the case carried on without its projection
        assert len(state.events) > 2
        assert len(case_events(engine, case_id)) == 2  # while the projection was behind
    finally:
        await asyncio.sleep(1.0)
        lock.rollback()
        lock.close()
    final = await final_state(client, case_id)
    assert final.events == state.events
    for _ in range(600):
        if len(case_events(engine, case_id)) == len(state.events):
            break
        await asyncio.sleep(0.1)
    assert_exactly_once(engine, state)
    engine.dispose()
