"""The assessment of units, compounds and whistles over a period (考核).

Who is charged with what, and how each rate is counted, is ``audit.charging``'s
docstring. ``stats`` adds the projection's credits up in SQL (``store.assessment``);
``compute`` recomputes the same rows from the ledger in Python, case by case, the
definition the fast path is checked against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from audit.charging import (
    GROUPINGS,
    RATES,
    REACHED,
    CaseFacts,
    EventFacts,
    Tally,
    credit_case,
    tallying,
)
from audit.totals import Totals, document, of_tally
from models.errors import RuleViolation
from models.levels import LEVEL_NAMES
from models.tables import CaseEventRecord, CaseRecord
from store.assessment import Period, totals
from store.district_hours import district_totals
from store.org import org_in_force

__all__ = [
    "GROUPINGS",
    "RATES",
    "compute",
    "district_rates",
    "escalations_by_level",
    "load_cases",
    "stats",
    "unit_kinds",
]

Ledger = list[tuple[CaseFacts, list[EventFacts]]]


def load_cases(engine: Engine, start: datetime | None, end: datetime | None) -> Ledger:
    """Every case raised in [start, end) with its events: for a full recomputation."""
    with Session(engine) as session:
        query = select(CaseRecord)
        # SQLite compares the text it stores (UTC) and drops a bound's offset: a local
        # quarter's bounds must be UTC before they reach it.
        if start is not None:
            query = query.where(col(CaseRecord.raised_at) >= start.astimezone(UTC))
        if end is not None:
            query = query.where(col(CaseRecord.raised_at) < end.astimezone(UTC))
        cases = list(session.exec(query.order_by(col(CaseRecord.case_id))))
        events: dict[str, list[EventFacts]] = defaultdict(list)
        ids = [c.case_id for c in cases]
        for chunk in range(0, len(ids), 500):
            rows = session.exec(
                select(CaseEventRecord)
                .where(col(CaseEventRecord.case_id).in_(ids[chunk : chunk + 500]))
                .order_by(col(CaseEventRecord.case_id), col(CaseEventRecord.seq))
            )
            for row in rows:
                events[row.case_id].append(
                    EventFacts(
                        row.kind, row.at, row.level, row.department, row.to_level, row.detail
                    )
                )
    return [
        (CaseFacts(c.case_id, c.compound, c.level, c.raised_at), events[c.case_id]) for c in cases
    ]


def unit_kinds(engine: Engine) -> dict[str, str]:
    """Unit code -> department kind, from the organisation in force (empty without one)."""
    org = org_in_force(engine)
    return {code: unit.kind for code, unit in org.units.items()} if org else {}


def _kind(by: str, key: str, kinds: Mapping[str, str]) -> str | None:
    return kinds.get(key, key) if by == "department" else None


def compute(
    cases: Iterable[tuple[CaseFacts, list[EventFacts]]],
    by: str,
    kinds: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The rows of ``by``, recomputed case by case; ``kinds`` maps unit codes to kinds."""
    if by not in GROUPINGS:
        raise ValueError(f"by: must be one of {', '.join(GROUPINGS)}; got {by!r}")
    groups: dict[str, Tally] = defaultdict(Tally)
    tally = tallying(groups)
    for case, events in cases:
        credit_case(case, events, by, tally)
    known = kinds or {}
    return {key: document(of_tally(groups[key]), _kind(by, key, known)) for key in sorted(groups)}


def stats(
    engine: Engine,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    by: str = "department",
    kind: str | None = None,
    counts_only: bool = False,
) -> dict[str, Any]:
    """The rows of ``by`` for the cases raised in [start, end); ``kind``: only its units.

    ``counts_only``: the rates, cases and dispatches, with the times and whistles per
    compound left out (None), for the workbench's charts, which show neither."""
    if by not in GROUPINGS:
        raise ValueError(f"by: must be one of {', '.join(GROUPINGS)}; got {by!r}")
    if kind is not None and by != "department":
        raise RuleViolation(f"kind: picks units, so it needs by=department; got by={by}")
    kinds = unit_kinds(engine)
    found = totals(engine, by, [(start, end)], counts_only=counts_only)
    table = {
        key: document(found[(0, key)], _kind(by, key, kinds)) for _, key in sorted(found) if key
    }
    if kind is not None:
        table = {name: row for name, row in table.items() if row["kind"] == kind}
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "by": by,
        "kind": kind,
        "groups": table,
    }


def district_rates(engine: Engine, periods: list[Period]) -> list[dict[str, float | None]]:
    """The whole district's rates in each period (every case's credits once): from
    the hours it was raised in when the bounds are on the hour (quarters), else
    added up over the cases."""
    found = district_totals(engine, periods)
    if found is None:
        pooled = totals(engine, "compound", periods, by_key=False, counts_only=True)
        found = [pooled.get((i, None), Totals()) for i in range(len(periods))]
    return [{rate: document(row, None)[rate] for rate in RATES} for row in found]


def escalations_by_level(
    engine: Engine, start: datetime | None, end: datetime | None
) -> dict[str, int]:
    """Escalations of the cases raised in [start, end), by the whistle they reached."""
    found = totals(engine, REACHED, [(start, end)], counts_only=True)
    reached = {key: row.escalations for (_, key), row in found.items()}
    return {level: reached.get(level, 0) for level in LEVEL_NAMES[1:]}
