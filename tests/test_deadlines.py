"""Deadlines, reminders and returns at every whistle, on the time-skipping server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models.case import Assignment, CaseState, CaseStatus, Deadlines
from models.levels import WhistleLevel
from models.policy import Policy
from tests.casekit import kinds, raise_case, report_in, sign, skip, until
from workflows.deadlines import Due, DueKind, next_due

LEVELS_BELOW_JOINT = [
    ("publicity", "fire_safety", ("fire_rescue", "police"), "emergency"),
    ("emergency", "fire_lane", ("fire_rescue", "police"), "enforcement"),
    ("enforcement", "dog_keeping", ("police", "urban_management"), "joint"),
]


def offset(moment: datetime, raised: datetime) -> float:
    return (moment - raised).total_seconds()


@pytest.mark.parametrize(("level", "category", "departments", "next_level"), LEVELS_BELOW_JOINT)
async def test_report_in_deadline_at_every_level(
    client: Client,
    env: WorkflowEnvironment,
    policy: Policy,
    level: str,
    category: str,
    departments: tuple[str, ...],
    next_level: str,
) -> None:
    rules = policy.levels[level]
    case_id = await raise_case(client, policy, level=level, category=category)
    await report_in(client, case_id, departments[0])  # the other one stays silent
    await skip(env, seconds=rules.report_in_seconds * rules.remind_at + 1)
    state = await until(client, case_id, lambda s: "reminded" in kinds(s))
    reminder = state.events[-1]
    assert reminder.detail["departments"] == departments[1]
    await skip(env, seconds=rules.report_in_seconds * (1 - rules.remind_at) + 60)
    state = await until(client, case_id, lambda s: s.level == next_level)
    missed = [e for e in state.events if e.kind == "report_in_missed"]
    assert [e.department for e in missed] == [departments[1]]
    assert state.assignment(departments[1]).missed_deadlines == 1  # type: ignore[union-attr]
    assert state.assignment(departments[0]).missed_deadlines == 0  # type: ignore[union-attr]
    escalation = next(e for e in state.events if e.kind == "escalated")
    assert offset(escalation.at, state.raised_at) == pytest.approx(rules.report_in_seconds, abs=2)
    assert (escalation.from_level, escalation.to_level) == (level, next_level)
    # the new whistle dispatches again, with its own clock
    assert all(a.reported_in_at is None for a in state.departments)


@pytest.mark.parametrize(("level", "category", "departments", "next_level"), LEVELS_BELOW_JOINT)
async def test_resolve_deadline_at_every_level(
    client: Client,
    env: WorkflowEnvironment,
    policy: Policy,
    level: str,
    category: str,
    departments: tuple[str, ...],
    next_level: str,
) -> None:
    rules = policy.levels[level]
    case_id = await raise_case(client, policy, level=level, category=category)
    await report_in(client, case_id, *departments)
    await skip(env, seconds=rules.resolve_seconds * rules.remind_at + 1)
    state = await until(client, case_id, lambda s: "reminded" in kinds(s))
    assert state.events[-1].reason == "resolution due"
    await skip(env, seconds=rules.resolve_seconds * (1 - rules.remind_at) + 60)
    state = await until(client, case_id, lambda s: s.level == next_level)
    missed = [e for e in state.events if e.kind == "resolve_missed"]
    assert [e.department for e in missed] == [departments[0]]  # the lead's deadline
    escalation = next(e for e in state.events if e.kind == "escalated")
    assert offset(escalation.at, state.raised_at) == pytest.approx(rules.resolve_seconds, abs=2)


@pytest.mark.parametrize(("level", "category", "departments", "next_level"), LEVELS_BELOW_JOINT)
async def test_unresolved_and_two_returns_at_every_level(
    client: Client,
    policy: Policy,
    level: str,
    category: str,
    departments: tuple[str, ...],
    next_level: str,
) -> None:
    # the lead's unresolved: one whistle up
    case_id = await raise_case(client, policy, level=level, category=category)
    await report_in(client, case_id, *departments)
    result = await sign(client, case_id, departments[0], "unresolved", reason="refused")
    assert result.level == next_level
    # two returns: straight to the joint task force
    case_id = await raise_case(client, policy, level=level, category=category)
    first = await sign(client, case_id, departments[0], "not-ours", reason="wrong_locality")
    assert first.level == level and first.events[-1].kind == "lead_changed"
    assert first.events[-1].department == departments[1]
    second = await sign(client, case_id, departments[1], "not-ours", reason="not_our_duty")
    assert second.level == "joint" and second.status == "joint_meeting"


async def test_a_non_lead_sign_off_is_recorded_but_decides_nothing(
    client: Client, policy: Policy
) -> None:
    case_id = await raise_case(client, policy, level="emergency", category="fire_lane")
    await report_in(client, case_id, "fire_rescue", "police")
    result = await sign(client, case_id, "police", "unresolved", reason="not my part")
    assert result.level == "emergency" and result.status == "in_progress"
    result = await sign(client, case_id, "fire_rescue", "resolved")
    assert result.status == "awaiting_confirmation"


async def test_the_only_department_returning_sends_the_case_to_joint(
    client: Client, policy: Policy
) -> None:
    case_id = await raise_case(client, policy, level="emergency", category="greenery")
    result = await sign(client, case_id, "landscaping", "not-ours", reason="not_our_duty")
    assert result.level == "joint"
    assert result.events[-2].reason == "every department returned the case"


async def test_status_follows_report_ins(client: Client, policy: Policy) -> None:
    case_id = await raise_case(client, policy, level="emergency", category="fire_lane")
    await report_in(client, case_id, "fire_rescue")
    state = await until(client, case_id, lambda s: len(s.events) == 3)
    assert state.status == "awaiting_report_in"
    await report_in(client, case_id, "police")
    state = await until(client, case_id, lambda s: len(s.events) == 4)
    assert state.status == "in_progress"
    assert state.deadlines.report_in is not None and state.deadlines.resolve is not None


async def test_a_new_lead_that_already_resolved_closes_the_whistle(
    client: Client, policy: Policy
) -> None:
    case_id = await raise_case(client, policy, level="emergency", category="fire_lane")
    await report_in(client, case_id, "police")
    await sign(client, case_id, "police", "resolved")  # not the lead yet: recorded only
    result = await sign(client, case_id, "fire_rescue", "not-ours", reason="wrong_locality")
    assert result.status == "awaiting_confirmation"
    assert [e.kind for e in result.events] == ["returned", "lead_changed", "resolved"]


async def test_the_joint_meeting_is_reminded_at_half_time(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    window = policy.levels["joint"].report_in_seconds
    case_id = await raise_case(client, policy, level="joint", category="illegal_structure")
    await skip(env, seconds=window / 2 + 1)
    state = await until(client, case_id, lambda s: "reminded" in kinds(s))
    reminder = state.events[-1]
    assert reminder.reason == "joint meeting due"
    assert offset(reminder.at, state.raised_at) == pytest.approx(window / 2, abs=2)
    assert state.status == "joint_meeting"


# --- the scheduler alone: which deadline or reminder is next ---------------------

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def schedule(policy: Policy, status: CaseStatus, deadlines: Deadlines) -> CaseState:
    """An emergency case whose window started at T0 (reminders at half-way)."""
    return CaseState(
        case_id="case-schedule",
        compound="Anningyuan",
        category="fire_lane",
        title="t",
        description="",
        location="",
        raised_by="branch",
        raised_at=T0,
        level=WhistleLevel.EMERGENCY,
        status=status,
        lead="fire_rescue",
        departments=[Assignment(department="fire_rescue", dispatched_at=T0)],
        deadlines=deadlines,
        policy=policy,
        window_started_at=T0,
    )


def test_the_earliest_of_the_window_comes_first_and_names_itself(policy: Policy) -> None:
    assert policy.level(WhistleLevel.EMERGENCY).remind_at == 0.5
    state = schedule(
        policy,
        CaseStatus.AWAITING_REPORT_IN,
        Deadlines(report_in=T0 + 2 * HOUR, resolve=T0 + 24 * HOUR),
    )
    assert next_due(state) == Due(T0 + HOUR, DueKind.REMIND_REPORT_IN)
    state.first_deadline_reminded = True
    assert next_due(state) == Due(T0 + 2 * HOUR, DueKind.REPORT_IN_MISSED)
    state.status = CaseStatus.IN_PROGRESS  # everyone reported in: the resolve clock alone
    assert next_due(state) == Due(T0 + 12 * HOUR, DueKind.REMIND_RESOLVE)
    state.resolve_reminded = True
    assert next_due(state) == Due(T0 + 24 * HOUR, DueKind.RESOLVE_MISSED)


def test_awaiting_confirmation_only_the_confirmation_deadline_counts(policy: Policy) -> None:
    state = schedule(
        policy,
        CaseStatus.AWAITING_CONFIRMATION,
        Deadlines(confirmation=T0 + 72 * HOUR),
    )
    assert next_due(state) == Due(T0 + 72 * HOUR, DueKind.CONFIRMATION_EXPIRED)
    state.status = CaseStatus.CLOSED
    assert next_due(state) is None


def test_a_reminder_due_with_its_deadline_comes_first(policy: Policy) -> None:
    state = schedule(policy, CaseStatus.AWAITING_REPORT_IN, Deadlines(report_in=T0))
    assert next_due(state) == Due(T0, DueKind.REMIND_REPORT_IN)
