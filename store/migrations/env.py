"""Alembic environment: the schema is the sqlmodel tables of models/ (tables.py,
credit_tables.py, people_tables.py)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import models.credit_tables
import models.people_tables
import models.tables  # noqa: F401  (each import registers its tables)
from store.text_index import include_name

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run through store.engine.migrate(), with a connection")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
