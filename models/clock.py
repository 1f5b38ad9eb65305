"""When a deadline of the policy falls: clock time or working days (工作日).

Pure: the workflow and the rules both call it, with the working-day calendar
the case pinned when it was raised (``Policy.working_time``), so a replay years
later computes the same instant. A span in working days beyond the pinned
calendar counts weekends alone and says so (``Deadline.note``), as does one in
a case that pinned no calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.durations import format_duration, format_working_days
from models.levels import WhistleLevel
from models.policy import Policy
from models.workdays import DEFAULT_TIMEZONE, END_OF_DAY, WorkCalendar, add_working_days

_NO_CALENDAR = WorkCalendar(source="none pinned")


@dataclass(frozen=True)
class Deadline:
    at: datetime
    note: str = ""
    """Why the instant is an estimate (days past the calendar), else empty."""


def after(policy: Policy, start: datetime, seconds: int, working_days: int) -> Deadline:
    """``start`` plus ``working_days`` working days when above zero, else ``seconds``."""
    if working_days <= 0:
        return Deadline(start + timedelta(seconds=seconds))
    pinned = policy.working_time
    if pinned is None:
        found = add_working_days(start, working_days, _NO_CALENDAR, DEFAULT_TIMEZONE)
        return Deadline(found.deadline, f"estimated: the case pinned no calendar; {found.note}")
    found = add_working_days(
        start,
        working_days,
        pinned.calendar,
        pinned.timezone,
        closes_at=pinned.closes_at or END_OF_DAY,
    )
    return Deadline(found.deadline, found.note)


def report_in_by(policy: Policy, level: WhistleLevel, start: datetime) -> Deadline:
    """The whistle's report-in (at the joint task force: joint meeting) deadline."""
    rules = policy.level(level)
    return after(policy, start, rules.report_in_seconds, rules.report_in_working_days)


def resolve_by(policy: Policy, level: WhistleLevel, start: datetime) -> Deadline:
    rules = policy.level(level)
    return after(policy, start, rules.resolve_seconds, rules.resolve_working_days)


def confirmation_by(policy: Policy, start: datetime) -> Deadline:
    rules = policy.rules
    return after(policy, start, rules.confirmation_seconds, rules.confirmation_working_days)


def return_window_ends(policy: Policy, dispatched_at: datetime) -> Deadline:
    rules = policy.rules
    return after(
        policy, dispatched_at, rules.return_window_seconds, rules.return_window_working_days
    )


def reviews_returns(policy: Policy) -> bool:
    """Whether a return awaits the station's review (cases raised before: it does not)."""
    rules = policy.rules
    return bool(rules.return_review_seconds or rules.return_review_working_days)


def return_review_by(policy: Policy, requested_at: datetime) -> Deadline:
    rules = policy.rules
    return after(
        policy, requested_at, rules.return_review_seconds, rules.return_review_working_days
    )


def describe(seconds: int, working_days: int) -> str:
    """A span as the policy writes it: ``3wd`` or ``2h``."""
    return format_working_days(working_days) if working_days > 0 else format_duration(seconds)
