"""Deadlines missed: recorded against the late units, supervised (督办), and
then as the policy says ("事不完、人不撤": a miss never buys time).

Under a policy with a supervision interval, a late unit's next deadline is at
most the missed one plus that interval, at the same whistle (``supervise``) or
the next (``escalate``), and units that reported in on time stay reported in.
Going up to the joint task force is the one exception: there the late unit
has no deadline of its own until the station's joint meeting sets the plan,
and the meeting's deadline is the station's. Cases raised before the interval existed keep their old course: a fresh
whistle, or at the joint task force a fresh plan window.
Pure: time comes from ``workflow.now()``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

from workflows.ledger import iso
from workflows.lifecycle import Lifecycle, MissCap

with workflow.unsafe.imports_passed_through():
    from models import clock
    from models.case import STATION, SYSTEM, Assignment, EventKind
    from models.levels import WhistleLevel
    from models.policy import OnMiss


def report_in_missed(case: Lifecycle) -> None:
    state = case.state
    rules = state.policy.level(state.level)
    missed = state.deadlines.report_in
    assert missed is not None
    late = [a for a in case.active() if a.reported_in_at is None]
    _charge(case, late, EventKind.REPORT_IN_MISSED, missed)
    names = ", ".join(a.department for a in late)
    reason = f"report-in deadline missed by {names}"
    if not rules.supervise_every_seconds:  # cases raised before: a fresh whistle
        case.escalate(state.level.next_up(), reason=reason, actor=SYSTEM)
        return
    # A miss never buys time: the late units report in by the missed deadline
    # plus the supervision interval, at this whistle or the next.
    cap = missed + timedelta(seconds=rules.supervise_every_seconds)
    if rules.on_miss == OnMiss.ESCALATE.value and state.level != WhistleLevel.JOINT:
        _supervise(case, late, reason=reason, deadline=None)
        case.escalate(
            state.level.next_up(),
            reason=reason,
            actor=SYSTEM,
            cap=MissCap(report_in=cap, resolve=state.deadlines.resolve),
        )
        return
    state.deadlines.report_in = cap
    _supervise(case, late, reason=reason, deadline=("report_in_deadline", cap))


def resolve_missed(case: Lifecycle) -> None:
    state = case.state
    level = state.level
    rules = state.policy.level(level)
    missed = state.deadlines.resolve
    assert missed is not None
    late = [a for a in case.handlers() if a.outcome is None]
    _charge(case, late, EventKind.RESOLVE_MISSED, missed)
    every = rules.supervise_every_seconds
    if not every:  # cases raised before the cap
        _resolve_missed_before_the_cap(case, late)
        return
    cap = missed + timedelta(seconds=every)
    if rules.on_miss == OnMiss.ESCALATE.value and level != WhistleLevel.JOINT:
        _supervise(case, late, reason="resolve deadline missed", deadline=None)
        case.escalate(
            level.next_up(),
            reason="resolve deadline missed",
            actor=SYSTEM,
            cap=MissCap(report_in=None, resolve=cap),
        )
        return
    state.deadlines.resolve = cap
    _supervise(case, late, reason="resolve deadline missed", deadline=("resolve_deadline", cap))


def _charge(case: Lifecycle, late: list[Assignment], kind: EventKind, missed: datetime) -> None:
    """The missed deadline, recorded against each late unit."""
    for item in late:
        item.missed_deadlines += 1
        case.ledger.record(
            kind, actor=SYSTEM, department=item.department, detail={"deadline": iso(missed)}
        )


def _supervise(
    case: Lifecycle,
    late: list[Assignment],
    *,
    reason: str,
    deadline: tuple[str, datetime] | None,
) -> None:
    """督办 after a miss: on the record, to each late unit and to the station."""
    detail = {"departments": ",".join(a.department for a in late)}
    if deadline is not None:
        detail[deadline[0]] = iso(deadline[1])
    case.ledger.record(EventKind.SUPERVISED, actor=SYSTEM, reason=reason, detail=detail)
    for item in late:
        case.ledger.notify(item.department, "supervision", reason)
    case.ledger.notify(STATION, "overdue", f"{reason}: {detail['departments']}")


def _resolve_missed_before_the_cap(case: Lifecycle, late: list[Assignment]) -> None:
    """Cases raised before the cap: up one whistle, or at the joint task force
    supervised with a fresh plan window."""
    state = case.state
    level = state.level
    if level != WhistleLevel.JOINT:
        case.escalate(level.next_up(), reason="resolve deadline missed", actor=SYSTEM)
        return
    now = workflow.now()
    assert state.meeting is not None
    window = state.meeting.deadline - state.meeting.held_at
    state.deadlines.resolve = now + window
    case.start_window(now)
    case.ledger.record(
        EventKind.SUPERVISED,
        actor=SYSTEM,
        reason="joint plan overdue",
        detail={"resolve_deadline": iso(state.deadlines.resolve)},
    )
    for item in late:
        case.ledger.notify(item.department, "supervision", "joint plan task overdue")


def joint_meeting_overdue(case: Lifecycle) -> None:
    """The station has not held the joint meeting in time: it is pressed to."""
    state = case.state
    now = workflow.now()
    missed = state.deadlines.joint_meeting
    assert missed is not None
    every = state.policy.level(WhistleLevel.JOINT).supervise_every_seconds
    if every:
        state.deadlines.joint_meeting = missed + timedelta(seconds=every)
    else:  # cases raised before the cap: a fresh meeting window
        state.deadlines.joint_meeting = case.due(
            clock.report_in_by(state.policy, WhistleLevel.JOINT, now)
        )
    case.start_window(now)
    case.ledger.record(
        EventKind.JOINT_MEETING_OVERDUE,
        actor=SYSTEM,
        detail={
            "missed": iso(missed),
            "joint_meeting_deadline": iso(state.deadlines.joint_meeting),
            **case.estimated(),
        },
    )
    for item in case.active():
        case.ledger.notify(item.department, "supervision", "joint meeting overdue")
    if every:
        case.ledger.notify(STATION, "overdue", "joint meeting overdue")
