"""The rules of time and plans, as pure checks: extensions (延期), asked by a unit
and decided by the station, and the joint meeting's plan (联席会议).

Update validators call these, as for models.rules, whose common checks they use.
"""

from __future__ import annotations

from models import clock
from models.case import (
    CaseState,
    CaseStatus,
    DecideExtension,
    HoldJointMeeting,
    RequestExtension,
)
from models.durations import format_duration
from models.evidence import check_evidence
from models.levels import WhistleLevel
from models.limits import (
    MAX_DEPARTMENTS,
    MAX_EXTENSION_SECONDS,
    MAX_SPAN_WORKING_DAYS,
    PLAN_TASKS_MAX,
)
from models.rules import assigned, check_action, check_units
from models.text_rules import LONG_MAX, REASON_MAX, RuleViolation, check_text


def check_request_extension(state: CaseState, action: RequestExtension) -> None:
    check_action(state, action)
    assigned(state, action.department)
    check_text(action.reason, field="reason", max_len=REASON_MAX, required=True)
    _check_span(action.seconds, action.working_days, field="by")
    if state.status not in (
        CaseStatus.AWAITING_REPORT_IN,
        CaseStatus.IN_PROGRESS,
    ):
        raise RuleViolation(
            f"status: an extension is asked while the case is being handled; it is {state.status}"
        )
    item = state.assignment(action.department)
    assert item is not None
    if state.level == WhistleLevel.JOINT and not item.in_plan:
        raise RuleViolation(f"department: {action.department!r} is not in the joint meeting's plan")
    if item.reported_in_at is None:
        raise RuleViolation(
            f"department: {action.department!r} must report in before asking for more time"
        )
    if item.outcome is not None:
        raise RuleViolation(f"department: {action.department!r} has already signed off")
    if item.pending_extension_seconds:
        raise RuleViolation(
            f"department: {action.department!r} already has an extension request pending"
        )
    pending = sum(a.pending_extension_seconds for a in state.departments)
    _within_cap(state, pending + extension_seconds(state, action), field="by")


def extension_seconds(state: CaseState, action: RequestExtension) -> int:
    """The clock time asked: working days count from the resolve deadline in force."""
    if action.working_days <= 0:
        return action.seconds
    start = state.deadlines.resolve
    assert start is not None  # an extension is asked while the case is handled
    moved = clock.after(state.policy, start, 0, action.working_days).at
    return int((moved - start).total_seconds())


def _check_span(seconds: int | None, working_days: int, *, field: str) -> None:
    """A span given in clock time or in working days, one of them, within the limit."""
    if working_days:
        if seconds or not 0 < working_days <= MAX_SPAN_WORKING_DAYS:
            raise RuleViolation(
                f"{field}: working days stand alone, from 1 to {MAX_SPAN_WORKING_DAYS}wd"
            )
        return
    if seconds is not None and not 0 < seconds <= MAX_EXTENSION_SECONDS:
        raise RuleViolation(f"{field}: must be longer than zero and at most 366d")


def _within_cap(state: CaseState, asked: int, *, field: str) -> None:
    """Granted plus ``asked`` (pending requests included) stays within the cap."""
    cap = state.policy.level(state.level).extension_cap_seconds
    total = state.extension_granted_seconds + asked
    if total > cap:
        raise RuleViolation(
            f"{field}: the total extension at the {state.level} whistle would be "
            f"{format_duration(total)}, over the policy's cap of {format_duration(cap)}"
        )


def check_decide_extension(state: CaseState, action: DecideExtension) -> None:
    check_action(state, action)
    check_text(action.reason, field="reason", max_len=REASON_MAX)
    item = state.assignment(action.department)
    if item is None or not item.pending_extension_seconds:
        raise RuleViolation(f"department: {action.department!r} has no extension request pending")
    if not action.approve and not action.reason.strip():
        raise RuleViolation("reason: a refusal needs a reason")
    if state.status not in (CaseStatus.AWAITING_REPORT_IN, CaseStatus.IN_PROGRESS):
        raise RuleViolation(
            f"status: an extension is decided while the case is being handled; it is {state.status}"
        )
    if action.approve:
        _within_cap(state, item.pending_extension_seconds, field="approve")


def check_joint_meeting(state: CaseState, action: HoldJointMeeting) -> None:
    check_action(state, action)
    if state.level != WhistleLevel.JOINT:
        raise RuleViolation(
            f"level: a joint meeting is held at the joint task force; the case is at {state.level}"
        )
    if state.status != CaseStatus.JOINT_MEETING:
        raise RuleViolation(f"status: the case is {state.status}, not awaiting a joint meeting")
    check_text(action.decision, field="decision", max_len=LONG_MAX, multiline=True)
    check_evidence(action.evidence)
    check_units(action.join, state.policy, field="join")
    joining = {unit.code for unit in action.join}
    attendees = list(action.attendees) or [a.department for a in state.departments if not a.removed]
    attendees += [code for code in joining if code not in attendees]
    _check_attendees(state, attendees, joining)
    if action.lead not in attendees:
        raise RuleViolation(f"lead: {action.lead!r} must be among the attendees")
    for department, task in action.tasks.items():
        if department not in attendees:
            raise RuleViolation(f"tasks: {department!r} is not among the attendees")
        check_text(task, field=f"tasks.{department}", max_len=REASON_MAX)
    total = sum(len(task.strip()) for task in action.tasks.values())
    if total > PLAN_TASKS_MAX:
        raise RuleViolation(
            f"tasks: at most {PLAN_TASKS_MAX} characters for the whole plan; got {total}"
        )
    _check_span(action.deadline_seconds, action.deadline_working_days, field="deadline")


def _check_attendees(state: CaseState, attendees: list[str], joining: set[str]) -> None:
    """Each attendee is on the case, joins it now, or is a department of the policy."""
    if len(attendees) > MAX_DEPARTMENTS:
        raise RuleViolation(f"attendees: at most {MAX_DEPARTMENTS} departments")
    if len(set(attendees)) != len(attendees):
        raise RuleViolation("attendees: a department is named twice")
    for name in attendees:
        item = state.assignment(name)
        if item is not None and item.removed:
            raise RuleViolation(f"attendees: {name!r} was replaced on this case by the station")
        if item is None and name not in joining and name not in state.policy.departments:
            raise RuleViolation(
                f"attendees: {name!r} is neither on the case nor a department of the policy; "
                "bring a unit new to the case in with join"
            )
