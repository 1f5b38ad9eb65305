"""The benchmark's worker process: the whistle worker, plus the ceiling's
trivial workflow on its own task queue with the same worker settings."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

from bench.trivial import CEILING_QUEUE, Trivial, noop
from casework.connection import connect
from engine.signals import install_stop_signals
from logs import configure_logging
from notify.runner import start_in_worker
from settings import get_settings
from store.engine import make_engine
from worker import ACTIVITY_THREADS, build_worker, worker_options


async def serve() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    stop = asyncio.Event()
    install_stop_signals(stop)
    engine = make_engine(settings.sqlalchemy_url())
    client = await connect(settings)
    with (
        ThreadPoolExecutor(ACTIVITY_THREADS) as cases_pool,
        ThreadPoolExecutor(ACTIVITY_THREADS) as ceiling_pool,
    ):
        cases = build_worker(client, engine, settings, cases_pool)
        ceiling = Worker(
            client,
            task_queue=CEILING_QUEUE,
            workflows=[Trivial],
            activities=[noop],
            **worker_options(ceiling_pool, settings),
        )
        async with cases, ceiling:
            notifier = start_in_worker(settings, stop)  # with a channels file
            print("bench worker ready", flush=True)
            await stop.wait()
            if notifier is not None:
                await notifier
    engine.dispose()


if __name__ == "__main__":
    asyncio.run(serve())
