"""The assessment the projection keeps (credits added up in SQL) is exactly the
assessment recomputed from the ledger case by case (``audit.stats.compute``):
randomised lives of cases, less orderly than a workflow's, written batch by batch
through the projection's own write path with retries and late batches, on SQLite
and PostgreSQL, for every grouping and several periods. ``rebuild`` gives the
same credits as the writes did."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from audit.charging import GROUPINGS, RATES, CaseFacts, Tally, credit_case, tallying
from audit.stats import (
    Ledger,
    compute,
    district_rates,
    escalations_by_level,
    load_cases,
    stats,
    unit_kinds,
)
from audit.totals import Totals, document, of_tally
from bench.lives import Life, live
from models.levels import LEVEL_NAMES
from models.periods import quarter_bounds
from models.publication import CaseChanges
from store.assessment import totals
from store.credit_days import DAYS, SUMMED
from store.credits import CREDIT_TIMES, CREDITS, rebuild
from store.district_hours import HOURS
from store.engine import make_engine
from store.projection import write_changes

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = 2031
"""A year no other test raises cases in, nor any later one."""
UNITS = ["police_a", "police_b", "fire_a", "urban_a", "urban_b", "housing_a"]
COMPOUNDS = ["anning", "heping", "xinyuan", "beili"]
UTC_MIDNIGHTS = (datetime(YEAR, 8, 1, tzinfo=UTC), datetime(YEAR, 9, 1, tzinfo=UTC))


def _lives(seed: int, count: int) -> list[Life]:
    rng = random.Random(seed)
    q3, _ = quarter_bounds(f"{YEAR}Q3", ZONE)
    q4, _ = quarter_bounds(f"{YEAR}Q4", ZONE)
    lives = []
    for i in range(count):
        # Some right at the quarter's edge in local time, where UTC is the day before.
        raised = q4 + timedelta(minutes=rng.randint(-90, 90)) if i % 7 == 0 else q3
        if i % 7:
            raised = q3 + timedelta(minutes=rng.randint(0, 180 * 24 * 60))
        if i % 50 == 0:
            raised = q4  # on the very instant a quarter begins
        if i % 50 in (10, 20):  # on a UTC midnight, where a day's sums begin
            raised = UTC_MIDNIGHTS[i % 50 // 10 - 1]
        lives.append(
            live(
                rng,
                f"eq-{seed}-{i:04d}",
                rng.choice(COMPOUNDS),
                UNITS,
                raised.astimezone(UTC),
                odd=0.2,
                steps=12,
            )
        )
    return lives


def _written(engine: Engine, lives: list[Life], seed: int) -> None:
    """Every case's batches, interleaved across cases; some retried, some late."""
    rng = random.Random(seed)
    queues = [life.batches(rng) for life in lives]
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        if len(queue) > 1 and rng.random() < 0.1:
            queue[0], queue[1] = queue[1], queue[0]  # a later batch lands first
        batch: CaseChanges = queue.pop(0)
        write_changes(engine, batch)
        if rng.random() < 0.1:
            write_changes(engine, batch)  # a retried activity


def _periods() -> list[tuple[datetime | None, datetime | None]]:
    """Quarters (whole UTC days and the hours at both ends), an odd start, open ends,
    whole UTC days only, within one UTC day, and across one midnight."""
    q3 = quarter_bounds(f"{YEAR}Q3", ZONE)
    q4 = quarter_bounds(f"{YEAR}Q4", ZONE)
    odd_start = datetime(YEAR, 8, 17, 13, 45, tzinfo=ZONE)
    august, september = UTC_MIDNIGHTS
    return [
        q3,
        q4,
        (q3[0], q4[1]),
        (odd_start, q4[0]),
        (odd_start, None),
        (None, q3[0]),
        (august, september),
        (september + timedelta(hours=1), september + timedelta(hours=23)),
        (september - timedelta(hours=9), september + timedelta(hours=5)),
    ]


def _counts_of(row: dict[str, Any]) -> dict[str, Any]:
    """A row as ``counts_only`` gives it: the times and whistles per compound left out."""
    left_out = {name for name in row if name.endswith("_seconds")} | {"whistles_per_compound"}
    return {name: None if name in left_out else value for name, value in row.items()}


def _district(ledger: Ledger) -> dict[str, Any]:
    """The district's row recomputed: every case charged to one pooled group."""
    pooled: dict[str, Tally] = defaultdict(Tally)
    charge = tallying(pooled)

    def tally(_key: str | None, case: CaseFacts) -> Tally:
        return charge("district", case)

    for case, events in ledger:
        credit_case(case, events, "compound", tally)
    return document(of_tally(pooled["district"]), None)


def _escalations(ledger: Ledger) -> dict[str, int]:
    reached = Counter(
        event.to_level for _, events in ledger for event in events if event.kind == "escalated"
    )
    return {level: reached.get(level, 0) for level in LEVEL_NAMES[1:]}


def _credits(engine: Engine) -> list[tuple[object, ...]]:
    year = (datetime(YEAR, 1, 1, tzinfo=UTC), datetime(YEAR + 1, 1, 2, tzinfo=UTC))
    with engine.connect() as conn:
        rows = []
        for table in (CREDITS, CREDIT_TIMES):
            found = conn.execute(select(table).where(table.c.case_id.like("eq-%")))
            rows += sorted(tuple(row) for row in found)
        hours = conn.execute(select(HOURS).where(HOURS.c.hour.between(*year)))
        rows += sorted(tuple(row) for row in hours)
        days = list(conn.execute(select(DAYS).where(DAYS.c.day.between(*year))).mappings())
    # A day all of whose cases' credits went to another group keeps a row of zeros
    # until a rebuild: the same sums, as long as it is all zeros.
    emptied = [row for row in days if not row["cases"]]
    assert all(not any(row[name] for name in SUMMED) for row in emptied)
    return rows + sorted(tuple(row.values()) for row in days if row["cases"])


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_kept_assessment_is_the_recomputed_one(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if database == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'eq.db'}")
    else:  # of its own: an open start would reach other files' cases in the shared one
        engine = request.getfixturevalue("own_pg_engine")
    seed = 5 if database == "sqlite" else 6
    lives = _lives(seed, 400)
    _written(engine, lives, seed)
    kinds = unit_kinds(engine)
    compared = 0
    for start, end in _periods():
        ledger = load_cases(engine, start, end)
        for by in GROUPINGS:
            kept = stats(engine, start=start, end=end, by=by)["groups"]
            assert kept == compute(ledger, by, kinds), (by, start, end)
            compared += len(kept)
            light = stats(engine, start=start, end=end, by=by, counts_only=True)["groups"]
            assert light == {key: _counts_of(row) for key, row in kept.items()}
        pooled = totals(engine, "compound", [(start, end)], by_key=False)
        assert document(pooled.get((0, None), Totals()), None) == _district(ledger), (start, end)
    assert compared > 50  # the periods held cases in every grouping
    # The quarters are on the hour (the district's hours); the odd period is not.
    for periods in (_periods()[:2], _periods()[3:4]):
        rows = district_rates(engine, periods)
        for (start, end), row in zip(periods, rows, strict=True):
            ledger = load_cases(engine, start, end)
            assert row == {rate: _district(ledger)[rate] for rate in RATES}
            assert escalations_by_level(engine, start, end) == _escalations(ledger)
    with pytest.raises(ValueError, match="periods: must not overlap"):
        district_rates(engine, [_periods()[3], _periods()[4]])
    written = _credits(engine)
    assert rebuild(engine) >= len(lives)
    assert _credits(engine) == written  # including the district's hours
