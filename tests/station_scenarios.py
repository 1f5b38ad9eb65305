"""The paths the station and the clocks of issue 11 opened, driven to their end
on the time-skipping server: returns reviewed, re-dispatch, supervision, the
branch's request for a joint meeting, misses that never buy time, working days,
and a low score that means redo. Recorded into tests/histories/ with the rest
(tests/scenarios.py merges them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casework.driver import whistle
from models.case import (
    CaseState,
    Confirm,
    HoldJointMeeting,
    Redispatch,
    RequestJointMeeting,
    ReviewReturn,
    Supervise,
    UnitRef,
)
from models.policy import Policy, WorkingTime
from models.workdays import DEFAULT_TIMEZONE, WorkCalendar, zone
from policy.loader import parse_policy
from tests.casekit import (
    aid,
    do,
    driver,
    final_state,
    raise_case,
    raised_cases,
    report_in,
    sign,
    skip_past,
    until,
)

STATION_ACTOR = "station:anning"
BRANCH_ACTOR = "branch:anningyuan"


async def _confirm(client: Client, case_id: str, score: int = 5) -> None:
    await do(client, case_id, Confirm(action_id=aid(), satisfaction=score, actor=BRANCH_ACTOR))
    await final_state(client, case_id)


async def return_refused_at_emergency(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> str:
    """On site first, then a return; the station refuses it; the unit stays and acts."""
    case_id = await raise_case(client, policy, level="emergency", category="fire_lane")
    await report_in(client, case_id, "fire_rescue", "police")
    await sign(client, case_id, "police", "not-ours", reason="not_our_duty")
    refusal = ReviewReturn(
        action_id=aid(),
        actor=STATION_ACTOR,
        department="police",
        approve=False,
        reason="moving the car is police work",
    )
    await do(client, case_id, refusal)
    await sign(client, case_id, "police")
    await sign(client, case_id, "fire_rescue")
    await _confirm(client, case_id, 4)
    return case_id


async def return_approved_with_dispatch(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> str:
    """Units from the organisation; the wrong squad's return approved, the right one sent."""
    request = replace(
        whistle(policy, level="enforcement", category="parking", title="Cars on the lawn"),
        units=[
            UnitRef(code="pcs_anhua", kind="police"),
            UnitRef(code="cg_b", kind="urban_management"),
        ],
    )
    case_id = await driver(client).raise_whistle(request, case_id=f"case-test-{aid()[:10]}")
    raised_cases.append((client, case_id))
    await report_in(client, case_id, "pcs_anhua")
    await sign(client, case_id, "cg_b", "not-ours", reason="wrong_locality")
    approval = ReviewReturn(
        action_id=aid(),
        actor=STATION_ACTOR,
        department="cg_b",
        approve=True,
        dispatch=[UnitRef(code="cg_a", kind="urban_management")],
    )
    await do(client, case_id, approval)
    await report_in(client, case_id, "cg_a")
    await sign(client, case_id, "pcs_anhua")
    await _confirm(client, case_id, 4)
    return case_id


async def redispatched_and_supervised(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> str:
    """The station presses the units (督办) and replaces the lead (改派)."""
    case_id = await raise_case(client, policy, level="emergency", category="parking")
    await do(client, case_id, Supervise(action_id=aid(), actor=STATION_ACTOR, note="30 minutes"))
    change = Redispatch(
        action_id=aid(),
        actor=STATION_ACTOR,
        add=[UnitRef(code="traffic_police", kind="police")],
        replace="police",
        reason="a traffic matter: the traffic brigade",
    )
    await do(client, case_id, change)
    await report_in(client, case_id, "traffic_police", "urban_management")
    await sign(client, case_id, "traffic_police")
    await _confirm(client, case_id)
    return case_id


async def joint_meeting_requested(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    """The branch asks for a joint meeting; the station convenes it and sets the plan."""
    case_id = await raise_case(client, policy, level="publicity", category="dog_keeping")
    ask = RequestJointMeeting(action_id=aid(), actor=BRANCH_ACTOR, reason="the dogs bite")
    await do(client, case_id, ask)
    meeting = HoldJointMeeting(
        action_id=aid(),
        actor=STATION_ACTOR,
        lead="police",
        tasks={"police": "register the dogs", "urban_management": "fine the owner"},
    )
    await do(client, case_id, meeting)
    await sign(client, case_id, "police")
    await sign(client, case_id, "urban_management")
    await _confirm(client, case_id)
    return case_id


SUPERVISE_AT_EMERGENCY = '[levels.emergency]\non_miss = "supervise"\n'


def supervisions(state: CaseState) -> int:
    return sum(1 for event in state.events if event.kind == "supervised")


async def miss_supervised(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    """on_miss = supervise: the case stays at emergency; each miss gives 30 minutes, no more."""
    supervised = parse_policy(SUPERVISE_AT_EMERGENCY, source="supervise at emergency")
    case_id = await raise_case(client, supervised, level="emergency", category="utilities")
    for round_ in (1, 2):
        await skip_past(client, env, case_id, lambda s: s.deadlines.report_in)
        await until(client, case_id, lambda s, n=round_: supervisions(s) == n)  # type: ignore[misc]
    await report_in(client, case_id, "utilities")
    await sign(client, case_id, "utilities")
    await _confirm(client, case_id)
    return case_id


async def miss_escalated(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    """A silent unit escalates the case; the one on time is not asked to report in again."""
    case_id = await raise_case(client, policy, level="emergency", category="fire_lane")
    await report_in(client, case_id, "fire_rescue")
    await skip_past(client, env, case_id, lambda s: s.deadlines.report_in)
    await until(client, case_id, lambda s: s.level == "enforcement")
    await report_in(client, case_id, "police")
    await sign(client, case_id, "fire_rescue")
    await _confirm(client, case_id)
    return case_id


async def redo_then_station(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    """Scores of 1: redone twice (the cap), then the station convenes a joint meeting."""
    case_id = await raise_case(client, policy, level="emergency", category="greenery")
    await report_in(client, case_id, "landscaping")
    for _ in range(3):
        await sign(client, case_id, "landscaping")
        await do(client, case_id, Confirm(action_id=aid(), actor=BRANCH_ACTOR, satisfaction=1))
    await until(client, case_id, lambda s: s.level == "joint")
    meeting = HoldJointMeeting(action_id=aid(), actor=STATION_ACTOR, lead="landscaping")
    await do(client, case_id, meeting)
    await sign(client, case_id, "landscaping")
    await _confirm(client, case_id, 4)
    return case_id


def holiday_week(today: date) -> WorkCalendar:
    """A calendar shaped like October's: the weekdays of the coming week off, and the
    Saturday after it worked (调休), relative to ``today`` so the server's clock meets it."""
    days = [today + timedelta(days=n) for n in range(1, 8)]
    holidays = tuple(d.isoformat() for d in days if d.weekday() < 5)
    saturday = days[-1] + timedelta(days=(5 - days[-1].weekday()) % 7 or 7)
    return WorkCalendar(
        first_day=(today - timedelta(days=1)).isoformat(),
        last_day=(today + timedelta(days=400)).isoformat(),
        holidays=holidays,
        workdays=(saturday.isoformat(),),
        source="a holiday week and a make-up Saturday (test)",
    )


async def working_days_across_a_holiday(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> str:
    """Enforcement's 5 working days skip a holiday week and count its make-up Saturday."""
    today = (await env.get_current_time()).astimezone(zone(DEFAULT_TIMEZONE)).date()
    pinned = replace(
        policy,
        working_time=WorkingTime(
            timezone=DEFAULT_TIMEZONE, closes_at="24:00", calendar=holiday_week(today)
        ),
    )
    case_id = await raise_case(client, pinned, level="enforcement", category="noise")
    await report_in(client, case_id, "environment", "police")
    await skip_past(client, env, case_id, lambda s: s.deadlines.resolve)
    await until(client, case_id, lambda s: s.level == "joint")
    meeting = HoldJointMeeting(action_id=aid(), actor=STATION_ACTOR, lead="environment")
    await do(client, case_id, meeting)
    await sign(client, case_id, "environment")
    await sign(client, case_id, "police")
    await _confirm(client, case_id)
    return case_id


STATION_SCENARIOS = {
    "return_refused_at_emergency": return_refused_at_emergency,
    "return_approved_with_dispatch": return_approved_with_dispatch,
    "redispatched_and_supervised": redispatched_and_supervised,
    "joint_meeting_requested": joint_meeting_requested,
    "miss_supervised": miss_supervised,
    "miss_escalated": miss_escalated,
    "redo_then_station": redo_then_station,
    "working_days_across_a_holiday": working_days_across_a_holiday,
}
