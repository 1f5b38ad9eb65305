"""One SQLAlchemy engine per process, for SQLite (default) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import create_engine

import models.credit_tables
import models.people_tables
import models.tables  # noqa: F401  (each import registers its tables)


def make_engine(url: str) -> Engine:
    """An engine with the schema in place."""
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Writers wait for each other instead of failing with "database is locked".
        connect_args = {"timeout": 30, "check_same_thread": False}
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine)
    return engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic), idempotently."""
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one moment of the database: several statements
    that must agree (a count, then the value at a rank of it) while writers commit.

    PostgreSQL: a REPEATABLE READ transaction. SQLite: a read transaction begun before
    the first read (pysqlite begins none for reads, so each statement would otherwise
    see the newest commit); it ends with the connection.
    """
    if engine.dialect.name == "postgresql":
        repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with repeatable as conn, conn.begin():
            yield conn
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN")
        yield conn
