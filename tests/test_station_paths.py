"""The station's paths and the clocks of issue 11, on the time-skipping server:
each asserts what must always hold (the rule), not how fast."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models import clock
from models.case import DecideExtension, HoldJointMeeting, RequestExtension, ReviewReturn
from models.errors import ActionRejected
from models.levels import WhistleLevel
from models.policy import Policy, WorkingTime
from models.workdays import DEFAULT_TIMEZONE, WorkCalendar, add_working_days, zone
from tests import station_scenarios as paths
from tests.casekit import aid, do, final_state, kinds, raise_case, report_in, sign, state_of


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_refused_return_keeps_the_unit_on_site(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await paths.return_refused_at_emergency(client, env, policy))
    k = kinds(state)
    assert "return_requested" in k and "return_refused" in k and "returned" not in k
    refused = next(e for e in state.events if e.kind == "return_refused")
    assert refused.actor == "station:anning" and refused.reason == "moving the car is police work"
    police = state.assignment("police")
    assert police is not None and police.active and police.outcome == "resolved"
    assert state.returns == 0 and state.level == "emergency" and state.closing == "confirmed"


async def test_an_approved_return_sends_the_unit_routing_names(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(
        client, await paths.return_approved_with_dispatch(client, env, policy)
    )
    left, sent = state.assignment("cg_b"), state.assignment("cg_a")
    assert left is not None and not left.active and left.kind == "urban_management"
    assert sent is not None and sent.active and sent.reported_in_at is not None
    redispatched = next(e for e in state.events if e.kind == "redispatched")
    assert redispatched.detail["added"] == "cg_a" and redispatched.detail["instead_of"] == "cg_b"
    assert state.returns == 1 and state.lead == "pcs_anhua" and state.closing == "confirmed"


async def test_redispatch_replaces_the_lead_and_supervision_is_recorded(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await paths.redispatched_and_supervised(client, env, policy))
    supervised = next(e for e in state.events if e.kind == "supervised")
    assert supervised.actor == "station:anning" and supervised.reason == "30 minutes"
    change = next(e for e in state.events if e.kind == "redispatched")
    assert change.detail["added"] == "traffic_police" and change.detail["removed"] == "police"
    police = state.assignment("police")
    assert police is not None and police.removed and not police.active
    assert state.lead == "traffic_police" and state.closing == "confirmed"


async def test_the_branch_requests_and_the_station_convenes(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await paths.joint_meeting_requested(client, env, policy))
    k = kinds(state)
    assert k.index("joint_meeting_requested") < k.index("escalated") < k.index("joint_meeting_held")
    held = next(e for e in state.events if e.kind == "joint_meeting_held")
    assert held.actor == "station:anning" and held.detail["lead"] == "police"
    assert state.meeting is not None and state.meeting.convened_by == "station:anning"


async def test_a_supervised_miss_never_buys_time(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await paths.miss_supervised(client, env, policy))
    assert state.level == "emergency" and "escalated" not in kinds(state)
    dispatched = state.events[1]
    deadline = _at(dispatched.detail["report_in_deadline"])
    every = timedelta(seconds=state.policy.level(WhistleLevel.EMERGENCY).supervise_every_seconds)
    supervisions = [e for e in state.events if e.kind == "supervised"]
    assert len(supervisions) == 2
    for event in supervisions:
        moved = _at(event.detail["report_in_deadline"])
        assert moved == deadline + every  # the missed deadline plus the interval, never more
        deadline = moved
    assert state.assignment("utilities").missed_deadlines == 2  # type: ignore[union-attr]


async def test_an_escalated_miss_keeps_the_on_time_unit_and_the_clock(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await paths.miss_escalated(client, env, policy))
    first, second = [e for e in state.events if e.kind == "dispatched"]
    missed = _at(first.detail["report_in_deadline"])
    every = timedelta(seconds=policy.level(WhistleLevel.EMERGENCY).supervise_every_seconds)
    assert _at(second.detail["report_in_deadline"]) <= missed + every
    assert _at(second.detail["resolve_deadline"]) <= _at(first.detail["resolve_deadline"])
    report_ins = [e.department for e in state.events if e.kind == "reported_in"]
    assert report_ins == ["fire_rescue", "police"]  # fire rescue was on time: not asked again
    k = kinds(state)
    assert k.index("report_in_missed") < k.index("supervised") < k.index("escalated")
    assert state.assignment("police").missed_deadlines == 1  # type: ignore[union-attr]
    assert state.assignment("fire_rescue").missed_deadlines == 0  # type: ignore[union-attr]


async def test_a_score_of_1_means_redo_then_the_station(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(client, await paths.redo_then_station(client, env, policy))
    redos = [e for e in state.events if e.kind == "reopened"]
    assert [e.detail["satisfaction"] for e in redos] == ["1", "1", "1"]
    assert [e.detail.get("to") for e in redos] == [None, None, "station"]
    assert state.redos == policy.rules.redo_cap
    escalation = next(e for e in state.events if e.kind == "escalated")
    assert escalation.to_level == "joint" and "redos" in (escalation.reason or "")
    assert [e.kind for e in state.events].count("confirmed") == 1
    assert state.satisfaction == 4 and state.closing == "confirmed"


async def test_working_days_skip_the_holiday_and_count_the_make_up_saturday(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    state = await final_state(
        client, await paths.working_days_across_a_holiday(client, env, policy)
    )
    pinned = state.policy.working_time
    assert pinned is not None and pinned.calendar.holidays and pinned.calendar.workdays
    deadline = _at(state.events[1].detail["resolve_deadline"])
    expected = add_working_days(state.raised_at, 5, pinned.calendar, pinned.timezone)
    assert deadline == expected.deadline and not expected.estimated
    assert deadline == clock.resolve_by(state.policy, WhistleLevel.ENFORCEMENT, state.raised_at).at
    # the holiday week is skipped (more than a plain week), and the make-up Saturday counted
    saturday = pinned.calendar.workdays[0]
    assert deadline - state.raised_at > timedelta(days=7)
    assert state.raised_at.date().isoformat() < saturday <= expected.last_day
    without = replace(pinned.calendar, workdays=())
    later = add_working_days(state.raised_at, 5, without, pinned.timezone)
    assert later.deadline > deadline  # the make-up Saturday was a working day
    missed = next(e for e in state.events if e.kind == "resolve_missed")
    assert abs((missed.at - deadline).total_seconds()) < 60


async def test_a_return_awaiting_review_lapses_on_the_record_when_resolved(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    case_id = await raise_case(client, policy, level="enforcement", category="parking")
    await sign(client, case_id, "urban_management", "not-ours", reason="not_our_duty")
    await report_in(client, case_id, "police")
    await sign(client, case_id, "police")
    state = await state_of(client, case_id)
    resolved = next(e for e in state.events if e.kind == "resolved")
    assert resolved.detail["returns_lapsed"] == "urban_management"
    assert all(a.return_requested_at is None for a in state.departments)
    late = ReviewReturn(action_id=aid(), department="urban_management", approve=True)
    with pytest.raises(ActionRejected, match="returns are reviewed while the case is handled"):
        await do(client, case_id, late)
    assert await state_of(client, case_id) == state


async def test_an_extension_and_a_plan_in_working_days(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    case_id = await raise_case(client, policy, level="enforcement", category="utilities")
    await report_in(client, case_id, "utilities")
    before = (await state_of(client, case_id)).deadlines.resolve
    assert before is not None
    ask = RequestExtension(
        action_id=aid(), department="utilities", seconds=0, working_days=2, reason="a part on order"
    )
    await do(client, case_id, ask)
    grant = DecideExtension(
        action_id=aid(), actor="station:anning", department="utilities", approve=True
    )
    await do(client, case_id, grant)
    state = await state_of(client, case_id)
    assert state.deadlines.resolve == clock.after(state.policy, before, 0, 2).at
    assert next(e for e in state.events if e.kind == "extension_requested").detail["by"] == "2wd"
    joint = await raise_case(client, policy, level="joint", category="illegal_structure")
    plan = HoldJointMeeting(
        action_id=aid(), actor="station:anning", lead="housing", deadline_working_days=10
    )
    await do(client, joint, plan)
    state = await state_of(client, joint)
    assert state.meeting is not None
    assert state.meeting.deadline == clock.after(state.policy, state.meeting.held_at, 0, 10).at
    both = HoldJointMeeting(
        action_id=aid(), lead="housing", deadline_seconds=60, deadline_working_days=1
    )
    fresh = await raise_case(client, policy, level="joint", category="illegal_structure")
    with pytest.raises(ActionRejected, match="working days stand alone"):
        await do(client, fresh, both)


async def test_a_deadline_past_the_calendar_is_estimated_and_says_so(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    """A year the State Council has not announced: weekends alone, and the event says so."""
    today = (await env.get_current_time()).astimezone(zone(DEFAULT_TIMEZONE)).date()
    short = WorkCalendar(
        first_day=(today - timedelta(days=1)).isoformat(),
        last_day=(today + timedelta(days=1)).isoformat(),
        source="a calendar that ends tomorrow (test)",
    )
    pinned = replace(
        policy,
        working_time=WorkingTime(timezone=DEFAULT_TIMEZONE, closes_at="24:00", calendar=short),
    )
    case_id = await raise_case(client, pinned, level="enforcement", category="noise")
    state = await state_of(client, case_id)
    dispatched = state.events[1]
    assert dispatched.detail["calendar"].startswith("estimated: from ")
    assert "weekends alone" in dispatched.detail["calendar"]
    expected = add_working_days(state.raised_at, 5, short, DEFAULT_TIMEZONE)
    assert expected.estimated and _at(dispatched.detail["resolve_deadline"]) == expected.deadline
