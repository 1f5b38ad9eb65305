"""Building the working-day calendar, outside workflow code.

China's official holidays and 调休 make-up working days come from the
``chinese-calendar`` package (the State Council's yearly announcements); a
district's policy may add its own days off and days worked. The result is a
pure ``models.workdays.WorkCalendar``; a case pins a slice of it
(``models.workdays.calendar_slice``) and the workflow computes from that alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from importlib import metadata

import chinese_calendar  # type: ignore[import-untyped]

from models.workdays import WorkCalendar, as_date

_PACKAGE = "chinese-calendar"


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

    off = {as_date(v, "extra holidays") for v in extra_holidays}
    on = {as_date(v, "extra workdays") for v in extra_workdays}
    if both := sorted(off & on):
        raise ValueError(f"extra holidays and workdays: {both[0]} is in both")
    for what, days in (("extra holidays", off), ("extra workdays", on)):
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
            raise ValueError(f"extra holidays: {extra} is already a day off")
    for extra in sorted(on):
        if extra in holidays:
            holidays.discard(extra)
        elif extra.weekday() >= 5 and extra not in workdays:
            workdays.add(extra)
        else:
            raise ValueError(f"extra workdays: {extra} is already a working day")

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
