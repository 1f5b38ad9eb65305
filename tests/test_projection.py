"""Actions recorded once, and the SQL projection equal to the case's own events."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casework.cases import act
from models.case import HoldJointMeeting, ReportIn
from models.policy import Policy
from models.publication import CaseChanges
from models.tables import CaseEventRecord, CaseRecord, NotificationRecord
from store.projection import write_changes
from store.reads import case_events, get_case
from tests import scenarios
from tests.casekit import aid, do, final_state, kinds, raise_case, report_in, state_of, until
from tests.rowkit import case_summary
from workflows.case import WhistleCase


async def test_same_action_delivered_twice_is_recorded_once(client: Client, policy: Policy) -> None:
    case_id = await raise_case(client, policy)
    action = ReportIn(action_id=aid(), department="police")
    first, second = await asyncio.gather(act(client, case_id, action), act(client, case_id, action))
    third = await act(client, case_id, action)
    assert [e.kind for e in first.events] == ["reported_in"]
    assert second.events == first.events and third.events == first.events
    # A client that retries with a new delivery id but the same action id
    handle = client.get_workflow_handle(case_id)
    again = await handle.execute_update(WhistleCase.report_in, action, id=aid())
    assert again.duplicate and again.events == []
    state = await state_of(client, case_id)
    assert kinds(state).count("reported_in") == 1


async def test_simultaneous_sign_offs_on_a_joint_case(client: Client, policy: Policy) -> None:
    departments = ["urban_management", "housing", "police", "environment"]
    case_id = await raise_case(
        client, policy, level="joint", category="illegal_structure", departments=departments
    )
    await do(client, case_id, HoldJointMeeting(action_id=aid(), lead="urban_management"))
    from tests.casekit import sign

    results = await asyncio.gather(*(sign(client, case_id, d) for d in departments))
    statuses = sorted(r.status for r in results)
    assert statuses == ["awaiting_confirmation"] + ["in_progress"] * 3
    state = await state_of(client, case_id)
    assert kinds(state).count("signed_off") == 4 and kinds(state).count("resolved") == 1
    assert [e.seq for e in state.events] == list(range(1, len(state.events) + 1))


async def test_projection_matches_the_case_exactly_once(
    client: Client, env: WorkflowEnvironment, engine: Engine, policy: Policy
) -> None:
    case_id = await scenarios.unresolved_up_to_joint(client, env, policy)
    state = await final_state(client, case_id)
    rows = case_events(engine, case_id)
    assert [(r.seq, r.kind, r.actor, r.level, r.department) for r in rows] == [
        (e.seq, e.kind, e.actor, e.level, e.department) for e in state.events
    ]
    assert [json.loads(r.detail) for r in rows] == [e.detail for e in state.events]
    row = get_case(engine, case_id)
    assert row is not None
    assert (row.status, row.level, row.satisfaction, row.closing) == (
        "closed",
        "joint",
        5,
        "confirmed",
    )
    with Session(engine) as session:
        notes = session.exec(
            select(NotificationRecord).where(NotificationRecord.case_id == case_id)
        ).all()
    dispatches = [n for n in notes if n.kind == "dispatch"]
    # one dispatch per department per whistle: 2 departments x 4 whistles
    assert len(dispatches) == 8
    assert len({(n.level, n.department) for n in dispatches}) == 8


async def test_projection_waits_for_nothing_before_the_case_goes_on(
    client: Client, engine: Engine, policy: Policy
) -> None:
    """Events land in SQL promptly after each action."""
    case_id = await raise_case(client, policy)
    await report_in(client, case_id, "police")
    await until(client, case_id, lambda s: len(s.events) == 3)
    for _ in range(100):
        if len(case_events(engine, case_id)) == 3:
            break
        await asyncio.sleep(0.05)
    assert [r.kind for r in case_events(engine, case_id)] == ["raised", "dispatched", "reported_in"]


async def test_replayed_or_stale_batches_change_nothing(
    client: Client, engine: Engine, policy: Policy
) -> None:
    case_id = await raise_case(client, policy)
    await report_in(client, case_id, "police", "fire_rescue")
    state = await until(client, case_id, lambda s: len(s.events) == 4)
    for _ in range(100):
        row = get_case(engine, case_id)
        if row is not None and row.last_seq == 4:
            break
        await asyncio.sleep(0.05)
    summary = case_summary(
        case_id,
        state.raised_at,
        compound=state.compound,
        category=state.category,
        title=state.title,
        level=state.level,
        status="awaiting_report_in",  # what the case said before the last report-in
        lead=state.lead,
        departments=[a.department for a in state.departments],
        raised_by=state.raised_by,
        policy_version=policy.version,
    )
    stale = CaseChanges(summary=summary, events=state.events[:3])
    write_changes(engine, stale)  # an old batch delivered again, after newer ones
    write_changes(engine, stale)
    with Session(engine) as session:
        events = session.exec(
            select(CaseEventRecord).where(CaseEventRecord.case_id == case_id)
        ).all()
        row = session.get(CaseRecord, case_id)
    assert sorted(e.seq for e in events) == [1, 2, 3, 4]
    assert row is not None and row.status == "in_progress"  # the stale batch did not win
