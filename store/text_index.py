"""SQLite's trigram index of what a text search reads, for words that are rare.

A text search walks the list's order until a page of cases match: at once for
common words, through every case for a word one case in a million holds (a case's
number). PostgreSQL has a trigram index for that (migration 0010, ``pg_trgm``);
SQLite has FTS5's trigram tokenizer: a table ``cases_text`` of each case's
searched text (``models.tables.SEARCHED_TEXT_SQL``), kept by triggers on ``cases``
in the transaction that writes the case (migration 0013).

A search of three characters or more first counts its matches there, up to
``RARE``: fewer, and the page is read from those cases alone; as many, and the
walk finds a page within a few thousand rows. Either way the search's own
predicate still decides (``store.case_filters.text_matches``): the index only narrows
where to look, and matches at least what the predicate does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, column, func, select, table, text
from sqlalchemy.engine import Connection

TABLE = "cases_text"
"""The FTS5 table; its shadow tables are named after it (``cases_text_data``, ...)."""
RARE = 2000
"""Fewer matches than this: read the page from the matches."""
TRIGRAM = 3
"""The shortest text the trigram index can look up (in characters)."""

_TEXT = table(TABLE, column("case_id"))


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's ``include_name``: not this index's tables (``cases_text`` and its
    shadow tables), which FTS5 makes and no model declares."""
    ours = name is not None and (name == TABLE or name.startswith(f"{TABLE}_"))
    return not (type_ == "table" and ours)


def _phrase(words: str) -> str:
    """``words`` as one FTS5 phrase: a substring, with quotes doubled."""
    return '"' + words.replace('"', '""') + '"'


def rare_matches(conn: Connection, words: str) -> Select[Any] | None:
    """The case ids whose text holds ``words``, when they are fewer than ``RARE``;
    None when the index does not exist here, cannot look ``words`` up, or they are
    common."""
    if conn.dialect.name != "sqlite" or len(words) < TRIGRAM or "\x00" in words:
        return None  # FTS5 cannot look up a NUL: the walk and the predicate decide
    if not _exists(conn):
        return None
    matched = text(f"{TABLE} MATCH :phrase").bindparams(phrase=_phrase(words))
    ids = select(_TEXT.c.case_id).where(matched)
    found = conn.execute(select(func.count()).select_from(ids.limit(RARE).subquery()))
    return ids if found.scalar_one() < RARE else None


def _exists(conn: Connection) -> bool:
    query = text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name")
    return conn.execute(query, {"name": TABLE}).first() is not None
