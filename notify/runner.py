"""Starting the dispatcher: from the worker (by default) or as ``whistle notifier``."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from notify.channels import load_channels
from notify.dispatcher import Dispatcher
from settings import Settings


def dispatcher_for(engine: Engine, settings: Settings) -> Dispatcher | None:
    """A dispatcher over the channels file, or None without one. A bad file raises
    ``ChannelsFileError`` naming the channel, the key and the rule: refused at start."""
    if settings.channels_file is None:
        return None
    return Dispatcher(
        engine=engine, settings=settings, channels=load_channels(settings.channels_file)
    )


def start_in_worker(
    engine: Engine, settings: Settings, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """The dispatcher as a task of the worker's loop, unless it runs on its own."""
    if not settings.notifier_in_worker:
        return None
    dispatcher = dispatcher_for(engine, settings)
    return None if dispatcher is None else asyncio.create_task(dispatcher.run(stop))
