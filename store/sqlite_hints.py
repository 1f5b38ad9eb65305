"""``Select.with_hint(table, "INDEXED BY ix", "sqlite")`` rendered on SQLite.

SQLAlchemy keeps a statement's table hints but its SQLite dialect writes none (only
MySQL's, SQL Server's and Oracle's do). SQLite reads ``cases INDEXED BY ix``: the
named index or an error, never a silent scan. Importing this module registers it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler


@compiles(Table, "sqlite")
def _table_with_hint(element: Table, compiler: SQLCompiler, **kw: Any) -> str:
    rendered: str = compiler.visit_table(element, **kw)  # type: ignore[no-untyped-call]
    hints: dict[Any, str] = kw.get("fromhints") or {}
    if kw.get("asfrom") and element in hints:
        rendered += " " + hints[element]
    return rendered
