"""The assessment's credits, kept by the projection (``CaseCreditRecord``).

Every write of a case's events recomputes that case's credits from its whole
ledger, in the same transaction: a retried or late batch gives the same rows, and
the assessment never counts events the projection does not hold. The case's row
is locked first (by a write: its row on PostgreSQL, the write lock on SQLite), so
two writers of one case cannot each credit it with only their own events.
``rebuild`` does the same for every case, after a restore or a change of the
definitions (``whistle stats rebuild``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from audit.charging import (
    GROUPINGS,
    MEASURES,
    REACHED,
    TIMED,
    CaseFacts,
    EventFacts,
    case_tallies,
    utc,
)
from models.credit_tables import CaseCreditRecord, CaseCreditTimeRecord, CreditKeyRecord
from models.tables import CaseEventRecord, CaseRecord
from store import credit_days, district_hours
from store.upserts import insert_ignoring_duplicates

CREDITED = (*GROUPINGS, REACHED)
REBUILD_BATCH = 500
_CASES = CaseRecord.__table__  # type: ignore[attr-defined]
_EVENTS = CaseEventRecord.__table__  # type: ignore[attr-defined]
CREDITS = CaseCreditRecord.__table__  # type: ignore[attr-defined]
CREDIT_TIMES = CaseCreditTimeRecord.__table__  # type: ignore[attr-defined]
KEYS = CreditKeyRecord.__table__  # type: ignore[attr-defined]
Rows = list[dict[str, Any]]


def credit_rows(case: CaseFacts, events: Sequence[EventFacts]) -> tuple[Rows, Rows]:
    """One case's credit rows and time rows, for every grouping."""
    raised_at = utc(case.raised_at)
    credits: Rows = []
    times: Rows = []
    for grouping in CREDITED:
        for key, tally in sorted(case_tallies(case, events, grouping).items()):
            row: dict[str, Any] = {
                "grouping": grouping,
                "raised_at": raised_at,
                "case_id": case.case_id,
                "key": key,
                "compound": case.compound,
                "dispatches": tally.dispatches,
                "escalations": tally.escalations,
            }
            for measure in MEASURES:
                row[f"{measure}_units"] = tally.units.get(measure, 0)
                row[f"{measure}_hits"] = tally.hits.get(measure, 0)
            for measure in TIMED:
                values = tally.times.get(measure, [])
                row[f"{measure}_count"] = len(values)
                row[f"{measure}_micros"] = sum(values)
                times += [
                    {
                        "grouping": grouping,
                        "measure": measure,
                        "raised_at": raised_at,
                        "case_id": case.case_id,
                        "key": key,
                        "ordinal": ordinal,
                        "micros": value,
                    }
                    for ordinal, value in enumerate(values)
                ]
            credits.append(row)
    return credits, times


def recredit(conn: Connection, case_ids: Iterable[str], *, days: bool = True) -> int:
    """Recompute the credits of these cases from the ledger the transaction sees
    (``days=False``: not their days, in a migration before they existed)."""
    ids = sorted(set(case_ids))
    if not ids:
        return 0
    # Written first, so the cases are locked before their ledger is read: on
    # PostgreSQL their rows, on SQLite the one write lock (a transaction that read
    # first could credit from a ledger another writer has since grown).
    conn.execute(update(_CASES).where(_CASES.c.case_id.in_(ids)).values(last_seq=_CASES.c.last_seq))
    facts = conn.execute(
        select(_CASES.c.case_id, _CASES.c.compound, _CASES.c.level, _CASES.c.raised_at)
        .where(_CASES.c.case_id.in_(ids))
        .order_by(_CASES.c.case_id)
    ).all()
    ledgers: dict[str, list[EventFacts]] = defaultdict(list)
    for row in conn.execute(
        select(
            _EVENTS.c.case_id,
            _EVENTS.c.kind,
            _EVENTS.c.at,
            _EVENTS.c.level,
            _EVENTS.c.department,
            _EVENTS.c.to_level,
            _EVENTS.c.detail,
        )
        .where(_EVENTS.c.case_id.in_(ids))
        .order_by(_EVENTS.c.case_id, _EVENTS.c.seq)
    ):
        ledgers[row[0]].append(EventFacts(*row[1:]))
    credits: Rows = []
    times: Rows = []
    for fact in facts:
        case = CaseFacts(*fact)
        more_credits, more_times = credit_rows(case, ledgers[case.case_id])
        credits += more_credits
        times += more_times
    old = [dict(row) for row in conn.execute(_old_credits(ids)).mappings()]
    district_hours.shift(conn, district_hours.counts(old), district_hours.counts(credits))
    if days:
        credit_days.shift(conn, credit_days.sums(old), credit_days.sums(credits))
    conn.execute(delete(CREDITS).where(CREDITS.c.case_id.in_(ids)))
    conn.execute(delete(CREDIT_TIMES).where(CREDIT_TIMES.c.case_id.in_(ids)))
    if credits:
        conn.execute(insert(CREDITS), credits)
        named = {(row["grouping"], row["key"]) for row in credits}
        keys = [{"grouping": grouping, "key": key} for grouping, key in sorted(named)]
        insert_ignoring_duplicates(conn, KEYS, keys)
    if times:
        conn.execute(insert(CREDIT_TIMES), times)
    return len(facts)


def _old_credits(ids: list[str]) -> Any:
    """What the days and hours hold of these cases now."""
    summed = (CREDITS.c[name] for name in credit_days.SUMMED)
    columns = (CREDITS.c.grouping, CREDITS.c.key, CREDITS.c.raised_at, *summed)
    return select(*columns).where(CREDITS.c.case_id.in_(ids))


def _next_cases(conn: Connection, after: str, batch: int) -> list[str]:
    query = select(_CASES.c.case_id).where(_CASES.c.case_id > after)
    return list(conn.execute(query.order_by(_CASES.c.case_id).limit(batch)).scalars())


def _finish(conn: Connection, *, days: bool = True) -> None:
    """Credits of cases no longer in the projection (a restore of an older copy) go;
    the district's hours and the groups' days are added up again from what stays."""
    for table in (CREDITS, CREDIT_TIMES):
        conn.execute(delete(table).where(table.c.case_id.not_in(select(_CASES.c.case_id))))
    credited = select(CREDITS.c.key).where(CREDITS.c.grouping == KEYS.c.grouping).distinct()
    conn.execute(delete(KEYS).where(KEYS.c.key.not_in(credited)))
    district_hours.refill(conn, CREDITS)
    if days:
        credit_days.refill(conn, CREDITS)


def rebuild(
    engine: Engine, batch: int = REBUILD_BATCH, progress: Callable[[int], None] | None = None
) -> int:
    """Recompute every case's credits from the ledger, a batch a transaction; the count."""
    done, after = 0, ""
    while True:
        with engine.begin() as conn:
            ids = _next_cases(conn, after, batch)
            if not ids:
                _finish(conn)
                return done
            done += recredit(conn, ids)
        after = ids[-1]
        if progress is not None:
            progress(done)


def rebuild_on(conn: Connection, batch: int = REBUILD_BATCH, *, days: bool = True) -> int:
    """``rebuild`` inside one transaction (a migration's); ``days=False`` before the
    groups' days existed (migration 0011 adds them up from the credits)."""
    done, after = 0, ""
    while ids := _next_cases(conn, after, batch):
        done += recredit(conn, ids, days=days)
        after = ids[-1]
    _finish(conn, days=days)
    return done
