"""Sums kept per bucket (an hour, a group's day) by adding each change's difference.

A writer that recomputes some cases' rows knows their old and new sums per bucket;
it adds ``new - old`` to each bucket's row (made when first needed), in one order of
the buckets, so two writers never wait for each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from store.upserts import insert_for

Bucket = TypeVar("Bucket", bound=tuple[Any, ...])
"""The values of a row's key columns."""


def shift(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    names: Sequence[str],
    old: Mapping[Bucket, Sequence[int]],
    new: Mapping[Bucket, Sequence[int]],
) -> None:
    """Add ``new - old`` (each bucket's summed columns' values) to the rows of ``table``."""
    zero = [0] * len(names)
    changes: list[dict[str, Any]] = []
    for bucket in sorted(set(old) | set(new)):
        before, after = old.get(bucket, zero), new.get(bucket, zero)
        delta = [b - a for a, b in zip(before, after, strict=True)]
        if any(delta):
            changes.append(
                {**dict(zip(keys, bucket, strict=True)), **dict(zip(names, delta, strict=True))}
            )
    if not changes:
        return
    insert = insert_for(conn, table)
    add = {name: table.c[name] + insert.excluded[name] for name in names}
    index = [table.c[key] for key in keys]
    conn.execute(insert.on_conflict_do_update(index_elements=index, set_=add), changes)
