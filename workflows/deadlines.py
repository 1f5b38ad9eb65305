"""The case's clock: which deadline or reminder falls due next, and what
happens when it does.

``next_due`` names the earliest pending one as a ``Due``; the workflow sleeps
until then (or until an action moves the deadlines) and calls ``fall_due``.
Pure: time comes from ``workflow.now()``, changes of commands are guarded by
``workflow.patched`` (workflows.patches).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from temporalio import workflow

from workflows import misses
from workflows.ledger import iso
from workflows.lifecycle import Lifecycle
from workflows.patches import JOINT_MEETING_REMINDER

with workflow.unsafe.imports_passed_through():
    from models import clock
    from models.case import STATION, SYSTEM, Assignment, CaseState, CaseStatus, EventKind


class DueKind(Enum):
    REMIND_REPORT_IN = "remind_report_in"
    REPORT_IN_MISSED = "report_in_missed"
    REMIND_MEETING = "remind_meeting"
    MEETING_OVERDUE = "meeting_overdue"
    REMIND_RETURN_REVIEW = "remind_return_review"
    REMIND_RESOLVE = "remind_resolve"
    RESOLVE_MISSED = "resolve_missed"
    CONFIRMATION_EXPIRED = "confirmation_expired"


@dataclass(frozen=True)
class Due:
    at: datetime
    what: DueKind


def next_due(state: CaseState) -> Due | None:
    """The earliest pending deadline or reminder; None when nothing is pending.

    Of two due at the same moment, the first listed here comes first.
    """
    d = state.deadlines
    candidates: list[Due] = []
    status = state.status
    if status == CaseStatus.AWAITING_REPORT_IN and d.report_in is not None:
        if not state.first_deadline_reminded:
            candidates.append(Due(remind_time(state, d.report_in), DueKind.REMIND_REPORT_IN))
        candidates.append(Due(d.report_in, DueKind.REPORT_IN_MISSED))
    if status == CaseStatus.JOINT_MEETING and d.joint_meeting is not None:
        if not state.first_deadline_reminded and workflow.patched(JOINT_MEETING_REMINDER):
            candidates.append(Due(remind_time(state, d.joint_meeting), DueKind.REMIND_MEETING))
        candidates.append(Due(d.joint_meeting, DueKind.MEETING_OVERDUE))
    if status in (CaseStatus.AWAITING_REPORT_IN, CaseStatus.IN_PROGRESS) and (
        d.resolve is not None
    ):
        if not state.resolve_reminded and status == CaseStatus.IN_PROGRESS:
            candidates.append(Due(remind_time(state, d.resolve), DueKind.REMIND_RESOLVE))
        candidates.append(Due(d.resolve, DueKind.RESOLVE_MISSED))
    for item in state.departments:
        if item.return_requested_at is not None and not item.return_reminded:
            review_by = clock.return_review_by(state.policy, item.return_requested_at).at
            candidates.append(Due(review_by, DueKind.REMIND_RETURN_REVIEW))
    if status == CaseStatus.AWAITING_CONFIRMATION and d.confirmation is not None:
        candidates.append(Due(d.confirmation, DueKind.CONFIRMATION_EXPIRED))
    if not candidates:
        return None
    return min(candidates, key=lambda due: due.at)


def remind_time(state: CaseState, deadline: datetime) -> datetime:
    """The policy's fraction of the way from the window's start to the deadline."""
    start = state.window_started_at or state.raised_at
    fraction = state.policy.level(state.level).remind_at
    return start + (deadline - start) * fraction


def fall_due(case: Lifecycle, what: DueKind) -> None:
    """Do what the deadline or reminder ``what`` calls for, now."""
    _ON_DUE[what](case)


# --- reminders (催办) --------------------------------------------------------


def _remind(
    case: Lifecycle, due: list[Assignment], *, reason: str, deadline: datetime | None, task: str
) -> None:
    """Record one reminder of ``deadline`` and tell each department ``due``."""
    case.ledger.record(
        EventKind.REMINDED,
        actor=SYSTEM,
        reason=reason,
        detail={"departments": ",".join(a.department for a in due), "deadline": iso(deadline)},
    )
    for item in due:
        case.ledger.notify(item.department, "reminder", f"{task} by {iso(deadline)}")


def _remind_report_in(case: Lifecycle) -> None:
    state = case.state
    state.first_deadline_reminded = True
    late = [a for a in case.active() if a.reported_in_at is None]
    _remind(
        case, late, reason="report-in due", deadline=state.deadlines.report_in, task="report in"
    )


def _remind_meeting(case: Lifecycle) -> None:
    state = case.state
    state.first_deadline_reminded = True
    _remind(
        case,
        case.active(),
        reason="joint meeting due",
        deadline=state.deadlines.joint_meeting,
        task="joint meeting",
    )


def _remind_return_review(case: Lifecycle) -> None:
    """The station has not reviewed a return in time: remind it, once per return."""
    state = case.state
    now = workflow.now()
    for item in state.departments:
        if item.return_requested_at is None or item.return_reminded:
            continue
        review_by = clock.return_review_by(state.policy, item.return_requested_at).at
        if review_by > now:
            continue
        item.return_reminded = True
        case.ledger.record(
            EventKind.REMINDED,
            actor=SYSTEM,
            department=item.department,
            reason="return review due",
            detail={"deadline": iso(review_by)},
        )
        case.ledger.notify(
            STATION, "reminder", f"review the return of {item.department} by {iso(review_by)}"
        )


def _remind_resolve(case: Lifecycle) -> None:
    state = case.state
    state.resolve_reminded = True
    pending = [a for a in case.handlers() if a.outcome is None]
    _remind(
        case, pending, reason="resolution due", deadline=state.deadlines.resolve, task="resolve"
    )


def _confirmation_expired(case: Lifecycle) -> None:
    case.close("not_confirmed", actor=SYSTEM)


_ON_DUE: dict[DueKind, Callable[[Lifecycle], None]] = {
    DueKind.REMIND_REPORT_IN: _remind_report_in,
    DueKind.REPORT_IN_MISSED: misses.report_in_missed,
    DueKind.REMIND_MEETING: _remind_meeting,
    DueKind.MEETING_OVERDUE: misses.joint_meeting_overdue,
    DueKind.REMIND_RETURN_REVIEW: _remind_return_review,
    DueKind.REMIND_RESOLVE: _remind_resolve,
    DueKind.RESOLVE_MISSED: misses.resolve_missed,
    DueKind.CONFIRMATION_EXPIRED: _confirmation_expired,
}
