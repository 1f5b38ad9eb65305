"""Cases per second with one worker and with two (``python -m bench --workers N``).

The same mix of whole lives as the main benchmark, on a fresh stack each time (the
embedded dev server, and SQLite unless a PostgreSQL URL is given): once with one
worker process, once with two on the same task queue. Both runs share this machine's cores with the server,
the database and the driver, so the figures say what a second worker adds here, not
on a machine of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import cases as whole_cases
from bench.stack import Stack


async def one_run(
    scratch: Path, cases: int, concurrency: int, workers: int, database_url: str | None = None
) -> dict[str, Any]:
    stack = Stack(scratch, concurrency)
    if database_url is not None:
        stack.db_url = database_url
    try:
        await stack.start()
        for _ in range(workers - 1):
            await stack.add_worker()
        load, _, _ = await whole_cases.cases(stack, cases)
    finally:
        stack.stop()
    return {"workers": workers, **load}


async def measure(
    scratch: Path, cases: int, concurrency: int, database_url: str | None = None
) -> list[dict[str, Any]]:
    """One worker, then two, each on a Temporal server of its own (on PostgreSQL the
    second run's cases join the first's in the one database)."""
    runs = []
    for workers in (1, 2):
        root = scratch / f"workers-{workers}"
        root.mkdir(parents=True, exist_ok=True)
        runs.append(await one_run(root, cases, concurrency, workers, database_url))
    return runs
