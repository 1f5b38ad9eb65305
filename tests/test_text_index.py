"""A text search finds what its predicate finds, whichever way it is read.

On SQLite a search of three characters or more first counts its matches in the
trigram index (``store.text_index``): the page is read from them when they are
rare, by walking the list when they are common. Both must give the page the
search's own predicate gives, newest first, with the cursor on, in any letter
case, with quotes and wildcards taken literally; and a case projected a moment
ago is in the index at once (its triggers run in the projection's transaction).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from models.publication import CaseChanges
from store import text_index
from store.case_filters import CaseFilter, CaseScope
from store.engine import make_engine
from store.projection import write_many
from store.reads import search_page
from tests.rowkit import case_summary

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
TITLES = ["消防通道被占用 No.{n}", "Parked CAR blocks gate {n}", '飞线充电 "quoted" 50%_off {n}']


def _fill(engine: Engine, count: int, start: int = 0) -> None:
    batch = [
        CaseChanges(
            summary=case_summary(
                f"ti-{n:04d}",
                NOW - timedelta(minutes=n),
                compound=f"anning{n % 3}",
                category="parking",
                title=TITLES[n % len(TITLES)].format(n=n),
            )
        )
        for n in range(start, start + count)
    ]
    write_many(engine, batch)


def _everything(engine: Engine, words: str) -> list[str]:
    """Every matching case id, page by page, newest first."""
    found: list[str] = []
    after: str | None = None
    while True:
        rows, after = search_page(
            engine, CaseFilter(text=words, limit=7, after=after), CaseScope(), NOW
        )
        found += [row.case_id for row in rows]
        if after is None:
            return found


def _expected(count: int, words: str) -> list[str]:
    """The cases whose text holds ``words`` (ASCII letters in any case), newest first."""
    held = []
    for n in range(count):
        searched = f"{TITLES[n % len(TITLES)].format(n=n)}\nparking\nanning{n % 3}"
        if words.lower() in searched.lower():
            held.append(f"ti-{n:04d}")
    return held


@pytest.fixture
def filled(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'text.db'}")
    _fill(engine, 300)
    return engine


WORDS = [
    "No.123",
    "no.12",
    "car blocks",
    "CAR",
    '"quoted"',
    '"quoted',
    'd" 50',
    "50%_",
    "anning2",
    "消防通道",
    "飞线",
    "zzz",
]


@pytest.mark.parametrize("words", WORDS)
@pytest.mark.parametrize("rare", [10_000, 5])
def test_a_search_finds_what_its_predicate_finds(
    filled: Engine, words: str, rare: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rare`` 10,000: every search reads its matches; 5: most walk the list."""
    monkeypatch.setattr(text_index, "RARE", rare)
    assert _everything(filled, words) == _expected(300, words)


def test_a_rare_search_reads_the_index_and_a_new_case_is_in_it(filled: Engine) -> None:
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(filled, "before_cursor_execute", seen)
    rows, _ = search_page(filled, CaseFilter(text="No.123"), CaseScope(), NOW)
    event.remove(filled, "before_cursor_execute", seen)
    assert [row.case_id for row in rows] == ["ti-0123"]
    assert any(f"{text_index.TABLE} MATCH" in statement for statement in statements)
    _fill(filled, 1, start=1122)  # projected now: its trigger indexed it
    rows, _ = search_page(filled, CaseFilter(text="No.1122"), CaseScope(), NOW)
    assert [row.case_id for row in rows] == ["ti-1122"]
    rewritten = case_summary("ti-0123", NOW, title="改名了", compound="anning0")
    write_many(filled, [CaseChanges(summary=rewritten)])
    assert search_page(filled, CaseFilter(text="No.123"), CaseScope(), NOW)[0] == []
    assert [
        r.case_id for r in search_page(filled, CaseFilter(text="改名了"), CaseScope(), NOW)[0]
    ] == ["ti-0123"]


def test_the_index_is_kept_by_its_triggers_at_the_newest_migration(filled: Engine) -> None:
    """A later migration that rebuilds ``cases`` (SQLite's batch mode) would drop the
    triggers and leave the index to go stale: the schema at head must still have them."""
    with filled.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases'"
        ).scalars()
        triggers = set(found)
    assert triggers >= {f"{text_index.TABLE}_{kind}" for kind in ("insert", "update", "delete")}


def test_a_nul_in_the_words_is_searched_without_the_index(filled: Engine) -> None:
    assert search_page(filled, CaseFilter(text="No.1\x0023"), CaseScope(), NOW) == ([], None)
