"""The district's rates by the hour its cases were raised in (``DistrictHourRecord``).

Every case's credits pooled (its credits by compound: each once) and added up per
UTC hour, kept by ``store.credits`` as it recredits a case: the difference
between the case's old credits and its new ones is added to its hour. A period
whose bounds fall on whole hours (any quarter in a zone a whole number of hours
from UTC, as China's are) is a sum over its hours, not over its cases.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Connection, Engine

from audit.charging import MEASURES, utc
from audit.totals import Totals
from models.credit_tables import DistrictHourRecord
from store import rollup

HOURS = DistrictHourRecord.__table__  # type: ignore[attr-defined]
POOLED = "compound"
"""The grouping that charges each case's credits once, to its one compound."""
COUNTED = tuple(f"{m}_{part}" for m in MEASURES for part in ("units", "hits"))
Counts = dict[datetime, list[int]]
"""Hour -> [cases, *COUNTED]."""


def hour_of(at: datetime) -> datetime:
    return utc(at).astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def on_the_hour(at: datetime | None) -> bool:
    return at is None or at.astimezone(UTC) == hour_of(at)


def counts(rows: Iterable[Mapping[str, Any]]) -> Counts:
    """Credit rows (of any grouping; only ``POOLED`` ones count) summed by hour."""
    found: Counts = defaultdict(lambda: [0] * (1 + len(COUNTED)))
    for row in rows:
        if row["grouping"] != POOLED:
            continue
        total = found[hour_of(row["raised_at"])]
        total[0] += 1
        for i, name in enumerate(COUNTED, start=1):
            total[i] += row[name]
    return found


def shift(conn: Connection, old: Counts, new: Counts) -> None:
    """Add ``new - old`` to the hours."""
    rollup.shift(
        conn,
        HOURS,
        ("hour",),
        ("cases", *COUNTED),
        {(hour,): row for hour, row in old.items()},
        {(hour,): row for hour, row in new.items()},
    )


def refill(conn: Connection, credits: Any) -> None:
    """Every hour recomputed from the credits table (``whistle stats rebuild``)."""
    if conn.dialect.name == "postgresql":  # writers wait: their differences land after
        conn.execute(text("LOCK TABLE district_hours IN EXCLUSIVE MODE"))
    conn.execute(delete(HOURS))
    query = (
        select(credits.c.raised_at, func.count(), *(func.sum(credits.c[n]) for n in COUNTED))
        .where(credits.c.grouping == POOLED)
        .group_by(credits.c.raised_at)
    )
    found: Counts = defaultdict(lambda: [0] * (1 + len(COUNTED)))
    for row in conn.execute(query):
        total = found[hour_of(row[0])]
        for i, value in enumerate(row[1:]):
            total[i] += int(value or 0)
    shift(conn, {}, found)


def district_totals(
    engine: Engine, periods: Sequence[tuple[datetime | None, datetime | None]]
) -> list[Totals] | None:
    """Each period's pooled counts (cases, units and hits: no times, no compounds),
    or None when a bound is not on the hour."""
    if not all(on_the_hour(bound) for period in periods for bound in period):
        return None
    found: list[Totals] = []
    with engine.connect() as conn:
        for start, end in periods:
            query = select(func.count(), *(func.sum(HOURS.c[n]) for n in ("cases", *COUNTED)))
            if start is not None:
                query = query.where(HOURS.c.hour >= start.astimezone(UTC))
            if end is not None:
                query = query.where(HOURS.c.hour < end.astimezone(UTC))
            row = [int(value or 0) for value in conn.execute(query).one()[1:]]
            summed = dict(zip(COUNTED, row[1:], strict=True))
            found.append(
                Totals(
                    cases=row[0],
                    units={m: summed[f"{m}_units"] for m in MEASURES},
                    hits={m: summed[f"{m}_hits"] for m in MEASURES},
                )
            )
    return found
