"""The assessment added up in SQL from the projection's credits (``store.credits``).

A period's totals are sums over its whole UTC days, kept by ``store.credit_days``,
and over the credit rows of the cases raised in the hours at its two ends (a period
seldom starts at midnight UTC). The distinct compounds are counted over the credit
rows, and each 90th percentile is a rank among the period's time rows, read in
order and cut (``ORDER BY ... DESC LIMIT 1 OFFSET n - rank``: the database keeps
only the top tenth, not a sort of every time): on PostgreSQL one statement for every
group (a lateral subquery each), on SQLite one prepared statement run per group, in
process. Python holds one row per group, however many cases there are.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    select,
    true,
    union_all,
    values,
)
from sqlalchemy.engine import Connection, Engine

from audit.charging import MEASURES, TIMED
from audit.totals import Totals, p90_rank
from store.credit_days import DAYS, SUMMED, day_of, next_day
from store.credits import CREDIT_TIMES, CREDITS, KEYS
from store.engine import snapshot

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


def _rows(table: Any, at: Any, cases: Any, grouping: str, which: int, span: Period) -> Select[Any]:
    return select(
        literal_column(str(which)).label("period"),
        table.c.key,
        cases.label("cases"),
        *(table.c[name] for name in SUMMED),
    ).where(table.c.grouping == grouping, table.c.key.in_(_keys(grouping)), _within(at, span))


def _parts(grouping: str, which: int, period: Period) -> list[Select[Any]]:
    """The period's whole days, and the cases of the hours before and after them."""
    start, end = period
    first = None if start is None else next_day(start)
    last = None if end is None else day_of(end)
    credits = CREDITS.c
    if first is not None and last is not None and first >= last:  # within one day or two
        return [_rows(CREDITS, credits.raised_at, literal_column("1"), grouping, which, period)]
    parts = [_rows(DAYS, DAYS.c.day, DAYS.c.cases, grouping, which, (first, last))]
    if start is not None and first is not None and start < first:
        before = (start, first)
        parts.append(
            _rows(CREDITS, credits.raised_at, literal_column("1"), grouping, which, before)
        )
    if end is not None and last is not None and last < end:
        after = (last, end)
        parts.append(_rows(CREDITS, credits.raised_at, literal_column("1"), grouping, which, after))
    return parts


def totals(
    engine: Engine,
    grouping: str,
    periods: Sequence[Period],
    *,
    by_key: bool = True,
    counts_only: bool = False,
) -> dict[GroupKey, Totals]:
    """Each period's totals for each group of ``grouping`` (or pooled, without ``by_key``).

    The periods must not overlap. ``counts_only``: no times and no count of compounds
    (they read every credit of the period); the rates, cases and dispatches only."""
    if not periods:
        return {}
    _check_apart(periods)
    rows = union_all(
        *(part for which, period in enumerate(periods) for part in _parts(grouping, which, period))
    ).subquery()
    key = rows.c.key if by_key else literal_column("NULL").label("key")
    query = (
        select(
            rows.c.period,
            key,
            func.sum(rows.c.cases),
            *(func.sum(rows.c[name]) for name in SUMMED),
        )
        .group_by(rows.c.period, *([rows.c.key] if by_key else []))
        .having(func.sum(rows.c.cases) > 0)  # a day's row of a group all its cases left
    )
    found: dict[GroupKey, Totals] = {}
    # One snapshot: each 90th percentile's rank comes from a count read before it.
    with snapshot(engine) as conn:
        for row in conn.execute(query):
            summed = dict(zip(SUMMED, (int(value or 0) for value in row[3:]), strict=True))
            found[(int(row[0]), row[1])] = Totals(
                cases=int(row[2]),
                dispatches=summed["dispatches"],
                escalations=summed["escalations"],
                units={m: summed[f"{m}_units"] for m in MEASURES},
                hits={m: summed[f"{m}_hits"] for m in MEASURES},
                timed={} if counts_only else {m: summed[f"{m}_count"] for m in TIMED},
                time_sums={m: summed[f"{m}_micros"] for m in TIMED},
            )
        if counts_only:
            return found
        for which, period in enumerate(periods):
            mine = {group: kept for (at, group), kept in found.items() if at == which}
            for group, count in _compounds(conn, grouping, period, by_key):
                if group in mine:  # pooled, a period without a case still counts
                    mine[group].compounds = count
            wanted = [
                (group, measure, count - p90_rank(count))  # the rank-th smallest, from the top
                for group, kept in mine.items()
                for measure, count in kept.timed.items()
                if count
            ]
            for group, measure, micros in _p90s(conn, grouping, period, by_key, wanted):
                mine[group].p90s[measure] = micros
    return found


def _group(table: Any, grouping: str, by_key: bool) -> ColumnElement[bool]:
    """The grouping's rows: of one group (``:group``), or of every group."""
    key = table.c.key == bindparam("group") if by_key else table.c.key.in_(_keys(grouping))
    return and_(table.c.grouping == grouping, key)


def _compounds(
    conn: Connection, grouping: str, period: Period, by_key: bool
) -> list[tuple[str | None, int]]:
    """How many compounds each group's cases of the period came from."""
    key = CREDITS.c.key if by_key else literal_column("NULL").label("key")
    query = select(key, func.count(CREDITS.c.compound.distinct())).where(
        CREDITS.c.grouping == grouping,
        CREDITS.c.key.in_(_keys(grouping)),
        _within(CREDITS.c.raised_at, period),
    )
    if by_key:
        query = query.group_by(CREDITS.c.key)
    return [(row[0], int(row[1])) for row in conn.execute(query)]


Wanted = list[tuple[str | None, str, int]]
"""(group, measure, how many of its times are larger than the one wanted)."""


def _p90s(
    conn: Connection, grouping: str, period: Period, by_key: bool, wanted: Wanted
) -> list[tuple[str | None, str, int]]:
    """Each nearest-rank 90th percentile ``wanted``: the group's time of the measure
    with ``skip`` larger ones. On PostgreSQL one statement for them all (a lateral
    subquery a group, its offset from the row); on SQLite, in process, one prepared
    statement run for each."""
    if not wanted:
        return []
    if by_key and conn.dialect.name == "postgresql":
        return _p90s_lateral(conn, grouping, period, wanted)
    one = _p90_of(grouping, period, by_key)
    return [
        (
            group,
            measure,
            int(conn.execute(one, {"group": group, "measure": measure, "skip": skip}).scalar_one()),
        )
        for group, measure, skip in wanted
    ]


def _p90_of(grouping: str, period: Period, by_key: bool) -> Select[Any]:
    """A group's (``:group``) time of a ``:measure`` with ``:skip`` larger ones."""
    times = CREDIT_TIMES.c
    return (
        select(times.micros)
        .where(
            _group(CREDIT_TIMES, grouping, by_key),
            times.measure == bindparam("measure"),
            _within(times.raised_at, period),
        )
        .order_by(times.micros.desc())
        .limit(1)
        .offset(bindparam("skip"))
    )


def _p90s_lateral(
    conn: Connection, grouping: str, period: Period, wanted: Wanted
) -> list[tuple[str | None, str, int]]:
    asked = values(
        column("group", String), column("measure", String), column("skip", Integer), name="asked"
    ).data(wanted)
    times = CREDIT_TIMES.c
    chosen = (
        select(times.micros)
        .where(
            times.grouping == grouping,
            times.key == asked.c.group,
            times.measure == asked.c.measure,
            _within(times.raised_at, period),
        )
        .order_by(times.micros.desc())
        .limit(1)
        .offset(asked.c.skip)
        .lateral("chosen")
    )
    query = select(asked.c.group, asked.c.measure, chosen.c.micros).select_from(
        asked.join(chosen, true())
    )
    return [(row[0], row[1], int(row[2])) for row in conn.execute(query)]
