"""Building the working-day calendar, outside workflow code.

China's official holidays and 调休 make-up working days come from the
``chinese-calendar`` package (the State Council's yearly announcements); a
district's policy may add its own days off and days worked. The result is a
pure ``models.workdays.WorkCalendar``; a case pins a slice of it
(``models.workdays.calendar_slice``) and the workflow computes from that alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from functools import lru_cache
from importlib import metadata

import chinese_calendar  # type: ignore[import-untyped]

from models.errors import RuleViolation
from models.policy import Policy, WorkingTime
from models.workdays import WorkCalendar, as_date, calendar_slice, zone

_PACKAGE = "chinese-calendar"
# How errors name a district's lists: the policy file's keys ([calendar]).
_HOLIDAYS = "calendar.holidays"
_WORKDAYS = "calendar.workdays"


def district_days(
    extra_holidays: Iterable[date | str], extra_workdays: Iterable[date | str]
) -> tuple[set[date], set[date]]:
    """A district's days off and days worked as dates, whatever the year.

    RuleViolation (a ValueError) naming the list and the day for a day that is
    not an ISO date or that is in both lists.
    """
    off = {as_date(v, _HOLIDAYS) for v in extra_holidays}
    on = {as_date(v, _WORKDAYS) for v in extra_workdays}
    if both := sorted(off & on):
        raise RuleViolation(f"{_HOLIDAYS} and {_WORKDAYS}: {both[0]} is in both")
    return off, on


def supported_years() -> tuple[int, int]:
    """The first and last year the installed chinese-calendar knows."""
    known = chinese_calendar.holidays.keys()
    return min(known).year, max(known).year


def build_calendar(
    years: Iterable[int],
    extra_holidays: Iterable[date | str] = (),
    extra_workdays: Iterable[date | str] = (),
) -> WorkCalendar:
    """The working-day calendar of ``years`` (consecutive), with a district's own days.

    ``extra_holidays``: days off locally. A weekday becomes a holiday; a
    national make-up weekend day is no longer worked. ``extra_workdays``: days
    worked locally. A weekend day becomes a make-up day; a national holiday on
    a weekday is worked. A day that would change nothing, a day in both lists
    and a day outside ``years`` are refused with ValueError naming it.
    """
    wanted = sorted(set(years))
    if not wanted:
        raise ValueError("calendar years: give at least one year")
    if wanted != list(range(wanted[0], wanted[-1] + 1)):
        raise ValueError(f"calendar years: must be consecutive; got {wanted}")
    low, high = supported_years()
    version = metadata.version(_PACKAGE)
    if wanted[0] < low or wanted[-1] > high:
        raise ValueError(
            f"calendar years: {_PACKAGE} {version} covers {low} to {high}; got "
            f"{wanted[0]} to {wanted[-1]}"
        )
    first, last = date(wanted[0], 1, 1), date(wanted[-1], 12, 31)
    holidays: set[date] = set()
    workdays: set[date] = set()
    day = first
    while day <= last:
        weekend = day.weekday() >= 5
        if chinese_calendar.is_workday(day) == weekend:
            (workdays if weekend else holidays).add(day)
        day += timedelta(days=1)

    off, on = district_days(extra_holidays, extra_workdays)
    for what, days in ((_HOLIDAYS, off), (_WORKDAYS, on)):
        for extra in sorted(days):
            if not first <= extra <= last:
                raise ValueError(
                    f"{what}: {extra} is outside the calendar's years {wanted[0]} to {wanted[-1]}"
                )
    for extra in sorted(off):
        if extra in workdays:
            workdays.discard(extra)
        elif extra.weekday() < 5 and extra not in holidays:
            holidays.add(extra)
        else:
            raise ValueError(f"{_HOLIDAYS}: {extra} is already a day off")
    for extra in sorted(on):
        if extra in holidays:
            holidays.discard(extra)
        elif extra.weekday() >= 5 and extra not in workdays:
            workdays.add(extra)
        else:
            raise ValueError(f"{_WORKDAYS}: {extra} is already a working day")

    source = f"{_PACKAGE} {version}"
    if off or on:
        source += f"; district: {len(off)} day(s) off, {len(on)} day(s) worked"
    return WorkCalendar(
        first_day=first.isoformat(),
        last_day=last.isoformat(),
        holidays=tuple(d.isoformat() for d in sorted(holidays)),
        workdays=tuple(d.isoformat() for d in sorted(workdays)),
        source=source,
    )


def pin_working_time(policy: Policy, *, timezone: str, today: date) -> Policy:
    """``policy`` with the working time a case raised ``today`` (local) pins.

    The slice runs from the day before ``today`` (a UTC instant may still be
    yesterday somewhere) to two years on, the farthest a case's working-day
    deadlines are expected to reach; past it, or in a year chinese-calendar does
    not know yet, deadlines come out ``estimated`` (weekends alone). A policy
    without working days is returned unchanged: its cases pin nothing.
    """
    if not policy.uses_working_days:
        return policy
    zone(timezone, field="time zone")
    start = today - timedelta(days=1)
    end = _years_after(today, _PIN_YEARS)
    low, high = supported_years()
    years = tuple(range(max(start.year, low), min(end.year, high) + 1))
    if years:
        calendar = calendar_slice(
            _district_calendar(years, policy.extra_holidays, policy.extra_workdays), start, end
        )
    else:
        version = metadata.version(_PACKAGE)
        calendar = WorkCalendar(source=f"{_PACKAGE} {version}: covers {low} to {high} only")
    return replace(
        policy,
        working_time=WorkingTime(timezone=timezone, closes_at=policy.closes_at, calendar=calendar),
    )


_PIN_YEARS = 2


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _district_calendar(
    years: tuple[int, ...], extra_holidays: tuple[str, ...], extra_workdays: tuple[str, ...]
) -> WorkCalendar:
    """The calendar of ``years`` with those of the district's days that fall in them.

    A day in another year cannot be in the case's slice (the slice lies within
    ``years``), so it is left out rather than failing the raise. So is a day
    that a newer chinese-calendar already makes what the district asked (the
    policy was checked against an older one): the raise must not fail for it.
    """
    first, last = f"{years[0]}-01-01", f"{years[-1]}-12-31"
    base = _cached_calendar(years, (), ())
    off = tuple(d for d in extra_holidays if first <= d <= last and base.is_working_day(d))
    on = tuple(d for d in extra_workdays if first <= d <= last and not base.is_working_day(d))
    return _cached_calendar(years, off, on)


@lru_cache(maxsize=64)
def _cached_calendar(
    years: tuple[int, ...], extra_holidays: tuple[str, ...], extra_workdays: tuple[str, ...]
) -> WorkCalendar:
    # Building walks every day of the years through chinese-calendar; a raise
    # must not pay that each time. A WorkCalendar is frozen, so sharing is safe.
    return build_calendar(years, extra_holidays, extra_workdays)
