"""Notifications under the case load (``python -m bench --notify N``).

The worker runs its dispatcher, as deployed by default, with a channels file of one
webhook serving everyone, to a local receiver in this process. N whole cases run
through the embedded dev server as in the main benchmark; then the run waits until
every notification is delivered. Reported: deliveries per second while the load ran
and after, and the lag from the notification's event (the time the workflow queued
it) to its arrival at the receiver, p50 and p99.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bench import cases as whole_cases
from bench.receiver import Receiver
from bench.stack import Stack
from bench.stats import ms
from models.notify import DELIVERY_HEADER
from store.deliveries import DELIVERIES, NOTIFICATIONS, PENDING
from store.engine import make_engine

SECRET = "bench-secret"
DRAIN_SECONDS = 300.0


def _channels(path: Path, url: str) -> Path:
    path.write_text(
        f'[[channel]]\nname = "everyone"\nkind = "webhook"\nfor = ["*"]\n'
        f'url = "{url}/hook"\nsecret = "{SECRET}"\nrate_per_minute = 10000\n',
        encoding="utf-8",
    )
    return path


def _notifier(scratch: Path, db_url: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    settings = {**os.environ, **env, "WHISTLE_DATABASE_URL": db_url, "WHISTLE_LOG_LEVEL": "WARNING"}
    whistle = str(Path(sys.executable).parent / "whistle")
    with (scratch / "notifier.log").open("ab") as log:
        return subprocess.Popen([whistle, "notifier"], env=settings, stdout=log, stderr=log)


def _waiting(engine: Engine) -> int:
    """Notifications not yet planned, and deliveries not yet delivered."""
    unplanned = select(func.count()).where(NOTIFICATIONS.c.planned_at.is_(None))
    pending = select(func.count()).where(DELIVERIES.c.status == PENDING)
    with engine.connect() as conn:
        return int(conn.execute(unplanned).scalar_one()) + int(conn.execute(pending).scalar_one())


def _queued_at(engine: Engine) -> dict[str, float]:
    """Delivery id -> when its notification was queued (seconds since the epoch)."""
    query = select(DELIVERIES.c.delivery_id, NOTIFICATIONS.c.at).join(
        NOTIFICATIONS, NOTIFICATIONS.c.key == DELIVERIES.c.notification_key
    )
    with engine.connect() as conn:
        return {
            delivery: at.replace(tzinfo=at.tzinfo or UTC).timestamp()
            for delivery, at in conn.execute(query)
        }


async def measure(
    scratch: Path,
    cases: int,
    concurrency: int,
    *,
    own_process: bool = False,
    database_url: str | None = None,
) -> dict[str, Any]:
    """``own_process``: the dispatcher runs as ``whistle notifier``, not in the worker;
    ``database_url``: the projection there (PostgreSQL) instead of a SQLite file."""
    receiver = Receiver().start()
    channels = _channels(scratch / "channels.toml", receiver.url)
    env = {"WHISTLE_CHANNELS_FILE": str(channels), "WHISTLE_PUBLIC_URL": "http://whistle.local"}
    if own_process:
        env["WHISTLE_NOTIFIER_IN_WORKER"] = "false"
    stack = Stack(scratch, concurrency, env=env)
    if database_url is not None:
        stack.db_url = database_url
    notifier: subprocess.Popen[bytes] | None = None
    try:
        await stack.start()
        if own_process:
            notifier = _notifier(scratch, stack.db_url, env)
        began = time.time()
        load, _, _ = await whole_cases.cases(stack, cases)
        load_ended = time.time()
        engine = make_engine(stack.db_url)
        deadline = time.monotonic() + DRAIN_SECONDS
        while _waiting(engine) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        left = _waiting(engine)
        queued = _queued_at(engine)
        engine.dispose()
    finally:
        if notifier is not None:
            notifier.terminate()
            notifier.wait(30)
        stack.stop()
        receiver.close()
    arrivals = [seen for seen in receiver.seen if seen.at >= began]
    lags = [
        seen.at - queued[seen.headers[DELIVERY_HEADER]]
        for seen in arrivals
        if seen.headers.get(DELIVERY_HEADER) in queued
    ]
    during = [seen for seen in arrivals if seen.at <= load_ended]
    last = max((seen.at for seen in arrivals), default=load_ended)
    return {
        "dispatcher": "own process" if own_process else "in the worker",
        "database": "sqlite" if database_url is None else "postgresql",
        "cases": cases,
        "concurrency": concurrency,
        "load": load,
        "deliveries": len(arrivals),
        "distinct_deliveries": len({s.headers.get(DELIVERY_HEADER) for s in arrivals}),
        "left_undelivered": left,
        "deliveries_per_second_during_load": round(len(during) / (load_ended - began), 1),
        "deliveries_per_second_overall": round(len(arrivals) / max(last - began, 1e-9), 1),
        "drain_seconds_after_load": round(max(last - load_ended, 0.0), 1),
        "lag_ms": ms(lags),
    }
