"""The ceiling: trivial workflows (one activity each) on the same server and worker."""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Any

from bench.stats import bounded, workflow_tasks
from bench.trivial import CEILING_QUEUE, Trivial

if TYPE_CHECKING:
    from bench.stack import Stack


async def ceiling(stack: Stack, count: int) -> dict[str, Any]:
    prefix = f"trivial-{time.time_ns()}"

    async def one(i: int) -> int:
        result: int = await stack.client.execute_workflow(
            Trivial.run, i, id=f"{prefix}-{i}", task_queue=CEILING_QUEUE
        )
        return result

    started = time.perf_counter()
    await bounded(stack.concurrency * 4, [partial(one, i) for i in range(count)])
    elapsed = time.perf_counter() - started
    sample = await stack.client.get_workflow_handle(f"{prefix}-0").fetch_history()
    tasks = workflow_tasks(sample)
    return {
        "workflows": count,
        "seconds": round(elapsed, 2),
        "workflows_per_second": round(count / elapsed, 2),
        "workflow_tasks_per_workflow": tasks,
        "workflow_tasks_per_second": round(count * tasks / elapsed, 1),
    }
