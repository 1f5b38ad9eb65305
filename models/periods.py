"""Periods of the assessment: a quarter, or a from/to pair, parsed once.

The API and the CLI both call :func:`parse_period`, so ``2026-10-01`` and
``2026Q4`` mean the same through either door. Periods are the district's: a day
and a quarter start at local midnight in ``zone`` (the ``timezone`` setting), so a
whistle blown at 01:00 on 1 October in Beijing counts in Q4. A timestamp keeps its
own UTC offset; one without is taken as local.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo

from models.errors import RuleViolation

QUARTER = r"^\d{4}Q[1-4]$"
"""A quarter as it is written: ``2026Q4``."""
_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Period = tuple[datetime | None, datetime | None]


def quarter_bounds(text: str, zone: tzinfo) -> tuple[datetime, datetime]:
    """The first instant of the quarter and the first instant after it, in ``zone``."""
    match = _QUARTER_RE.match(text.strip().upper())
    if not match:
        raise RuleViolation(f"quarter: must look like 2026Q4; got {text!r}")
    year, quarter = int(match[1]), int(match[2])
    if not 1970 <= year <= 9998:
        raise RuleViolation(f"quarter: the year must be between 1970 and 9998; got {year}")
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=zone)
    end = (
        datetime(year + 1, 1, 1, tzinfo=zone)
        if quarter == 4
        else datetime(year, 3 * quarter + 1, 1, tzinfo=zone)
    )
    return start, end


def current_quarter(zone: tzinfo, now: datetime | None = None) -> str:
    """The quarter ``now`` (default: this instant) falls in, in ``zone``."""
    moment = (now or datetime.now(zone)).astimezone(zone)
    return f"{moment.year}Q{(moment.month - 1) // 3 + 1}"


def parse_instant(text: str, *, field: str, zone: tzinfo) -> datetime:
    """``2026-10-01`` (local midnight) or an ISO timestamp (its offset kept)."""
    value = text.strip()
    try:
        if _DAY_RE.match(value):
            return datetime.combine(date.fromisoformat(value), time(), zone)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RuleViolation(
            f"{field}: must be a day such as 2026-10-01 or a time such as "
            f"2026-10-01T08:00+08:00; got {text!r}"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def parse_period(
    start: str | None, end: str | None, quarter: str | None, *, zone: tzinfo
) -> Period:
    """The period asked for, in the district's ``zone``; (None, None) means every case."""
    if quarter:
        if start or end:
            raise RuleViolation("quarter: give a quarter or from/to, not both")
        return quarter_bounds(quarter, zone)
    first = parse_instant(start, field="from", zone=zone) if start else None
    last = parse_instant(end, field="to", zone=zone) if end else None
    if first is not None and last is not None and last <= first:
        raise RuleViolation("to: must be after from")
    return first, last
