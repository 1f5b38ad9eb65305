"""Record the history of every path into tests/histories/<code version>/.

Run after a change to the workflow or a new path: ``python -m tests.record_histories``.
Each code version keeps its own folder and the replay test replays them all, so
histories recorded by older code must keep replaying: a change of commands
needs ``workflow.patched``. Never re-record to paper over a replay failure.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from audit.archive import code_version
from casework.search_attributes import register
from policy.loader import load_policy
from settings import Settings
from store.engine import make_engine
from tests.casekit import TASK_QUEUE
from tests.scenarios import SCENARIOS
from worker import ACTIVITY_THREADS, build_worker

HISTORIES = Path(__file__).parent / "histories"


async def record(names: list[str]) -> None:
    folder = HISTORIES / code_version()
    folder.mkdir(parents=True, exist_ok=True)
    policy = load_policy()
    server = Path(sys.executable).parent / "temporal-test-server"
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/whistle.db")
        env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(server))
        await register(env.client, env.client.namespace)  # cases set them
        async with env:
            with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
                worker = build_worker(
                    env.client,
                    engine,
                    Settings(task_queue=TASK_QUEUE, workflow_sandbox="strict"),
                    executor,
                )
                async with worker:
                    for name in names:
                        case_id = await SCENARIOS[name](env.client, env, policy)
                        history = await env.client.get_workflow_handle(case_id).fetch_history()
                        path = folder / f"{name}.json"
                        path.write_text(history.to_json(), encoding="utf-8")
                        print(f"recorded {path.relative_to(Path.cwd())}")
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or list(SCENARIOS)))
