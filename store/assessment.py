"""The assessment added up in SQL from the projection's credits (``store.credits``).

A period's totals are sums over the credit rows of the cases raised in it, and
the 90th percentile is a rank among its time rows (a window function): the
database does the work, and Python holds one row per group, however many cases
there are. SQLite and PostgreSQL run the same statements.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select, true
from sqlalchemy.engine import Engine

from audit.charging import MEASURES, TIMED
from audit.totals import Totals, p90_rank
from store.credits import CREDIT_TIMES, CREDITS, KEYS

Period = tuple[datetime | None, datetime | None]
"""[start, end): either may be open."""
GroupKey = tuple[int, str | None]
"""(which period, which group; None when the groups are pooled)."""


def _within(column: Any, period: Period) -> ColumnElement[bool]:
    # SQLite compares the text it stores (UTC) and drops a bound's offset: a
    # local period's bounds must be UTC before they reach it.
    start, end = period
    terms: list[ColumnElement[bool]] = []
    if start is not None:
        terms.append(column >= start.astimezone(UTC))
    if end is not None:
        terms.append(column < end.astimezone(UTC))
    return and_(true(), *terms)


def _period_of(column: Any, periods: Sequence[Period]) -> ColumnElement[Any]:
    if len(periods) == 1:
        return literal(0)
    return case(*((_within(column, p), i) for i, p in enumerate(periods)), else_=literal(-1))


def _check_apart(periods: Sequence[Period]) -> None:
    low = datetime.min.replace(tzinfo=UTC)
    high = datetime.max.replace(tzinfo=UTC)
    spans = sorted((start or low, end or high) for start, end in periods)
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise ValueError(f"periods: must not overlap; {start.isoformat()} < {end.isoformat()}")


def _keys(grouping: str) -> Any:
    # Each group's rows are one range of the key: read group by group, in order, with
    # no sort of the period's rows (the database seeks each group's period).
    return select(KEYS.c.key).where(KEYS.c.grouping == grouping)


def _covering(column: Any, periods: Sequence[Period]) -> ColumnElement[bool]:
    starts = [start for start, _ in periods]
    ends = [end for _, end in periods]
    first = None if None in starts else min(s for s in starts if s is not None)
    last = None if None in ends else max(e for e in ends if e is not None)
    return _within(column, (first, last))


def totals(
    engine: Engine,
    grouping: str,
    periods: Sequence[Period],
    *,
    by_key: bool = True,
    counts_only: bool = False,
) -> dict[GroupKey, Totals]:
    """Each period's totals for each group of ``grouping`` (or pooled, without ``by_key``).

    The periods must not overlap: a case counts in the first that holds it.
    ``counts_only``: no times and no count of compounds (they cost a sort each);
    the rates, cases and dispatches only."""
    if not periods:
        return {}
    _check_apart(periods)
    period = _period_of(CREDITS.c.raised_at, periods).label("period")
    key = CREDITS.c.key if by_key else literal(None).label("key")
    sums = [func.sum(CREDITS.c[name]) for name in _SUMMED]
    query = (
        select(
            period,
            key,
            func.count(),
            literal(0) if counts_only else func.count(CREDITS.c.compound.distinct()),
            *sums,
        )
        .where(
            CREDITS.c.grouping == grouping,
            CREDITS.c.key.in_(_keys(grouping)),
            _covering(CREDITS.c.raised_at, periods),
        )
        .group_by(period, *([CREDITS.c.key] if by_key else []))
    )
    found: dict[GroupKey, Totals] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            if row[0] < 0:
                continue  # between the periods asked for
            summed = dict(zip(_SUMMED, (int(value or 0) for value in row[4:]), strict=True))
            found[(row[0], row[1])] = Totals(
                cases=row[2],
                compounds=row[3],
                dispatches=summed["dispatches"],
                escalations=summed["escalations"],
                units={m: summed[f"{m}_units"] for m in MEASURES},
                hits={m: summed[f"{m}_hits"] for m in MEASURES},
                timed={} if counts_only else {m: summed[f"{m}_count"] for m in TIMED},
                time_sums={m: summed[f"{m}_micros"] for m in TIMED},
            )
        if counts_only:
            return found
        for (at, group, measure), value in _p90s(conn, grouping, periods, by_key):
            if (at, group) in found:
                found[(at, group)].p90s[measure] = value
    return found


_SUMMED = (
    "dispatches",
    "escalations",
    *(f"{m}_{part}" for m in MEASURES for part in ("units", "hits")),
    *(f"{m}_{part}" for m in TIMED for part in ("count", "micros")),
)


def _p90s(
    conn: Any, grouping: str, periods: Sequence[Period], by_key: bool
) -> list[tuple[tuple[int, str | None, str], int]]:
    """The nearest-rank 90th percentile of each period's, group's and measure's times."""
    times = CREDIT_TIMES.c
    period = _period_of(times.raised_at, periods)
    partition = [period, times.measure, *([times.key] if by_key else [])]
    ranked = (
        select(
            period.label("period"),
            (times.key if by_key else literal(None)).label("key"),
            times.measure,
            times.micros,
            func.row_number().over(partition_by=partition, order_by=times.micros).label("rank"),
            func.count().over(partition_by=partition).label("count"),
        )
        .where(
            times.grouping == grouping,
            times.key.in_(_keys(grouping)),
            times.measure.in_(TIMED),
            _covering(times.raised_at, periods),
        )
        .subquery()
    )
    chosen = select(ranked.c.period, ranked.c.key, ranked.c.measure, ranked.c.micros).where(
        ranked.c.period >= 0,
        ranked.c.rank == p90_rank(ranked.c.count),
    )
    return [((row[0], row[1], row[2]), int(row[3])) for row in conn.execute(chosen)]
