"""``store.engine.snapshot``: every read in it sees one moment, while another
connection commits (the assessment reads a count, then the value at a rank of it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from models.publication import CaseChanges
from store.credits import CREDITS
from store.engine import snapshot
from store.projection import write_many
from tests.casekit import aid
from tests.rowkit import case_summary

RAISED = datetime(2032, 5, 1, 9, tzinfo=UTC)
"""A year no other test raises cases in (PostgreSQL's database is shared)."""


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, engine: Engine) -> Engine:
    chosen: Engine = engine if request.param == "sqlite" else request.getfixturevalue("pg_engine")
    return chosen


def _project(engine: Engine, compound: str) -> None:
    write_many(
        engine, [CaseChanges(summary=case_summary(f"snap-{aid()[:10]}", RAISED, compound=compound))]
    )


def test_a_snapshot_does_not_see_a_commit_made_during_it(any_engine: Engine) -> None:
    compound = f"snap-{aid()[:8]}"
    _project(any_engine, compound)
    counted = select(func.count()).select_from(CREDITS).where(CREDITS.c.compound == compound)
    with snapshot(any_engine) as conn:
        before = conn.execute(counted).scalar_one()
        _project(any_engine, compound)  # another connection commits meanwhile
        assert conn.execute(counted).scalar_one() == before > 0
    with any_engine.connect() as conn:
        assert conn.execute(counted).scalar_one() > before
