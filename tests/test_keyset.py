"""Keyset pagination of the case lists (``store.keyset``), on SQLite and PostgreSQL.

Paging a filtered list by its cursor shows every matching case once, newest first,
while cases keep arriving between the pages; a cursor edited by hand is refused
with a 422 naming ``after``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from api.app import create_app
from cli.main import app
from models.errors import RuleViolation
from models.publication import CaseChanges, CaseSummary
from settings import Settings, get_settings
from store.case_filters import CaseFilter, CaseScope
from store.engine import make_engine
from store.keyset import decode_cursor, encode_cursor
from store.principals import add_principal, issue_token
from store.projection import write_many
from store.reads import COMPOUND_INDEX, FOLDED_INDEX, OPEN_INDEX, OPEN_STATUSES_SQL, search_page
from tests.casekit import aid
from tests.rowkit import case_summary

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
PAGE = 5


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, engine: Engine) -> Engine:
    chosen: Engine = engine if request.param == "sqlite" else request.getfixturevalue("pg_engine")
    return chosen


def summary(case_id: str, compound: str, raised_at: datetime, status: str) -> CaseSummary:
    return case_summary(
        case_id,
        raised_at,
        compound=compound,
        category="parking",
        title=f"keyset {case_id}",
        status=status,
        lead="police",
        departments=["police", "fire_rescue"],
        report_in_deadline=raised_at + timedelta(hours=2),
    )


def project(engine: Engine, compound: str, cases: list[tuple[str, datetime, str]]) -> None:
    write_many(
        engine, [CaseChanges(summary=summary(c, compound, at, status)) for c, at, status in cases]
    )


def order_key(case: tuple[str, datetime, str]) -> tuple[float, str]:
    """The lists' order: newest first, then by case id."""
    return (-case[1].timestamp(), case[0])


def test_paging_by_cursor_shows_every_case_once_while_cases_arrive(any_engine: Engine) -> None:
    compound = f"keyset-{aid()[:8]}"
    tag = aid()[:6]
    # 23 matching cases, 7 of them raised at the same instant (a page ends among them),
    # and cases the filter leaves out: another status, another compound.
    tied = NOW - timedelta(hours=30)
    matching = [
        (f"k{tag}-{i:02d}", NOW - timedelta(hours=3 * i + 1), "in_progress") for i in range(16)
    ]
    matching += [(f"k{tag}-t{i}", tied, "in_progress") for i in (4, 0, 6, 2, 5, 1, 3)]
    others = [(f"k{tag}-closed-{i}", NOW - timedelta(hours=2 * i), "closed") for i in range(6)]
    project(any_engine, compound, matching + others)
    project(any_engine, f"{compound}-elsewhere", [(f"k{tag}-away", NOW, "in_progress")])
    where = CaseFilter(compound=compound, status="in_progress", limit=PAGE)

    seen: list[str] = []
    arrived_later: list[str] = []
    late_but_older: list[tuple[str, datetime, str]] = []
    cursor: str | None = None
    pages = 0
    while True:
        rows, cursor = search_page(
            any_engine, CaseFilter(**{**vars(where), "after": cursor}), CaseScope(), NOW
        )
        pages += 1
        seen += [row.case_id for row in rows]
        assert len(rows) <= PAGE
        if cursor is None:
            break
        assert len(rows) == PAGE
        # Between two pages: a new case (newest: before the cursor, not in later pages),
        # and a case projected late whose place is after the cursor (it must appear).
        newest = f"k{tag}-new-{pages}"
        arrived_later.append(newest)
        older = (f"k{tag}-late-{pages}", NOW - timedelta(days=10, hours=pages), "in_progress")
        late_but_older.append(older)
        project(any_engine, compound, [(newest, NOW + timedelta(minutes=pages), "in_progress")])
        project(any_engine, compound, [older])
        assert pages < 50, "the cursor does not move on"

    expected = [c[0] for c in sorted(matching + late_but_older, key=order_key)]
    assert len(seen) == len(set(seen)), "a case was shown twice"
    assert seen == expected, "every matching case once, newest first, none missed"
    assert not set(arrived_later) & set(seen)
    # The first page, read again now, starts with the cases that arrived meanwhile.
    first, _ = search_page(any_engine, CaseFilter(**{**vars(where), "limit": 3}), CaseScope(), NOW)
    assert [row.case_id for row in first] == arrived_later[::-1][:3]


def test_the_last_full_page_has_no_next(any_engine: Engine) -> None:
    compound = f"keyset-{aid()[:8]}"
    project(
        any_engine,
        compound,
        [(f"e{aid()[:6]}-{i}", NOW - timedelta(hours=i), "closed") for i in range(PAGE)],
    )
    rows, following = search_page(
        any_engine, CaseFilter(compound=compound, limit=PAGE), CaseScope(), NOW
    )
    assert len(rows) == PAGE and following is None


def test_a_cursor_names_a_row_and_nothing_else() -> None:
    when = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(when, "case-1")) == (when, "case-1")
    naive = datetime(2026, 11, 29, 12, 0)  # SQLite's rows: UTC without its zone
    assert decode_cursor(encode_cursor(naive, "c")) == (naive.replace(tzinfo=UTC), "c")
    hostile = (
        encode_cursor(when, "c\x00d"),  # PostgreSQL refuses NUL in a text
        "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzA1OjAwIiwiYyJd",  # year 1 at +05:00: before UTC's
        "eyJhIjoxfQ",  # {"a":1}
    )
    for bad in (
        "",
        "!!!",
        "bm90IGpzb24",
        encode_cursor(when, "c")[:-3],
        "W10",
        "x" * 300,
        *hostile,
    ):
        with pytest.raises(RuleViolation, match=r"^after: "):
            decode_cursor(bad)


async def test_the_api_pages_by_after_and_refuses_a_bad_cursor(engine: Engine) -> None:
    compound = f"keyset-{aid()[:8]}"
    cases = [(f"a{aid()[:6]}-{i}", NOW - timedelta(hours=i), "closed") for i in range(7)]
    project(engine, compound, cases)
    name = f"auditor-keyset-{aid()[:6]}"
    add_principal(engine, name=name, kind="auditor", compounds=[], department=None)
    token = issue_token(engine, name)[1]
    app = create_app(Settings(), engine=engine)
    app.state.engine = engine  # no lifespan here: the lists need no Temporal client
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
        listed: list[str] = []
        query: dict[str, str | int] = {"compound": compound, "limit": 3}
        while True:
            answer = await http.get("/cases", params=query)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            listed += [c["case_id"] for c in page["cases"]]
            if page["next"] is None:
                break
            query["after"] = page["next"]
        assert listed == [c[0] for c in cases]

        bad = await http.get("/cases", params={"after": "not-a-cursor"})
        assert bad.status_code == 422
        (detail,) = bad.json()["detail"]
        assert detail["loc"][-1] == "after" and detail["msg"].startswith("after: ")
        both = await http.get("/cases", params={"after": query["after"], "offset": 3})
        assert both.status_code == 422 and "after" in both.text
        # Old links by offset still work.
        skipped = (await http.get("/cases", params={"compound": compound, "offset": 5})).json()
        assert [c["case_id"] for c in skipped["cases"]] == [c[0] for c in cases[5:]]


def test_the_cli_pages_by_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "whistle.db"
    monkeypatch.setenv("WHISTLE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("WHISTLE_TEMPORAL_ADDRESS", "127.0.0.1:1")
    get_settings.cache_clear()
    try:
        engine = make_engine(f"sqlite:///{path}")
        cases = [(f"c{i}", NOW - timedelta(hours=i), "closed") for i in range(5)]
        project(engine, "cli-keyset", cases)
        engine.dispose()
        runner = CliRunner()
        listed: list[str] = []
        args = ["cases", "--limit", "2", "--json"]
        while True:
            done = runner.invoke(app, args)
            assert done.exit_code == 0, done.output
            page = json.loads(done.stdout)
            listed += [c["case_id"] for c in page["cases"]]
            if "next" not in page:
                break
            args = ["cases", "--limit", "2", "--json", "--after", page["next"]]
        assert listed == [c[0] for c in cases]
        text = runner.invoke(app, ["cases", "--limit", "2"])
        assert text.exit_code == 0 and "more: --after " in text.stderr
        bad = runner.invoke(app, ["cases", "--after", "nonsense"])
        assert bad.exit_code == 2 and "after: " in bad.stderr
    finally:
        get_settings.cache_clear()


def test_the_open_cases_index_is_the_one_the_overdue_query_names(tmp_path: Path) -> None:
    """SQLite uses a partial index only for a query repeating its predicate (and the
    overdue list insists on it): the migrated index must say what the models say, or a
    new open status would make every overdue list fail."""
    engine = make_engine(f"sqlite:///{tmp_path / 'open.db'}")
    with engine.connect() as conn:
        created = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = ?", (OPEN_INDEX,)
        ).scalar_one()
    assert created.endswith(f"WHERE {OPEN_STATUSES_SQL}")
    where = CaseFilter(overdue=True)
    assert search_page(engine, where, CaseScope(), datetime.now(UTC)) == ([], None)
    engine.dispose()


@pytest.mark.parametrize(
    ("where", "scope", "index"),
    [
        (CaseFilter(status="closed", compound="anning"), CaseScope(), COMPOUND_INDEX),
        (CaseFilter(level="emergency", compound="anning"), CaseScope(), COMPOUND_INDEX),
        (CaseFilter(status="closed"), CaseScope(compounds=frozenset({"Anning"})), FOLDED_INDEX),
        (CaseFilter(overdue=True), CaseScope(), OPEN_INDEX),
        (CaseFilter(overdue=True, status="in_progress"), CaseScope(), OPEN_INDEX),
    ],
)
def test_sqlite_reads_the_index_a_list_names(
    tmp_path: Path, where: CaseFilter, scope: CaseScope, index: str
) -> None:
    """SQLite has no statistics to choose by: each list names its index, and the
    statement SQLite is given reads it (its own query plan says so)."""
    plans = _plans(tmp_path, where, scope)
    assert plans and all(f"USING INDEX {index} " in plan for plan in plans), plans


def test_a_streets_compounds_are_not_read_from_a_branchs_index(tmp_path: Path) -> None:
    """A station's fifty compounds from the compounds' index would sort a sixth of the
    cases for one page: the list's order is read instead."""
    street = frozenset(f"s1c{n}" for n in range(50))
    plans = _plans(tmp_path, CaseFilter(), CaseScope(compounds=street))
    assert plans and not any(FOLDED_INDEX in plan for plan in plans), plans
    assert not any("TEMP B-TREE FOR ORDER BY" in plan for plan in plans), plans


def _plans(tmp_path: Path, where: CaseFilter, scope: CaseScope) -> list[str]:
    """SQLite's query plan of each statement ``search_page`` runs."""
    engine = make_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    project(engine, "anning", [("k-1", NOW, "closed"), ("k-2", NOW, "in_progress")])
    run: list[tuple[str, Any]] = []

    def seen(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            run.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    search_page(engine, where, scope, NOW)
    event.remove(engine, "before_cursor_execute", seen)
    plans = []
    with engine.connect() as conn:
        for statement, parameters in run:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plans.append(" | ".join(str(row[-1]) for row in rows) + " ")
    engine.dispose()
    return plans
