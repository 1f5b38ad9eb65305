"""Migration 0016 gives the deliveries already sent their case's compound, folded as a
scope matches it, on SQLite and PostgreSQL: a station's reads find its street's old
deliveries after the upgrade as before it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine

from models.tables import CaseRecord, NotificationRecord
from store.delivery_reads import deliveries_by_status, list_deliveries
from store.engine import alembic_config, migrate

AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
CASES = CaseRecord.__table__  # type: ignore[attr-defined]
NOTES = NotificationRecord.__table__  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgresql"])
def old(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at migration 0015, before deliveries kept a compound."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("own_pg_url")
    engine = create_engine(url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0015")
    yield engine
    engine.dispose()


def _plant(engine: Engine) -> None:
    """Two cases, one in a compound written as a branch once wrote it; a delivery each,
    and one of a case the projection never had (the deliveries as 0015 had them: the
    model has the column 0016 adds)."""
    case: dict[str, Any] = {
        "category": "fire_lane",
        "title": "t",
        "level": "emergency",
        "status": "closed",
        "departments": "police_a",
        "raised_by": "branch",
        "raised_at": AT,
        "updated_at": AT,
        "policy_version": "p",
    }
    with engine.begin() as conn:
        for case_id, compound in (("m-1", "AnningYuan"), ("m-2", "xiangyang")):
            conn.execute(insert(CASES), [case | {"case_id": case_id, "compound": compound}])
        for case_id in ("m-1", "m-2", "m-unknown"):
            key = f"{case_id}/0/police_a/dispatch"
            note = {"key": key, "case_id": case_id, "department": "police_a", "at": AT}
            conn.execute(
                insert(NOTES), [note | {"level": "emergency", "kind": "dispatch", "message": "m"}]
            )
            conn.execute(
                text(
                    "INSERT INTO deliveries (delivery_id, notification_key, case_id, channel,"
                    " recipient, contact, status, attempts, next_attempt_at, last_error,"
                    " created_at, delivered_at) VALUES (:id, :key, :case_id, 'wecom', 'police_a',"
                    " '', 'delivered', 1, :at, '', :at, :at)"
                ),
                {"id": f"d-{case_id}", "key": key, "case_id": case_id, "at": AT},
            )


def test_an_upgrade_gives_old_deliveries_their_cases_compound(old: Engine) -> None:
    _plant(old)
    migrate(old)
    with old.connect() as conn:
        rows = conn.execute(text("SELECT case_id, compound FROM deliveries")).tuples().all()
    kept: dict[str, str] = dict(rows)
    assert kept == {"m-1": "anningyuan", "m-2": "xiangyang", "m-unknown": ""}
    street = frozenset({"anningyuan"})
    assert [d.case_id for d in list_deliveries(old, compounds=street)] == ["m-1"]
    assert deliveries_by_status(old, street, now=AT)["delivered"] == 1
