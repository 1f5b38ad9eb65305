"""What each sandbox setting catches: strict refuses a workflow's wall-clock
read; passthrough (faster, leaner) does not, which is why the tests run strict."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from settings import Settings
from tests.wallclock import ReadsTheWallClock
from worker import worker_options


async def _first_task_failure(client: Client, sandbox: Literal["strict", "passthrough"]) -> str:
    """The message of the workflow's first failed task, or "" once it completed."""
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    settings = Settings(workflow_sandbox=sandbox)
    with ThreadPoolExecutor(1) as executor:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[ReadsTheWallClock],
            **worker_options(executor, settings),
        ):
            handle = await client.start_workflow(ReadsTheWallClock.run, id=queue, task_queue=queue)
            for _ in range(200):
                async for event in handle.fetch_history_events():
                    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                        await handle.terminate("test over")
                        return event.workflow_task_failed_event_attributes.failure.message
                    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
                        return ""
                await asyncio.sleep(0.05)
    raise AssertionError("the workflow neither failed a task nor completed")


async def test_strict_refuses_the_wall_clock(dev_client: Client) -> None:
    failure = await _first_task_failure(dev_client, "strict")
    assert "Cannot access datetime.datetime.now" in failure


async def test_passthrough_does_not(dev_client: Client) -> None:
    assert await _first_task_failure(dev_client, "passthrough") == ""
