"""The values of a policy file's sections, each checked and named by its key.

``policy.loader`` merges the district's file over the default and calls these
on the merged document, so every key is present here.
"""

from __future__ import annotations

from typing import Any

from models.durations import Span, parse_deadline_spec
from models.errors import PolicyError
from models.levels import WhistleLevel
from models.limits import (
    LIST_SIZE_MAX,
    MIN_DISPATCHES_MAX,
    REDO_CAP_MAX,
    RETURNS_TO_JOINT_MAX,
    SATISFACTION_MAX,
)
from models.policy import AssessmentRules, CaseRules, LevelRules, OnMiss
from models.workdays import _closing_time
from policy.calendar import build_calendar, district_days, supported_years

LEVEL_KEYS = {"report_in", "resolve", "remind_at", "extension_cap", "on_miss", "supervise_every"}
RULE_KEYS = {
    "return_window",
    "returns_to_joint",
    "confirmation",
    "return_review",
    "redo_below",
    "redo_cap",
}
CALENDAR_KEYS = {"closes_at", "holidays", "workdays"}
ASSESSMENT_KEYS = {"min_dispatches", "list_size"}
_ON_MISS = [m.value for m in OnMiss]


def span(value: Any, key: str) -> Span:
    """A deadline: clock time (30m, 2h, 5d) or working days (3wd)."""
    if not isinstance(value, str):
        raise PolicyError(
            f'{key}: must be a duration string such as "30m" or working days such as "3wd";'
            f" got {value!r}"
        )
    try:
        return parse_deadline_spec(value, field=key)
    except ValueError as err:
        raise PolicyError(str(err)) from None


def clock_seconds(value: Any, key: str, *, why: str) -> int:
    """A clock duration; working days are refused, saying ``why`` this is clock time."""
    found = span(value, key)
    if found.in_working_days:
        raise PolicyError(f"{key}: {why}; give a duration such as 30m, 2h or 5d; got {value!r}")
    return found.seconds


def whole_number(value: Any, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (low <= value <= high):
        raise PolicyError(f"{key}: must be a whole number from {low} to {high}; got {value!r}")
    return value


def _at_least_seconds(found: Span) -> int:
    # A working day lasts at least a day (a weekend or a holiday only adds),
    # so a span in working days is compared as that many days. Between units
    # this refuses what may be longer (6d against 5wd) and passes what cannot
    # be (2h against 5wd).
    return found.seconds or found.working_days * 86400


def level_rules(level: WhistleLevel, values: dict[str, Any]) -> LevelRules:
    key = f"levels.{level.label}"
    remind_at = values["remind_at"]
    if (
        isinstance(remind_at, bool)
        or not isinstance(remind_at, int | float)
        or not 0 < remind_at < 1
    ):
        raise PolicyError(f"{key}.remind_at: must be a fraction between 0 and 1; got {remind_at!r}")
    report_in = span(values["report_in"], f"{key}.report_in")
    resolve = span(values["resolve"], f"{key}.resolve")
    # At the joint task force report_in is the meeting and resolve runs from
    # the plan, so the two are not nested.
    if level != WhistleLevel.JOINT and _at_least_seconds(report_in) > _at_least_seconds(resolve):
        raise PolicyError(f"{key}.report_in: must not be longer than {key}.resolve")
    on_miss = values["on_miss"]
    if on_miss not in _ON_MISS:
        raise PolicyError(f"{key}.on_miss: must be one of {', '.join(_ON_MISS)}; got {on_miss!r}")
    if level == WhistleLevel.JOINT and on_miss != OnMiss.SUPERVISE:
        raise PolicyError(
            f"{key}.on_miss: the joint task force has no whistle above it; must be"
            f" {OnMiss.SUPERVISE.value}"
        )
    return LevelRules(
        report_in_seconds=report_in.seconds,
        resolve_seconds=resolve.seconds,
        remind_at=float(remind_at),
        extension_cap_seconds=clock_seconds(
            values["extension_cap"],
            f"{key}.extension_cap",
            why="extensions are counted in clock time",
        ),
        report_in_working_days=report_in.working_days,
        resolve_working_days=resolve.working_days,
        on_miss=str(on_miss),
        supervise_every_seconds=clock_seconds(
            values["supervise_every"],
            f"{key}.supervise_every",
            why="supervision (督办) is a clock interval, kept round the clock",
        ),
    )


def case_rules(values: dict[str, Any]) -> CaseRules:
    return_window = span(values["return_window"], "rules.return_window")
    confirmation = span(values["confirmation"], "rules.confirmation")
    return_review = span(values["return_review"], "rules.return_review")
    return CaseRules(
        return_window_seconds=return_window.seconds,
        returns_to_joint=whole_number(
            values["returns_to_joint"], "rules.returns_to_joint", 1, RETURNS_TO_JOINT_MAX
        ),
        confirmation_seconds=confirmation.seconds,
        return_window_working_days=return_window.working_days,
        confirmation_working_days=confirmation.working_days,
        return_review_seconds=return_review.seconds,
        return_review_working_days=return_review.working_days,
        # 0: no redo on a low score
        redo_below=whole_number(values["redo_below"], "rules.redo_below", 0, SATISFACTION_MAX),
        redo_cap=whole_number(values["redo_cap"], "rules.redo_cap", 0, REDO_CAP_MAX),
    )


def assessment_rules(values: dict[str, Any]) -> AssessmentRules:
    return AssessmentRules(
        min_dispatches=whole_number(
            values["min_dispatches"], "assessment.min_dispatches", 1, MIN_DISPATCHES_MAX
        ),
        list_size=whole_number(values["list_size"], "assessment.list_size", 1, LIST_SIZE_MAX),
    )


def closes_at(value: Any) -> str:
    """The local "HH:MM" a working-day deadline's last day ends."""
    key = "calendar.closes_at"
    if not isinstance(value, str):
        raise PolicyError(f'{key}: must be a local time such as "17:30" or "24:00"; got {value!r}')
    try:  # models.workdays owns the rule, where deadlines are counted
        _closing_time(value)
    except ValueError as err:
        raise PolicyError(f"calendar.{err}") from None
    return value


def calendar_days(holidays: Any, workdays: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The district's own days off and days worked, as sorted ISO dates.

    Days in the years chinese-calendar knows are checked against it (a day
    that changes nothing is refused); days beyond them only as dates, since
    their national arrangement is not announced yet.
    """
    for key, value in (("calendar.holidays", holidays), ("calendar.workdays", workdays)):
        if not isinstance(value, list):
            raise PolicyError(f'{key}: must be a list of ISO dates such as ["2026-10-09"]')
    try:
        off, on = district_days(holidays, workdays)
        low, high = supported_years()
        known_off = [d for d in off if low <= d.year <= high]
        known_on = [d for d in on if low <= d.year <= high]
        if known := known_off + known_on:
            years = range(min(d.year for d in known), max(d.year for d in known) + 1)
            build_calendar(years, known_off, known_on)
    except ValueError as err:
        raise PolicyError(str(err)) from None
    for key, given, days in (
        ("calendar.holidays", holidays, off),
        ("calendar.workdays", workdays, on),
    ):
        if len(days) != len(given):
            raise PolicyError(f"{key}: names a day twice")
    return tuple(d.isoformat() for d in sorted(off)), tuple(d.isoformat() for d in sorted(on))
