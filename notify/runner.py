"""Starting the dispatcher: beside each worker (by default) or as ``whistle notifier``.

Beside the worker means a child process the worker starts, watches and stops, not
a task on the worker's event loop: measured (``bench --notify``), a dispatcher
sharing the worker's interpreter cut its case throughput by three quarters, since
both want the same CPU and lock. A child keeps one command to run and costs the
workflows nothing; if it dies it is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

import structlog
from sqlalchemy.engine import Engine

from notify.channels import load_channels
from notify.dispatcher import Dispatcher
from settings import Settings

RESTART_SECONDS = 5.0
STOP_SECONDS = 30.0
log = structlog.get_logger()


def dispatcher_for(engine: Engine, settings: Settings) -> Dispatcher | None:
    """A dispatcher over the channels file, or None without one. A bad file raises
    ``ChannelsFileError`` naming the channel, the key and the rule: refused at start."""
    if settings.channels_file is None:
        return None
    return Dispatcher(
        engine=engine, settings=settings, channels=load_channels(settings.channels_file)
    )


def _child_env(settings: Settings) -> dict[str, str]:
    """The worker's settings for the child, whether they came from the environment or not."""
    return {
        **os.environ,
        "WHISTLE_DATABASE_URL": settings.sqlalchemy_url(),
        "WHISTLE_CHANNELS_FILE": str(settings.channels_file),
        "WHISTLE_PUBLIC_URL": settings.public_url,
        "WHISTLE_TIMEZONE": settings.timezone,
        "WHISTLE_NOTIFY_MAX_AGE_HOURS": str(settings.notify_max_age_hours),
        "WHISTLE_NOTIFY_LEASE_SECONDS": str(settings.notify_lease_seconds),
        "WHISTLE_LOG_LEVEL": settings.log_level,
    }


async def supervise(settings: Settings, stop: asyncio.Event) -> None:
    """Run ``whistle notifier`` as a child until ``stop``; start it again if it dies."""
    command = [sys.executable, "-c", "from cli.main import main; main()", "notifier"]
    bound = log.bind(process="notifier")
    while not stop.is_set():
        child = await asyncio.create_subprocess_exec(*command, env=_child_env(settings))
        bound.info("notifier started", pid=child.pid)
        waiting = asyncio.create_task(child.wait())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            if child.returncode is None:
                child.terminate()
                try:
                    await asyncio.wait_for(waiting, STOP_SECONDS)
                except TimeoutError:
                    child.kill()
                    await waiting
            break
        stopping.cancel()
        bound.warning("notifier died; starting it again", code=child.returncode)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RESTART_SECONDS)


def start_in_worker(settings: Settings, stop: asyncio.Event) -> asyncio.Task[None] | None:
    """The dispatcher beside the worker, unless it runs on its own or nothing is to be
    sent. A bad channels file stops the worker at start, as it would the notifier."""
    if not settings.notifier_in_worker or settings.channels_file is None:
        return None
    load_channels(settings.channels_file)
    return asyncio.create_task(supervise(settings, stop))
