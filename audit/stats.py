"""Assessment of units, compounds and whistles, computed from the ledger.

Every measure is a share of units, or a time over units:
- response rate: report-ins on time / (on time + missed), per dispatch of a unit at a whistle
- resolution rate: cases the branch confirmed / ended cases (see below)
- satisfaction rate: scores of 4 or 5 / scores; a score is a confirmation's, or one
  below the policy's redo threshold, which reopens the case (重办) instead
- return rate: approved returns (退单) / dispatches of a unit at a whistle
- redo rate: reopenings / resolutions
- on-time completion rate: resolving sign-offs / (resolving sign-offs + missed resolve deadlines)
- time to report in: report-in minus that unit's dispatch at that whistle
- time to resolve: the first resolution minus the raising of the case
- whistles per compound: cases raised / compounds
- dispatches: the sample, unit-case pairs (a unit dispatched to a case counts once
  however many whistles the case climbed)

Who is charged with what, so that an office can defend it (issue 11):
- A case counts in a period when it was raised in it, in the district's local time.
- Resolution rests on the branch's confirmation, not on the unit's own sign-off: a
  case is resolved when it closed ``confirmed``. The denominator is the cases raised
  in the period that have ended, withdrawn ones excluded; a case still open is in no
  resolution rate yet, a case closed unconfirmed counts as not resolved.
- A withdrawn case is charged to no one: it counts as a whistle blown (cases,
  whistles per compound) and in nothing else, not even the sample.
- A unit whose return was approved (``returned``) and which was not dispatched to
  the case again is not charged with it: its dispatch counts in its sample and its
  return rate, nothing else. A return asked for and refused changes nothing.
- A case's outcome is charged to the units on it when it ended: resolution to each,
  and satisfaction, redo and time to resolve to those that signed it off resolved.
  A unit the station removed (改派) keeps its own deadlines (response, on-time
  completion), not the outcome.
- A missed deadline counts once, however long the unit stays late (the policy may
  keep a late unit at its whistle, supervised): reporting in or signing off after
  the miss at the same whistle adds no unit on time.
- Grouped by department, each row is a unit (the code events carry); its kind is
  the one the organisation in force gives it, else the code itself.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.case import EventKind, Outcome
from models.errors import RuleViolation
from models.limits import SATISFIED_FROM
from models.tables import CaseEventRecord, CaseRecord
from store.org import org_in_force
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

TallyFor = Callable[[str | None, CaseRecord], "Tally"]


@dataclass
class Tally:
    units: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cases: set[str] = field(default_factory=set)
    compounds: set[str] = field(default_factory=set)
    dispatches: int = 0

    def count(self, measure: str, hit: bool) -> None:
        self.units[measure] += 1
        self.hits[measure] += int(hit)

    def document(self, kind: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {
            "cases": len(self.cases),
            "kind": kind,
            "dispatches": self.dispatches,
        }
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
        # SQLite compares the text it stores (UTC) and drops a bound's offset: a local
        # quarter's bounds must be UTC before they reach it.
        if start is not None:
            query = query.where(col(CaseRecord.raised_at) >= start.astimezone(UTC))
        if end is not None:
            query = query.where(col(CaseRecord.raised_at) < end.astimezone(UTC))
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


def unit_kinds(engine: Engine) -> dict[str, str]:
    """Unit code -> department kind, from the organisation in force (empty without one)."""
    org = org_in_force(engine)
    return {code: unit.kind for code, unit in org.units.items()} if org else {}


def compute(
    cases: Iterable[tuple[CaseRecord, list[CaseEventRecord]]],
    by: str,
    kinds: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The rows of ``by``; ``kinds`` maps unit codes to department kinds."""
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
    known = kinds or {}
    return {
        key: groups[key].document(known.get(key, key) if by == "department" else None)
        for key in sorted(groups)
    }


@dataclass
class _OnCase:
    """One unit on one case, charged at the end, once it is known whether it left."""

    first_level: str
    dispatched_at: dict[str, datetime] = field(default_factory=dict)
    own: list[tuple[str, str, bool]] = field(default_factory=list)
    """Its own deadlines: (level, measure, met)."""
    late: set[tuple[str, str]] = field(default_factory=set)
    """(level, measure) missed and not met since."""
    report_in_times: list[tuple[str, float]] = field(default_factory=list)
    resolver: bool = False
    left: EventKind | None = None
    """RETURNED (an approved return) or REDISPATCHED (removed by the station)."""

    def deadline(self, level: str, measure: str, met: bool) -> None:
        """A miss counts once, however long the unit stays late; meeting it late adds nothing."""
        if (level, measure) in self.late:
            if met:
                self.late.discard((level, measure))
            return
        if not met:
            self.late.add((level, measure))
        self.own.append((level, measure, met))


def _credit_case(case: CaseRecord, events: list[CaseEventRecord], by: str, tally: TallyFor) -> None:
    def key(level: str, unit: str | None) -> str | None:
        return {"department": unit, "compound": case.compound, "level": level}[by]

    final_level = events[-1].level if events else case.level
    if by != "department":
        tally(key(final_level, None), case)  # a whistle blown, whatever became of it
    if any(event.kind == EventKind.WITHDRAWN for event in events):
        return  # charged to no one
    raised_at = utc(events[0].at) if events else utc(case.raised_at)
    units: dict[str, _OnCase] = {}
    ended = confirmed = False
    scores: list[bool] = []
    resolutions = reopenings = 0
    resolve_time: float | None = None

    def dispatch(level: str, names: str, at: datetime) -> None:
        for name in filter(None, names.split(",")):
            unit = units.setdefault(name, _OnCase(first_level=level))
            unit.dispatched_at[level] = at
            unit.late = {late for late in unit.late if late[0] != level}  # fresh deadlines
            unit.left = None
            tally(key(level, name), case).count("return", False)

    for event in events:
        at = utc(event.at)
        assert at is not None
        detail = json.loads(event.detail)
        level, unit = event.level, units.get(event.department or "")
        if event.kind == EventKind.DISPATCHED:
            dispatch(level, detail.get("departments", ""), at)
        elif event.kind == EventKind.REDISPATCHED:
            dispatch(level, detail.get("added", ""), at)
            for name in filter(None, detail.get("removed", "").split(",")):
                if name in units:
                    units[name].left = EventKind.REDISPATCHED
        elif (
            unit is not None and event.kind == EventKind.REPORTED_IN and level in unit.dispatched_at
        ):
            unit.deadline(level, "response", True)
            unit.report_in_times.append((level, (at - unit.dispatched_at[level]).total_seconds()))
        elif unit is not None and event.kind == EventKind.REPORT_IN_MISSED:
            unit.deadline(level, "response", False)
        elif unit is not None and event.kind == EventKind.RETURNED:
            unit.left = EventKind.RETURNED
            tally(key(level, event.department), case).hits["return"] += 1  # dispatch counted
        elif (
            unit is not None
            and event.kind == EventKind.SIGNED_OFF
            and detail.get("outcome") == Outcome.RESOLVED
        ):
            unit.deadline(level, "on_time_completion", True)
            unit.resolver = True
        elif unit is not None and event.kind == EventKind.RESOLVE_MISSED:
            unit.deadline(level, "on_time_completion", False)
        elif event.kind == EventKind.RESOLVED:
            resolutions += 1
            if resolve_time is None and raised_at is not None:
                resolve_time = (at - raised_at).total_seconds()
        elif event.kind in (EventKind.CONFIRMED, EventKind.REOPENED):
            confirmed = event.kind == EventKind.CONFIRMED
            reopenings += event.kind == EventKind.REOPENED
            if "satisfaction" in detail:  # a reopening by hand carries no score
                scores.append(int(detail["satisfaction"]) >= SATISFIED_FROM)
        elif event.kind == EventKind.CLOSED:
            ended = True

    for name, unit in units.items():
        tally(key(unit.first_level, name), case).dispatches += 1
        if unit.left == EventKind.RETURNED:
            continue  # the station agreed the case was not its
        for level, measure, met in unit.own:
            tally(key(level, name), case).count(measure, met)
        for level, seconds in unit.report_in_times:
            tally(key(level, name), case).times["report_in"].append(seconds)

    on_at_end = sorted(name for name, unit in units.items() if unit.left is None)
    targets: list[str | None]
    if by == "department":
        for name in on_at_end if ended else []:
            tally(name, case).count("resolution", confirmed)
        targets = [name for name in on_at_end if units[name].resolver]
    else:
        if ended:
            tally(key(final_level, None), case).count("resolution", confirmed)
        targets = [None]
    for target in targets:
        group = tally(key(final_level, target), case)
        for satisfied in scores:
            group.count("satisfaction", satisfied)
        group.units["redo"] += resolutions
        group.hits["redo"] += reopenings
        if resolve_time is not None:
            group.times["resolve"].append(resolve_time)


def stats(
    engine: Engine,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    by: str = "department",
    kind: str | None = None,
) -> dict[str, Any]:
    """The rows of ``by`` for the cases raised in [start, end); ``kind``: only its units."""
    if kind is not None and by != "department":
        raise RuleViolation(f"kind: picks units, so it needs by=department; got by={by}")
    table = compute(load_cases(engine, start, end), by, unit_kinds(engine))
    if kind is not None:
        table = {name: row for name, row in table.items() if row["kind"] == kind}
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "by": by,
        "kind": kind,
        "groups": table,
    }
