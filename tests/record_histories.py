"""Record the history of every path into tests/histories/, for the replay test.

Run after a change that adds a path, never to paper over a replay failure:
``python -m tests.record_histories``. Histories recorded by older code must
stay; a change of commands needs ``workflow.patched`` so they still replay.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from policy.loader import load_policy
from settings import Settings
from store.engine import make_engine
from tests.casekit import TASK_QUEUE
from tests.scenarios import SCENARIOS
from worker import ACTIVITY_THREADS, build_worker

HISTORIES = Path(__file__).parent / "histories"


async def record(names: list[str]) -> None:
    HISTORIES.mkdir(exist_ok=True)
    policy = load_policy()
    server = Path(sys.executable).parent / "temporal-test-server"
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/whistle.db")
        env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(server))
        async with env:
            with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
                worker = build_worker(env.client, engine, Settings(task_queue=TASK_QUEUE), executor)
                async with worker:
                    for name in names:
                        case_id = await SCENARIOS[name](env.client, env, policy)
                        history = await env.client.get_workflow_handle(case_id).fetch_history()
                        path = HISTORIES / f"{name}.json"
                        path.write_text(history.to_json(), encoding="utf-8")
                        print(f"recorded {path.relative_to(Path.cwd())}")
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or list(SCENARIOS)))
