"""INSERT … ON CONFLICT, which SQLite and PostgreSQL spell alike but SQLAlchemy
builds per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_for(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT for ``table`` (it has ``on_conflict_do_…``)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"database dialect {dialect!r} is not supported")  # pragma: no cover


def insert_ignoring_duplicates(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert_for(conn, table).on_conflict_do_nothing(), rows)
