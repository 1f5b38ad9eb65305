"""Each group's credits by the UTC day its cases were raised in (``CreditDayRecord``).

Kept by ``store.credits`` as it recredits a case: the difference between the
case's old credit rows and its new ones is added to each (grouping, group, day).
A period is then its whole UTC days, added up from here, and the hours at its two
ends, added up from the cases' own credits (``store.assessment``), whatever its
bounds: a quarter in China's time starts at 16:00 UTC, mid-way through a day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, literal_column, select, text
from sqlalchemy.engine import Connection

from audit.charging import utc
from models.credit_tables import CreditDayRecord, CreditSums
from store import rollup

DAYS = CreditDayRecord.__table__  # type: ignore[attr-defined]
SUMMED = tuple(CreditSums.model_fields)
"""The columns a group's credits add up in (besides its cases)."""
BUCKET = ("grouping", "key", "day")
DAY = timedelta(days=1)
Sums = dict[tuple[str, str, datetime], list[int]]
"""(grouping, group, day) -> [cases, *SUMMED]."""


def day_of(at: datetime) -> datetime:
    """The UTC midnight that starts ``at``'s day."""
    return utc(at).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def next_day(at: datetime) -> datetime:
    """The first UTC midnight at or after ``at``."""
    start = day_of(at)
    return start if start == utc(at).astimezone(UTC) else start + DAY


def sums(rows: Iterable[Mapping[str, Any]]) -> Sums:
    """Credit rows added up by grouping, group and day."""
    found: Sums = defaultdict(lambda: [0] * (1 + len(SUMMED)))
    for row in rows:
        total = found[(row["grouping"], row["key"], day_of(row["raised_at"]))]
        total[0] += 1
        for i, name in enumerate(SUMMED, start=1):
            total[i] += row[name]
    return found


def shift(conn: Connection, old: Sums, new: Sums) -> None:
    """Add ``new - old`` to the days."""
    rollup.shift(conn, DAYS, BUCKET, ("cases", *SUMMED), old, new)


def _day_sql(conn: Connection, raised_at: Any) -> ColumnElement[Any]:
    """``day_of`` in the database's own terms (for ``refill``)."""
    if conn.dialect.name == "postgresql":
        return func.date_trunc("day", raised_at, "UTC")
    # SQLite holds the UTC time as text in SQLAlchemy's format: keep the date.
    return func.substr(raised_at, 1, 10).op("||")(literal_column("' 00:00:00.000000'"))


def refill(conn: Connection, credits: Any) -> None:
    """Every day recomputed from the credits table (``whistle stats rebuild``); after
    ``district_hours.refill``, which takes its lock first (writers take them in that order)."""
    if conn.dialect.name == "postgresql":  # writers wait: their differences land after
        conn.execute(text("LOCK TABLE credit_days IN EXCLUSIVE MODE"))
    day = _day_sql(conn, credits.c.raised_at)
    summed = select(
        credits.c.grouping,
        credits.c.key,
        day,
        func.count(),
        *(func.sum(credits.c[name]) for name in SUMMED),
    ).group_by(credits.c.grouping, credits.c.key, day)
    conn.execute(delete(DAYS))
    conn.execute(insert(DAYS).from_select([*BUCKET, "cases", *SUMMED], summed))
