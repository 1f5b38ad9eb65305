"""Random lives of cases, as ledgers and as the projection's write batches.

A life starts with a raise and a dispatch and then takes random steps: report-ins
on time or missed (and met late), returns asked for and approved or refused,
re-dispatches, escalations up the whistles with a fresh dispatch, sign-offs,
missed resolve deadlines, resolutions, reopenings with or without a score,
confirmation, withdrawal. ``odd`` makes the steps less orderly than a workflow
would (the assessment must still count them as defined). Used by the
assessment's equivalence test and by ``python -m bench --reads``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from models.case import CaseEvent, EventKind
from models.levels import LEVEL_NAMES
from models.publication import CaseChanges, CaseSummary


@dataclass
class Life:
    case_id: str
    compound: str
    raised_at: datetime
    level: str
    events: list[CaseEvent] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    closed: bool = False

    def add(self, kind: EventKind, minutes: float, unit: str | None = None, **detail: str) -> None:
        at = (self.events[-1].at if self.events else self.raised_at) + timedelta(minutes=minutes)
        self.events.append(
            CaseEvent(
                seq=len(self.events) + 1,
                kind=kind,
                at=at,
                actor=unit or "system",
                level=self.level,
                department=unit,
                to_level=detail.pop("to_level", None),
                detail=detail,
                hash=f"{self.case_id}:{len(self.events) + 1}",
            )
        )

    def summary(self, upto: int) -> CaseSummary:
        """The case as the workflow would publish it after event ``upto``."""
        seen = self.events[:upto]
        last = seen[-1]
        ended = any(e.kind == EventKind.CLOSED for e in seen)
        return CaseSummary(
            case_id=self.case_id,
            compound=self.compound,
            category="fire_lane",
            title=f"{self.case_id}：消防通道被占用",
            level=last.level,
            status="closed" if ended else "in_progress",
            lead=self.units[0] if self.units else None,
            departments=list(self.units),
            raised_by="branch:bench",
            raised_at=self.raised_at,
            updated_at=last.at,
            report_in_deadline=None if ended else last.at + timedelta(hours=2),
            resolve_deadline=None if ended else last.at + timedelta(days=3),
            confirmation_deadline=None,
            satisfaction=None,
            closing="confirmed" if ended else None,
            returns=0,
            redos=0,
            policy_version="bench",
        )

    def batches(self, rng: random.Random, most: int = 4) -> list[CaseChanges]:
        """The life as the workflow publishes it: a few events a batch."""
        out: list[CaseChanges] = []
        done = 0
        while done < len(self.events):
            upto = min(len(self.events), done + rng.randint(1, most))
            out.append(CaseChanges(summary=self.summary(upto), events=self.events[done:upto]))
            done = upto
        return out


def live(
    rng: random.Random,
    case_id: str,
    compound: str,
    pool: list[str],
    raised_at: datetime,
    *,
    odd: float = 0.0,
    steps: int = 8,
    settled: bool = False,
) -> Life:
    """One case's random life; ``pool`` is the units it may go to; ``settled``: it
    has ended (an old case), else one in five is still open."""
    first = rng.choice(LEVEL_NAMES[: 3 if odd == 0 else 4])
    life = Life(case_id, compound, raised_at, first)
    life.add(EventKind.RAISED, 0)
    life.units = rng.sample(pool, rng.randint(1, min(3, len(pool))))
    life.add(EventKind.DISPATCHED, rng.uniform(0, 2), departments=",".join(life.units))
    for _ in range(rng.randint(1, steps)):
        if life.closed:
            break
        _step(rng, life, pool, odd)
    if not life.closed and (settled or rng.random() < 0.8):
        _finish(rng, life)
    return life


def _unit(rng: random.Random, life: Life, pool: list[str], odd: float) -> str:
    return rng.choice(pool) if rng.random() < odd else rng.choice(life.units)


def _step(rng: random.Random, life: Life, pool: list[str], odd: float) -> None:
    roll = rng.random()
    unit = _unit(rng, life, pool, odd)
    late = rng.uniform(1, 600)
    if roll < 0.3:
        life.add(EventKind.REPORTED_IN, rng.uniform(1, 240), unit)
    elif roll < 0.4:
        life.add(EventKind.REPORT_IN_MISSED, late, unit)
    elif roll < 0.5:
        life.add(EventKind.SIGNED_OFF, rng.uniform(30, 3000), unit, outcome="resolved")
    elif roll < 0.55:
        life.add(EventKind.SIGNED_OFF, rng.uniform(30, 3000), unit, outcome="unresolved")
    elif roll < 0.6:
        life.add(EventKind.RESOLVE_MISSED, late, unit)
    elif roll < 0.66:
        life.add(EventKind.RETURN_REQUESTED, 5, unit, reason="not_our_duty")
        if rng.random() < 0.6:
            life.add(EventKind.RETURNED, rng.uniform(10, 600), unit)
            life.units = [u for u in life.units if u != unit] or [rng.choice(pool)]
        else:
            life.add(EventKind.RETURN_REFUSED, rng.uniform(10, 600), unit)
    elif roll < 0.72:
        added = rng.choice(pool)
        removed = rng.choice(life.units) if rng.random() < 0.5 else ""
        life.add(EventKind.REDISPATCHED, rng.uniform(5, 300), added=added, removed=removed)
        life.units = [u for u in life.units if u != removed] + [added]
    elif roll < 0.84 and life.level != LEVEL_NAMES[-1]:
        to = LEVEL_NAMES[LEVEL_NAMES.index(life.level) + 1]
        life.add(EventKind.ESCALATED, late, to_level=to)
        life.level = to
        life.add(EventKind.DISPATCHED, 0, departments=",".join(life.units))
    elif roll < 0.9:
        life.add(EventKind.RESOLVED, rng.uniform(5, 600))
        score = str(rng.randint(1, 5))
        if rng.random() < 0.5:
            life.add(EventKind.REOPENED, rng.uniform(5, 600), satisfaction=score)
        else:
            life.add(EventKind.REOPENED, rng.uniform(5, 600))
    elif roll < 0.95:
        life.add(EventKind.SUPERVISED, rng.uniform(5, 600), unit)
    elif rng.random() < 0.5 + odd:
        life.add(EventKind.WITHDRAWN, rng.uniform(5, 600))
        life.add(EventKind.CLOSED, 0)
        life.closed = True


def _finish(rng: random.Random, life: Life) -> None:
    for unit in life.units:
        if rng.random() < 0.9:
            life.add(EventKind.SIGNED_OFF, rng.uniform(30, 3000), unit, outcome="resolved")
    life.add(EventKind.RESOLVED, 0)
    if rng.random() < 0.85:
        life.add(EventKind.CONFIRMED, rng.uniform(10, 4000), satisfaction=str(rng.randint(1, 5)))
    life.add(EventKind.CLOSED, 0)
    life.closed = True
