"""Assessment of departments, compounds and whistles, computed from the ledger.

Every measure is a share of units, or a time over units:
- response rate: report-ins on time / (on time + missed), per department dispatch
- resolution rate: ended cases that reached a resolution / ended cases
- satisfaction rate: confirmations scoring 4 or 5 / confirmations
- return rate: returns / dispatches
- redo rate: reopenings / resolutions
- on-time completion rate: resolving sign-offs / (resolving sign-offs + missed resolve deadlines)
- time to report in: report-in minus that whistle's dispatch
- time to resolve: resolution minus the raising of the case
- whistles per compound: cases raised / compounds
Departments are credited with the cases they were dispatched to (resolution),
and the cases they signed off as resolved (satisfaction, redo, time to resolve).
Cases count in a period when they were raised in it.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.case import EventKind, Outcome
from models.limits import SATISFIED_FROM
from models.tables import CaseEventRecord, CaseRecord
from store.reads import utc

GROUPINGS = ("department", "compound", "level")
RATES = (
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "return_rate",
    "redo_rate",
    "on_time_completion_rate",
)
RANKED_RATES = ("response_rate", "resolution_rate", "satisfaction_rate")
"""The rates the red and black lists rank by (响应率, 解决率, 满意率), averaged."""


TallyFor = Callable[[str | None, CaseRecord], "Tally"]


@dataclass
class Tally:
    units: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cases: set[str] = field(default_factory=set)
    compounds: set[str] = field(default_factory=set)

    def count(self, measure: str, hit: bool) -> None:
        self.units[measure] += 1
        self.hits[measure] += int(hit)

    def document(self) -> dict[str, Any]:
        result: dict[str, Any] = {"cases": len(self.cases)}
        for name in RATES:
            measure = name.removesuffix("_rate")
            units = self.units.get(measure, 0)
            result[name] = round(self.hits[measure] / units, 4) if units else None
            result[f"{measure}_units"] = units
        for measure in ("report_in", "resolve"):
            values = sorted(self.times.get(measure, []))
            result[f"mean_{measure}_seconds"] = (
                round(sum(values) / len(values), 1) if values else None
            )
            result[f"p90_{measure}_seconds"] = _p90(values)
        result["whistles_per_compound"] = (
            round(len(self.cases) / len(self.compounds), 4) if self.compounds else None
        )
        return result


def _p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile."""
    if not values:
        return None
    return round(values[max(0, math.ceil(0.9 * len(values)) - 1)], 1)


def load_cases(
    engine: Engine, start: datetime | None, end: datetime | None
) -> list[tuple[CaseRecord, list[CaseEventRecord]]]:
    with Session(engine) as session:
        query = select(CaseRecord)
        if start is not None:
            query = query.where(col(CaseRecord.raised_at) >= start)
        if end is not None:
            query = query.where(col(CaseRecord.raised_at) < end)
        cases = list(session.exec(query.order_by(col(CaseRecord.case_id))))
        events: dict[str, list[CaseEventRecord]] = defaultdict(list)
        ids = [c.case_id for c in cases]
        for chunk in range(0, len(ids), 500):
            rows = session.exec(
                select(CaseEventRecord)
                .where(col(CaseEventRecord.case_id).in_(ids[chunk : chunk + 500]))
                .order_by(col(CaseEventRecord.case_id), col(CaseEventRecord.seq))
            )
            for row in rows:
                events[row.case_id].append(row)
    return [(case, events[case.case_id]) for case in cases]


def compute(
    cases: Iterable[tuple[CaseRecord, list[CaseEventRecord]]], by: str
) -> dict[str, dict[str, Any]]:
    if by not in GROUPINGS:
        raise ValueError(f"by: must be one of {', '.join(GROUPINGS)}; got {by!r}")
    groups: dict[str, Tally] = defaultdict(Tally)

    def tally(key: str | None, case: CaseRecord) -> Tally:
        group = groups[key or "-"]
        group.cases.add(case.case_id)
        group.compounds.add(case.compound)
        return group

    for case, events in cases:
        _credit_case(case, events, by, tally)
    return {key: groups[key].document() for key in sorted(groups)}


def _credit_case(case: CaseRecord, events: list[CaseEventRecord], by: str, tally: TallyFor) -> None:
    def key(level: str, department: str | None) -> str | None:
        return {"department": department, "compound": case.compound, "level": level}[by]

    final_level = events[-1].level if events else case.level
    raised_at = utc(events[0].at) if events else utc(case.raised_at)
    dispatched_at: dict[tuple[str, str], datetime] = {}
    dispatched: set[str] = set()
    resolvers: set[str] = set()
    reached_resolution = False
    ended = False
    confirmations: list[bool] = []
    resolutions = 0
    reopenings = 0
    resolve_time: float | None = None
    if by != "department":
        tally(key(final_level, None), case)

    for event in events:
        at = utc(event.at)
        assert at is not None
        detail = json.loads(event.detail)
        dept = event.department
        if event.kind == EventKind.DISPATCHED:
            for name in filter(None, detail.get("departments", "").split(",")):
                dispatched_at[(event.level, name)] = at
                dispatched.add(name)
                tally(key(event.level, name), case).count("return", False)
        elif event.kind == EventKind.REPORTED_IN and dept and (event.level, dept) in dispatched_at:
            group = tally(key(event.level, dept), case)
            group.count("response", True)
            group.times["report_in"].append(
                (at - dispatched_at[(event.level, dept)]).total_seconds()
            )
        elif event.kind == EventKind.REPORT_IN_MISSED and dept:
            tally(key(event.level, dept), case).count("response", False)
        elif event.kind == EventKind.RETURNED and dept:
            group = tally(key(event.level, dept), case)
            group.hits["return"] += 1  # the dispatch already counted as a unit
        elif (
            event.kind == EventKind.SIGNED_OFF
            and dept
            and detail.get("outcome") == Outcome.RESOLVED
        ):
            tally(key(event.level, dept), case).count("on_time_completion", True)
            resolvers.add(dept)
        elif event.kind == EventKind.RESOLVE_MISSED and dept:
            tally(key(event.level, dept), case).count("on_time_completion", False)
        elif event.kind == EventKind.RESOLVED:
            reached_resolution = True
            resolutions += 1
            if resolve_time is None and raised_at is not None:
                resolve_time = (at - raised_at).total_seconds()
        elif event.kind == EventKind.REOPENED:
            reopenings += 1
        elif event.kind == EventKind.CONFIRMED:
            confirmations.append(int(detail.get("satisfaction", "0")) >= SATISFIED_FROM)
        elif event.kind in (EventKind.CLOSED, EventKind.WITHDRAWN):
            ended = True

    targets: list[str | None]
    if by == "department":
        if ended:
            for department in sorted(dispatched):
                tally(department, case).count("resolution", reached_resolution)
        targets = list(sorted(resolvers))
    else:
        if ended:
            tally(key(final_level, None), case).count("resolution", reached_resolution)
        targets = [None]
    for target in targets:
        group = tally(key(final_level, target), case)
        for satisfied in confirmations:
            group.count("satisfaction", satisfied)
        group.units["redo"] += resolutions
        group.hits["redo"] += reopenings
        if resolve_time is not None:
            group.times["resolve"].append(resolve_time)


def red_black(table: dict[str, dict[str, Any]], size: int = 3) -> dict[str, list[dict[str, Any]]]:
    """Top and bottom departments by the three rates (响应率, 解决率, 满意率) averaged."""
    scored = []
    for name, row in table.items():
        rates = [row[r] for r in RANKED_RATES]
        known = [r for r in rates if r is not None]
        if known:
            scored.append({"department": name, "score": round(sum(known) / len(known), 4), **row})
    ranked = sorted(scored, key=lambda r: (-r["score"], r["department"]))
    red = ranked[:size]
    # With few departments the lists would overlap: nobody is on both.
    rest = [r for r in ranked if r not in red]
    black = sorted(rest, key=lambda r: (r["score"], r["department"]))[:size]
    return {"red": red, "black": black}


def stats(
    engine: Engine,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    by: str = "department",
) -> dict[str, Any]:
    table = compute(load_cases(engine, start, end), by)
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "by": by,
        "groups": table,
    }
