"""Every path of a case, on the time-skipping server, with day-long deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models import clock
from models.levels import WhistleLevel
from models.policy import Policy
from tests import scenarios
from tests.casekit import final_state, kinds


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("publicity_resolved", "publicity"),
        ("emergency_resolved", "emergency"),
        ("enforcement_resolved", "enforcement"),
    ],
)
async def test_lead_resolves_and_branch_confirms(
    client: Client, env: WorkflowEnvironment, policy: Policy, name: str, level: str
) -> None:
    case_id = await scenarios.SCENARIOS[name](client, env, policy)
    state = await final_state(client, case_id)
    assert state.level == level
    assert state.status == "closed" and state.closing == "confirmed"
    assert state.satisfaction == 4
    assert kinds(state)[-4:] == ["signed_off", "resolved", "confirmed", "closed"]
    assert state.policy.version == policy.version


async def test_unresolved_moves_up_one_whistle_each_time(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await scenarios.unresolved_up_to_joint(client, env, policy))
    climbs = [(e.from_level, e.to_level) for e in state.events if e.kind == "escalated"]
    assert climbs == [
        ("publicity", "emergency"),
        ("emergency", "enforcement"),
        ("enforcement", "joint"),
    ]
    escalations = [e for e in state.events if e.kind == "escalated"]
    assert all(e.reason == "owner ignores persuasion" for e in escalations)
    assert state.meeting is not None and state.meeting.lead == "urban_management"
    assert state.meeting.tasks == {"police": "keep order", "urban_management": "confiscate"}
    assert state.status == "closed" and state.closing == "confirmed"


async def test_missed_report_in_reminds_then_escalates(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await scenarios.report_in_missed(client, env, policy))
    k = kinds(state)
    assert k.index("reminded") < k.index("report_in_missed") < k.index("escalated")
    missed = [e.department for e in state.events if e.kind == "report_in_missed"]
    assert missed == ["fire_rescue", "police"]
    reminder = next(e for e in state.events if e.kind == "reminded")
    assert (reminder.at - state.raised_at).total_seconds() == pytest.approx(12 * 3600, abs=60)
    escalation = next(e for e in state.events if e.kind == "escalated")
    assert (escalation.at - state.raised_at).total_seconds() == pytest.approx(86400, abs=60)
    assert (escalation.from_level, escalation.to_level) == ("publicity", "emergency")
    assert escalation.actor == "system" and "fire_rescue" in (escalation.reason or "")
    assert all(a.missed_deadlines == 1 for a in state.departments)
    assert state.status == "withdrawn"


async def test_missed_resolution_escalates(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await scenarios.resolve_missed(client, env, policy))
    missed = [e for e in state.events if e.kind == "resolve_missed"]
    assert [e.department for e in missed] == ["environment"]
    escalation = next(e for e in state.events if e.kind == "escalated")
    assert (escalation.from_level, escalation.to_level) == ("enforcement", "joint")
    assert escalation.reason == "resolve deadline missed"
    # at the deadline of 5 working days (工作日) the first dispatch set, supervised first
    first = datetime.fromisoformat(state.events[1].detail["resolve_deadline"])
    expected = clock.resolve_by(state.policy, WhistleLevel.ENFORCEMENT, state.raised_at).at
    assert first == expected and first - state.raised_at >= timedelta(days=5)
    assert abs((escalation.at - first).total_seconds()) < 60
    supervised = next(e for e in state.events if e.kind == "supervised")
    assert supervised.seq < escalation.seq and supervised.detail["departments"] == "environment"


async def test_two_returns_send_the_case_to_the_joint_task_force(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await scenarios.returns_to_joint(client, env, policy))
    assert state.returns == 2
    k = kinds(state)
    assert k[:8] == [
        "raised",
        "dispatched",
        "return_requested",  # the unit stays until the station reviews it
        "returned",
        "lead_changed",
        "return_requested",
        "returned",
        "escalated",
    ]
    assert all(e.actor == "station:anning" for e in state.events if e.kind == "returned")
    escalation = state.events[7]
    assert escalation.to_level == "joint" and "returned 2 times" in (escalation.reason or "")
    # The departments that bounced the case are brought back for the joint meeting.
    assert {a.department for a in state.departments if a.in_plan} == {"urban_management", "housing"}
    assert state.closing == "confirmed"


async def test_extension_moves_the_deadline(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await scenarios.extension_then_resolved(client, env, policy))
    k = kinds(state)
    assert k.count("extension_requested") == 2
    assert "extension_refused" in k and "extension_approved" in k
    assert "resolve_missed" not in k and "escalated" not in k
    assert state.level == "emergency" and state.closing == "confirmed"
    assert state.extension_granted_seconds == 12 * 3600


async def test_reopen_sends_the_case_back_for_a_redo(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await scenarios.reopened_then_confirmed(client, env, policy))
    assert state.redos == 1
    assert kinds(state).count("signed_off") == 2 and "reopened" in kinds(state)
    assert state.satisfaction == 3


async def test_unconfirmed_case_closes_after_the_window(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await scenarios.confirmation_expired(client, env, policy))
    assert state.status == "closed" and state.closing == "not_confirmed"
    assert state.satisfaction is None
    resolved = next(e for e in state.events if e.kind == "resolved")
    closed = state.events[-1]
    assert closed.kind == "closed" and closed.actor == "system"
    # 3 working days after the resolution, from the calendar the case pinned
    expected = clock.confirmation_by(state.policy, resolved.at).at
    assert abs((closed.at - expected).total_seconds()) < 60
    assert closed.at - resolved.at >= timedelta(days=3)


async def test_branch_escalates_by_hand(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await scenarios.escalated_by_hand(client, env, policy))
    escalation = next(e for e in state.events if e.kind == "escalated")
    assert (escalation.from_level, escalation.to_level, escalation.actor) == (
        "emergency",
        "enforcement",
        "branch",
    )
    assert escalation.reason == "blocking again every night"
    # the new whistle re-dispatches and restarts the clocks of its own level
    assert state.level == "enforcement"
    assert kinds(state).count("dispatched") == 2


async def test_joint_meeting_overdue_reconvened_and_supervised(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(
        client, await scenarios.joint_reconvened_and_supervised(client, env, policy)
    )
    k = kinds(state)
    assert k.index("joint_meeting_overdue") < k.index("joint_meeting_held")
    assert "joint_meeting_reconvened" in k and k.count("joint_meeting_held") == 2
    assert "supervised" in k and "resolve_missed" in k
    # a miss never buys time: re-armed one supervision interval (1d) after the miss
    overdue = next(e for e in state.events if e.kind == "joint_meeting_overdue")
    missed = datetime.fromisoformat(overdue.detail["missed"])
    rearmed = datetime.fromisoformat(overdue.detail["joint_meeting_deadline"])
    assert rearmed - missed == timedelta(days=1)
    supervised = next(e for e in state.events if e.kind == "supervised")
    plan = [e for e in state.events if e.kind == "joint_meeting_held"][-1]
    plan_deadline = datetime.fromisoformat(plan.detail["deadline"])
    assert datetime.fromisoformat(supervised.detail["resolve_deadline"]) == plan_deadline + (
        timedelta(days=1)
    )
    # police was brought in by the meeting although routing never named it
    assert state.assignment("police") is not None and state.assignment("police").in_plan  # type: ignore[union-attr]
    assert state.closing == "confirmed"


async def test_withdrawn_case_ends(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await scenarios.withdrawn(client, env, policy))
    assert state.status == "withdrawn" and state.closing == "withdrawn"
    assert state.events[-1].kind == "withdrawn" and state.events[-1].reason == "raised by mistake"
    assert all(value is None for value in vars(state.deadlines).values())
