"""Who is charged with what: one case's credits to units, compounds and whistles.

The assessment (``audit.stats``) adds these credits up over a period.

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
- times are kept in whole microseconds and reported in seconds to a tenth: the mean,
  and the nearest-rank 90th percentile (the ceil(0.9 n)-th smallest of n times)
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
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from models.case import EventKind, Outcome
from models.limits import SATISFIED_FROM

GROUPINGS = ("department", "compound", "level")
REACHED = "reached"
"""A grouping of the charts only: escalations by the whistle they reached."""
MEASURES = ("response", "resolution", "satisfaction", "return", "redo", "on_time_completion")
"""Each is counted as hits over units, and reported as ``<measure>_rate``."""
RATES = tuple(f"{measure}_rate" for measure in MEASURES)
TIMED = ("report_in", "resolve")
"""The times, kept in whole microseconds so that every sum is exact."""
NO_KEY = "-"
"""The key of a group with no name (an event without a unit)."""


class CaseFacts(NamedTuple):
    """What charging reads of a case."""

    case_id: str
    compound: str
    level: str
    raised_at: datetime


class EventFacts(NamedTuple):
    """What charging reads of an event; a case's events come in the ledger's order."""

    kind: str
    at: datetime
    level: str
    department: str | None
    to_level: str | None
    detail: str


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def micros(span: timedelta) -> int:
    return span // timedelta(microseconds=1)


@dataclass
class Tally:
    """What one group is charged with, by one case or by many."""

    units: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    times: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    cases: set[str] = field(default_factory=set)
    compounds: set[str] = field(default_factory=set)
    dispatches: int = 0
    escalations: int = 0

    def count(self, measure: str, hit: bool) -> None:
        self.units[measure] += 1
        self.hits[measure] += int(hit)


TallyFor = Callable[[str | None, CaseFacts], Tally]


def tallying(groups: dict[str, Tally]) -> TallyFor:
    """The ``tally`` that charges into ``groups`` (a defaultdict), noting the case and compound."""

    def tally(key: str | None, of: CaseFacts) -> Tally:
        group = groups[key or NO_KEY]
        group.cases.add(of.case_id)
        group.compounds.add(of.compound)
        return group

    return tally


def case_tallies(case: CaseFacts, events: Sequence[EventFacts], by: str) -> dict[str, Tally]:
    """One case's credits to the groups of ``by`` (a grouping, or ``REACHED``)."""
    groups: dict[str, Tally] = defaultdict(Tally)
    tally = tallying(groups)
    if by == REACHED:
        for event in events:
            if event.kind == EventKind.ESCALATED and event.to_level:
                tally(event.to_level, case).escalations += 1
    else:
        credit_case(case, events, by, tally)
    return dict(groups)


@dataclass
class _OnCase:
    """One unit on one case, charged at the end, once it is known whether it left."""

    first_level: str
    dispatched_at: dict[str, datetime] = field(default_factory=dict)
    own: list[tuple[str, str, bool]] = field(default_factory=list)
    """Its own deadlines: (level, measure, met)."""
    late: set[tuple[str, str]] = field(default_factory=set)
    """(level, measure) missed and not met since."""
    report_in_times: list[tuple[str, int]] = field(default_factory=list)
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


def credit_case(case: CaseFacts, events: Sequence[EventFacts], by: str, tally: TallyFor) -> None:
    """Charge ``tally``'s groups of ``by`` with one case (the module's docstring says how)."""

    def key(level: str, unit: str | None) -> str | None:
        return {"department": unit, "compound": case.compound, "level": level}[by]

    final_level = events[-1].level if events else case.level
    if by != "department":
        tally(key(final_level, None), case)  # a whistle blown, whatever became of it
    if any(event.kind == EventKind.WITHDRAWN for event in events):
        return  # charged to no one
    raised_at = utc(events[0].at if events else case.raised_at)
    units: dict[str, _OnCase] = {}
    ended = confirmed = False
    scores: list[bool] = []
    resolutions = reopenings = 0
    resolve_time: int | None = None

    def dispatch(level: str, names: str, at: datetime) -> None:
        for name in filter(None, names.split(",")):
            unit = units.setdefault(name, _OnCase(first_level=level))
            unit.dispatched_at[level] = at
            unit.late = {late for late in unit.late if late[0] != level}  # fresh deadlines
            unit.left = None
            tally(key(level, name), case).count("return", False)

    for event in events:
        at = utc(event.at)
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
            unit.report_in_times.append((level, micros(at - unit.dispatched_at[level])))
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
            if resolve_time is None:
                resolve_time = micros(at - raised_at)
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
        for level, spent in unit.report_in_times:
            tally(key(level, name), case).times["report_in"].append(spent)

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
