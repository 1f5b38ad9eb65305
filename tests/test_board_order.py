"""The overdue board orders and cuts in SQL; it must show exactly the cases, in
exactly the order, that reading every overdue case and sorting by the deadline
each missed first gives (randomised cases, every status, missing deadlines)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, delete

from models.case import CaseStatus
from models.tables import CaseRecord
from store.board import _first_missed, overdue_board
from store.case_filters import CaseScope
from store.engine import make_engine

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _maybe(rng: random.Random) -> datetime | None:
    if rng.random() < 0.2:
        return None
    return NOW + timedelta(minutes=rng.randint(-3000, 3000))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_board_cut_in_sql_is_the_board_read_whole(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    rng = random.Random(11)
    if database == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    else:
        engine = request.getfixturevalue("pg_engine")
    rows = [
        CaseRecord(
            case_id=f"board-order-{i:04d}",
            compound=rng.choice(["board-a", "board-b"]),
            category="noise",
            title="t",
            level="emergency",
            status=rng.choice(list(CaseStatus)).value,
            raised_by="branch:x",
            raised_at=NOW - timedelta(days=3),
            updated_at=NOW,
            policy_version="p",
            report_in_deadline=_maybe(rng),
            resolve_deadline=_maybe(rng),
            confirmation_deadline=_maybe(rng),
        )
        for i in range(600)
    ]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(rows)
        session.commit()
    expected = sorted(
        ((found[1], row.case_id, found[0]) for row in rows if (found := _first_missed(row, NOW))),
        key=lambda item: (item[0], item[1]),
    )
    assert len(expected) > 100
    ours = CaseScope(compounds=frozenset({"board-a", "board-b"}))
    for limit in (1, 7, 50, 1000):
        board = overdue_board(engine, ours, NOW, limit=limit)
        got = [(item.due, item.row.case_id, item.deadline) for item in board]
        assert got == expected[:limit]
    only_a = overdue_board(engine, CaseScope(compounds=frozenset({"BOARD-A"})), NOW, limit=1000)
    by_id = {row.case_id: row for row in rows}
    assert [i.row.case_id for i in only_a] == [
        cid for _, cid, _ in expected if by_id[cid].compound == "board-a"
    ]
    with Session(engine) as session:  # a shared database stays as it was
        session.execute(
            delete(CaseRecord).where(col(CaseRecord.case_id).startswith("board-order-"))
        )
        session.commit()
