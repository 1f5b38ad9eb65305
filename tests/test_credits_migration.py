"""Migration 0008 credits the cases a database already holds: an upgrade of a
database with a projected ledger gives the assessment a full recomputation gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, insert
from sqlalchemy.engine import Engine

from audit.charging import GROUPINGS
from audit.stats import compute, load_cases, stats
from bench.lives import live
from models.publication import CaseChanges
from models.tables import CaseEventRecord, CaseRecord
from store.engine import alembic_config, migrate
from store.projection import case_values, event_values


def _at(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_an_upgrade_credits_the_cases_already_projected(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    _at(engine, "0007")  # before the credits existed
    rng = random.Random(3)
    with engine.begin() as conn:
        for i in range(60):
            raised = datetime(2026, 10, 1 + i % 28, 9, tzinfo=UTC)
            life = live(rng, f"old-{i:03d}", f"c{i % 4}", ["u1", "u2", "u3"], raised, odd=0.1)
            changes = CaseChanges(summary=life.summary(len(life.events)), events=life.events)
            conn.execute(insert(CaseRecord), [case_values(changes)])
            conn.execute(
                insert(CaseEventRecord), [event_values(life.case_id, e) for e in life.events]
            )
    migrate(engine)
    for by in GROUPINGS:
        kept = stats(engine, by=by)["groups"]
        assert kept and kept == compute(load_cases(engine, None, None), by)
