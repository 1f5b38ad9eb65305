"""Run a whistle worker: ``python worker.py`` (or ``whistle worker``).

Connects to the Temporal cluster and the SQL database named by the settings.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.publish import CasePublisher
from audit.archive import run_archiver
from casework.connection import connect
from casework.search_attributes import ensure_search_attributes
from engine.bytecode import SANDBOXED, compile_workflow_code
from engine.exits import EXIT_BAD_INPUT, EXIT_UNAVAILABLE
from engine.signals import install_stop_signals
from logs import configure_logging
from models.errors import EngineUnavailable
from notify.channels import ChannelsFileError
from notify.runner import start_in_worker
from observe.sdk import sdk_metrics
from observe.worker_http import worker_http
from settings import Settings, get_settings
from store.engine import make_engine
from workflows.case import WhistleCase

ACTIVITY_THREADS = 16


def workflow_runner(settings: Settings) -> SandboxedWorkflowRunner:
    if settings.workflow_sandbox == "passthrough":
        # Modules are no longer re-imported for each case, and so no longer
        # proxied: a wall-clock read in workflow code is no longer refused
        # (tests/test_sandbox.py), nor, presumably, other such calls.
        restrictions = SandboxRestrictions.default.with_passthrough_all_modules()
        return SandboxedWorkflowRunner(restrictions=restrictions)
    return SandboxedWorkflowRunner()


def worker_options(executor: ThreadPoolExecutor, settings: Settings) -> dict[str, Any]:
    """Slots, cache and sandbox of every worker, the benchmark's ceiling worker included."""
    return {
        "activity_executor": executor,
        "max_concurrent_activities": ACTIVITY_THREADS,
        "workflow_runner": workflow_runner(settings),
        "max_cached_workflows": settings.max_cached_cases,
    }


def build_worker(
    client: Client, engine: Engine, settings: Settings, executor: ThreadPoolExecutor
) -> Worker:
    if not compile_workflow_code():
        structlog.get_logger("whistle.worker").warning(
            "workflow bytecode not written: every case will compile the workflow code",
            package=str(SANDBOXED),
        )
    publisher = CasePublisher(engine)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[WhistleCase],
        activities=[publisher.publish_case_changes],
        **worker_options(executor, settings),
    )


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set, then finish in-flight tasks and leave."""
    log = structlog.get_logger("whistle.worker")
    engine = make_engine(settings.sqlalchemy_url())
    # The SDK's metrics come with the worker's HTTP port, which serves them.
    sdk = sdk_metrics() if settings.worker_http_port else None
    client = await connect(settings, sdk.runtime if sdk else None)
    # Cases upsert their search attributes: a namespace without them would wedge every case.
    added = await ensure_search_attributes(client, settings.temporal_namespace)
    if added:
        log.info("search attributes registered", namespace=settings.temporal_namespace, names=added)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(client, engine, settings, executor)
        log.info(
            "worker started",
            address=settings.temporal_address,
            namespace=settings.temporal_namespace,
            task_queue=settings.task_queue,
            http_port=settings.worker_http_port or None,
        )
        # Not ready once stopping: the probes see it drain (work comes by polling Temporal).
        serving = worker_http(
            settings,
            engine=engine,
            client=client,
            is_running=lambda: worker.is_running and not stop.is_set(),
            sdk=sdk,
        )
        async with worker, serving:
            archiver = asyncio.create_task(run_archiver(client, engine, stop))
            notifier = start_in_worker(settings, stop)
            await stop.wait()
            await archiver
            if notifier is not None:
                await notifier
        log.info("worker stopped")
    engine.dispose()


def main(*, log_json: bool = False) -> int:
    """Serve until SIGINT or SIGTERM, with the settings from the environment.

    Returns the exit code: 0 after a clean stop, 4 (unavailable) if the worker
    cannot start.
    """
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json or log_json)

    async def serve() -> None:
        stop = asyncio.Event()
        install_stop_signals(stop)
        await run_worker(settings, stop)

    try:
        asyncio.run(serve())
    except EngineUnavailable as err:
        sys.stderr.write(f"error: worker cannot start: {err}\n")
        return EXIT_UNAVAILABLE
    except ChannelsFileError as err:
        sys.stderr.write(f"error: worker cannot start: {err}\n")
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    code = main()
    # Leave without interpreter teardown (temporalio/sdk-python#300; see cli.main).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
