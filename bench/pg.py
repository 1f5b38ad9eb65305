"""A throwaway PostgreSQL server for the benchmark, and what a stop must undo.

The server is ``tests.pgkit``'s, the tests' own kit: the source tree has it, an
installed whistle (which packages no tests) does not, and then PostgreSQL is
skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

NOT_HERE = "postgresql: not installed (or no tests.pgkit: run from source)"


@contextmanager
def postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL server's URL (tests.pgkit's), or None if not installed.

    tests.pgkit is the tests' own kit: the source tree has it, an installed whistle
    (which packages no tests) does not, and then PostgreSQL is skipped."""
    try:
        from tests import pgkit
    except ImportError:
        yield None
        return
    if not pgkit.available():
        yield None
        return
    # Not under a private (0700) directory: the postgres user must reach it.
    root = Path(tempfile.mkdtemp(prefix="whistle-bench-pg-"))
    server = pgkit.PostgresServer(root)

    def undo() -> None:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)

    ON_STOP.append(undo)
    try:
        server.init()
        yield server.url
    finally:
        ON_STOP.remove(undo)
        undo()


ON_STOP: list[Callable[[], None]] = []
"""What a stop must undo: the scratch directories, the PostgreSQL server."""


def _stop_cleanly(signum: int, _frame: object) -> None:
    """SIGTERM or SIGINT: stop the PostgreSQL server, remove the scratch directories,
    leave. (An exception raised here could land in a callback that swallows it.)"""
    for undo in reversed(ON_STOP):
        undo()
    os._exit(128 + signum)


def undo_on_stop() -> None:
    """On SIGTERM or SIGINT, undo ``ON_STOP`` before leaving."""
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _stop_cleanly)
