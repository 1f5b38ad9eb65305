"""Readiness: can this process reach what it serves from (the SQL database, the
Temporal cluster, for the worker its own pollers)?

Each check has a short timeout, so a probe answers within a few seconds whatever
hangs. The answer names what is unreachable and why in a word (a timeout, an
error's class); the error itself, which may carry host names, goes to the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.engine import Engine
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

CHECK_SECONDS = 2.0
"""Each check's limit. A Kubernetes probe waits 1 s by default: give /readyz's
probe ``timeoutSeconds: 3`` so that a slow check answers 503 rather than nothing."""

Check = Callable[[], Awaitable[None]]
"""Returns if the thing is reachable, raises otherwise."""

log = structlog.get_logger("whistle.observe")

IN_FLIGHT_MAX = 4
"""Database checks still waiting (a connect that hangs) beyond which probes answer
at once instead of starting another thread."""
_in_flight = 0


def database_check(engine: Engine) -> Check:
    def select_one() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def check() -> None:
        await _in_daemon_thread(select_one)

    return check


async def _in_daemon_thread(call: Callable[[], None]) -> None:
    """``call`` in a thread of its own: a connect that hangs holds neither a thread of
    the activities or the API's pool, nor the process's exit (a daemon thread)."""
    global _in_flight
    if _in_flight >= IN_FLIGHT_MAX:
        raise TimeoutError("earlier checks still hang")
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        global _in_flight
        _in_flight -= 1
        if not done.done():
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

    def run() -> None:
        error: BaseException | None = None
        try:
            call()
        except BaseException as err:
            error = err
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(settle, error)

    _in_flight += 1
    threading.Thread(target=run, name="whistle-readyz", daemon=True).start()
    await done


def temporal_check(client: Client) -> Check:
    async def check() -> None:
        await client.workflow_service.get_system_info(
            GetSystemInfoRequest(), timeout=timedelta(seconds=CHECK_SECONDS)
        )

    return check


def worker_check(is_running: Callable[[], bool]) -> Check:
    async def check() -> None:
        if not is_running():
            raise RuntimeError("the worker is not polling")

    return check


async def readiness(checks: Mapping[str, Check]) -> tuple[bool, dict[str, Any]]:
    """Run every check at once; (ready, the document a probe answer carries)."""
    names = list(checks)
    results = await asyncio.gather(*(_timed(checks[name]) for name in names))
    failing = {name: why for name, why in zip(names, results, strict=True) if why}
    document: dict[str, Any] = {
        "status": "unavailable" if failing else "ready",
        "checks": {name: results[i] or "ok" for i, name in enumerate(names)},
    }
    if failing:
        document["unreachable"] = sorted(failing)
        log.warning("not ready", unreachable=failing)
    return not failing, document


async def _timed(check: Check) -> str | None:
    """None if reachable, else a word on why."""
    try:
        await asyncio.wait_for(check(), timeout=CHECK_SECONDS + 0.5)
    except TimeoutError:
        return "timeout"
    except Exception as err:
        log.info("readiness check failed", error=str(err).splitlines()[0] if str(err) else "")
        return type(err).__name__
    return None
