"""Every path a case can take, driven to its end on the time-skipping server.

The tests assert on these; ``tests/record_histories.py`` records their
histories into ``tests/histories/`` for the replay test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from hashlib import sha256

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models.case import (
    Confirm,
    DecideExtension,
    Escalate,
    HoldJointMeeting,
    Reopen,
    RequestExtension,
    ReviewReturn,
    SignOff,
    Withdraw,
)
from models.evidence import Evidence
from models.policy import Policy
from tests.casekit import (
    aid,
    do,
    final_state,
    raise_case,
    report_in,
    sign,
    skip,
    skip_past,
    until,
)
from tests.station_scenarios import STATION_ACTOR, STATION_SCENARIOS

Scenario = Callable[[Client, WorkflowEnvironment, Policy], Awaitable[str]]


async def _confirm(client: Client, case_id: str, score: int = 5) -> None:
    await do(client, case_id, Confirm(action_id=aid(), satisfaction=score))
    await final_state(client, case_id)


def resolved_at(level: str, category: str, lead: str, others: tuple[str, ...]) -> Scenario:
    async def scenario(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
        case_id = await raise_case(client, policy, level=level, category=category)
        await report_in(client, case_id, lead, *others)
        await sign(client, case_id, lead, "resolved")
        await _confirm(client, case_id, 4)
        return case_id

    return scenario


async def unresolved_up_to_joint(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    """Publicity -> emergency -> enforcement -> joint, by the lead's unresolved sign-offs."""
    case_id = await raise_case(client, policy, level="publicity", category="dog_keeping")
    for _ in range(3):
        await report_in(client, case_id, "police", "urban_management")
        await sign(client, case_id, "police", "unresolved", reason="owner ignores persuasion")
    await do(
        client,
        case_id,
        HoldJointMeeting(
            action_id=aid(),
            lead="urban_management",
            decision="joint enforcement on Saturday",
            tasks={"police": "keep order", "urban_management": "confiscate"},
            deadline_seconds=5 * 86400,
        ),
    )
    await sign(client, case_id, "police")
    await sign(client, case_id, "urban_management")
    await _confirm(client, case_id)
    return case_id


async def report_in_missed(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    """Nobody reports in within a day at publicity: reminder, miss, escalation; then withdrawn."""
    case_id = await raise_case(client, policy, level="publicity", category="fire_safety")
    await skip(env, hours=13)
    await until(client, case_id, lambda s: any(e.kind == "reminded" for e in s.events))
    await skip(env, hours=11, minutes=1)  # past the 1-day deadline, inside emergency's 30m
    await until(client, case_id, lambda s: s.level == "emergency")
    await do(client, case_id, Withdraw(action_id=aid(), reason="owner moved out"))
    await final_state(client, case_id)
    return case_id


async def resolve_missed(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    """Enforcement: reported in but not resolved within 5 working days: supervised,
    and up to the joint task force."""
    case_id = await raise_case(client, policy, level="enforcement", category="noise")
    await report_in(client, case_id, "environment", "police")
    await skip_past(client, env, case_id, lambda s: s.deadlines.resolve)
    await until(client, case_id, lambda s: s.level == "joint")
    await do(client, case_id, Withdraw(action_id=aid(), reason="settled by mediation"))
    await final_state(client, case_id)
    return case_id


async def returns_to_joint(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    """Two returns (退单), each approved by the station, send the case to the joint task force."""
    case_id = await raise_case(client, policy, level="enforcement", category="illegal_structure")
    for unit in ("urban_management", "housing"):
        await sign(client, case_id, unit, "not-ours", reason="not_our_duty")
        await do(
            client,
            case_id,
            ReviewReturn(action_id=aid(), actor=STATION_ACTOR, department=unit, approve=True),
        )
    await do(
        client,
        case_id,
        HoldJointMeeting(action_id=aid(), lead="urban_management", decision="demolish"),
    )
    await sign(client, case_id, "urban_management")
    await sign(client, case_id, "housing")
    await _confirm(client, case_id)
    return case_id


async def extension_then_resolved(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    """An extension refused, another approved; the case survives its first deadline."""
    case_id = await raise_case(client, policy, level="emergency", category="utilities")
    await report_in(client, case_id, "utilities")
    await do(
        client,
        case_id,
        RequestExtension(action_id=aid(), department="utilities", seconds=3600, reason="parts"),
    )
    await do(
        client,
        case_id,
        DecideExtension(action_id=aid(), department="utilities", approve=False, reason="no"),
    )
    await do(
        client,
        case_id,
        RequestExtension(
            action_id=aid(), department="utilities", seconds=12 * 3600, reason="pipe on order"
        ),
    )
    await do(
        client, case_id, DecideExtension(action_id=aid(), department="utilities", approve=True)
    )
    await skip(env, hours=30)  # past the first 24h deadline, inside the extended 36h
    await sign(client, case_id, "utilities")
    await _confirm(client, case_id)
    return case_id


async def reopened_then_confirmed(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    case_id = await raise_case(client, policy, level="emergency", category="garbage")
    await report_in(client, case_id, "sanitation", "urban_management")
    await sign(client, case_id, "sanitation")
    await do(client, case_id, Reopen(action_id=aid(), reason="bins still overflowing"))
    await sign(client, case_id, "sanitation")
    await _confirm(client, case_id, 3)
    return case_id


async def confirmation_expired(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    case_id = await raise_case(client, policy, level="emergency", category="greenery")
    await report_in(client, case_id, "landscaping")
    await sign(client, case_id, "landscaping")
    await skip_past(client, env, case_id, lambda s: s.deadlines.confirmation)
    await final_state(client, case_id)
    return case_id


async def escalated_by_hand(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    case_id = await raise_case(client, policy, level="emergency", category="parking")
    await do(client, case_id, Escalate(action_id=aid(), reason="blocking again every night"))
    await report_in(client, case_id, "police", "urban_management")
    await sign(client, case_id, "police")
    await _confirm(client, case_id)
    return case_id


async def joint_reconvened_and_supervised(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> str:
    """At joint: a late meeting, a failed task that reconvenes it, an overdue plan."""
    case_id = await raise_case(client, policy, level="joint", category="illegal_structure")
    # no meeting within 3 working days: overdue, re-armed a day after the miss
    await skip_past(client, env, case_id, lambda s: s.deadlines.joint_meeting)
    await until(client, case_id, lambda s: any(e.kind == "joint_meeting_overdue" for e in s.events))
    meeting = HoldJointMeeting(
        action_id=aid(),
        lead="urban_management",
        attendees=["urban_management", "housing", "police"],
        decision="demolish; police keep order",
        deadline_seconds=2 * 86400,
        actor=STATION_ACTOR,
    )
    await do(client, case_id, meeting)
    await sign(client, case_id, "housing", "unresolved", reason="owner obtained an injunction")
    meeting.action_id = aid()
    meeting.deadline_seconds = 86400
    await do(client, case_id, meeting)
    await skip_past(client, env, case_id, lambda s: s.deadlines.resolve)  # 督办
    await until(client, case_id, lambda s: any(e.kind == "supervised" for e in s.events))
    for department in ("urban_management", "housing", "police"):
        await sign(client, case_id, department)
    await _confirm(client, case_id)
    return case_id


def _file(name: str) -> Evidence:
    return Evidence(
        url=f"https://files.district.example/{name}", sha256=sha256(name.encode()).hexdigest()
    )


async def joint_with_evidence(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    """Photos with the whistle, the meeting's minutes and the enforcement records, by reference."""
    case_id = await raise_case(
        client,
        policy,
        level="joint",
        category="illegal_structure",
        evidence=[_file("shed-north.jpg"), _file("shed-south.jpg")],
    )
    minutes = [_file("minutes.pdf")]
    meeting = HoldJointMeeting(action_id=aid(), lead="urban_management", evidence=minutes)
    await do(client, case_id, meeting)
    for department in ("urban_management", "housing"):
        records = [_file(f"{department}-record.pdf")]
        await do(
            client,
            case_id,
            SignOff(action_id=aid(), department=department, outcome="resolved", evidence=records),
        )
    await _confirm(client, case_id)
    return case_id


async def withdrawn(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    case_id = await raise_case(client, policy, level="enforcement", category="dog_keeping")
    await report_in(client, case_id, "police")
    await do(client, case_id, Withdraw(action_id=aid(), reason="raised by mistake"))
    await final_state(client, case_id)
    return case_id


SCENARIOS: dict[str, Scenario] = {
    "publicity_resolved": resolved_at("publicity", "fire_safety", "fire_rescue", ("police",)),
    "emergency_resolved": resolved_at("emergency", "fire_lane", "fire_rescue", ("police",)),
    "enforcement_resolved": resolved_at(
        "enforcement", "dog_keeping", "police", ("urban_management",)
    ),
    "unresolved_up_to_joint": unresolved_up_to_joint,
    "report_in_missed": report_in_missed,
    "resolve_missed": resolve_missed,
    "returns_to_joint": returns_to_joint,
    "extension_then_resolved": extension_then_resolved,
    "reopened_then_confirmed": reopened_then_confirmed,
    "confirmation_expired": confirmation_expired,
    "escalated_by_hand": escalated_by_hand,
    "joint_reconvened_and_supervised": joint_reconvened_and_supervised,
    "withdrawn": withdrawn,
    "joint_with_evidence": joint_with_evidence,
    **STATION_SCENARIOS,
}
