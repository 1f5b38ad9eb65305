"""Periods of the assessment: a quarter, or a from/to pair, parsed once.

The API and the CLI both call :func:`parse_period`, so ``2026-10-01`` and
``2026Q4`` mean the same through either door. A day starts at midnight UTC; a
timestamp keeps its own UTC offset (one without is taken as UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from models.errors import RuleViolation

QUARTER = r"^\d{4}Q[1-4]$"
"""A quarter as it is written: ``2026Q4``."""
_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Period = tuple[datetime | None, datetime | None]


def quarter_bounds(text: str) -> tuple[datetime, datetime]:
    """The first instant of the quarter and the first instant after it."""
    match = _QUARTER_RE.match(text.strip().upper())
    if not match:
        raise RuleViolation(f"quarter: must look like 2026Q4; got {text!r}")
    year, quarter = int(match[1]), int(match[2])
    if not 1970 <= year <= 9998:
        raise RuleViolation(f"quarter: the year must be between 1970 and 9998; got {year}")
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=UTC)
    end = (
        datetime(year + 1, 1, 1, tzinfo=UTC)
        if quarter == 4
        else datetime(year, 3 * quarter + 1, 1, tzinfo=UTC)
    )
    return start, end


def current_quarter(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return f"{moment.year}Q{(moment.month - 1) // 3 + 1}"


def parse_instant(text: str, *, field: str) -> datetime:
    """``2026-10-01`` (midnight UTC) or an ISO timestamp (its offset kept)."""
    value = text.strip()
    try:
        if _DAY_RE.match(value):
            return datetime.combine(date.fromisoformat(value), time(), UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RuleViolation(
            f"{field}: must be a day such as 2026-10-01 or a time such as "
            f"2026-10-01T08:00+08:00; got {text!r}"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_period(start: str | None, end: str | None, quarter: str | None) -> Period:
    """The period asked for; (None, None) means every case."""
    if quarter:
        if start or end:
            raise RuleViolation("quarter: give a quarter or from/to, not both")
        return quarter_bounds(quarter)
    first = parse_instant(start, field="from") if start else None
    last = parse_instant(end, field="to") if end else None
    if first is not None and last is not None and last <= first:
        raise RuleViolation("to: must be after from")
    return first, last
