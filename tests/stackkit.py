"""A real stack in processes: the embedded Temporal server and ``worker.py``,
on one data directory, for tests that kill, restart or load them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest_asyncio
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from casework.search_attributes import ensure_search_attributes
from engine.embedded import EmbeddedTemporal
from tests.ports import free_port

QUEUE = "whistle-faults"


class Stack:
    """An embedded Temporal server and a worker process, on one data directory."""

    def __init__(self, root: Path, **settings: str) -> None:
        """``settings``: more WHISTLE_* variables for the worker, e.g. MAX_CACHED_CASES."""
        self.root = root
        self.settings = {f"WHISTLE_{name.upper()}": value for name, value in settings.items()}
        self.server = EmbeddedTemporal(root / "server", free_port())
        self.db = root / "whistle.db"
        self.worker: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "WHISTLE_TEMPORAL_ADDRESS": self.server.address,
            "WHISTLE_DATABASE_URL": f"sqlite:///{self.db}",
            "WHISTLE_TASK_QUEUE": QUEUE,
            "WHISTLE_LOG_LEVEL": "WARNING",
            **self.settings,
        }

    def start_worker(self) -> None:
        with (self.root / "worker.log").open("ab") as log:
            self.worker = subprocess.Popen(
                [sys.executable, "worker.py"],
                env=self.env(),
                stdout=log,
                stderr=log,
                cwd=Path(__file__).parent.parent,
            )

    async def worker_polling(self, client: Client, timeout: float = 120.0) -> None:
        """Once the worker process polls its queue: its imports and start-up are done."""
        request = DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=QUEUE),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (await client.workflow_service.describe_task_queue(request)).pollers:
            assert loop.time() < deadline, "the worker never polled its queue"
            await asyncio.sleep(0.2)

    def worker_rss_mib(self) -> float:
        assert self.worker is not None
        status = Path(f"/proc/{self.worker.pid}/status").read_text()
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(kib) / 1024

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait()

    def kill_server(self) -> None:
        process = self.server._process
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.server._process = None

    def stop(self) -> None:
        try:
            if self.worker is not None and self.worker.poll() is None:
                self.worker.terminate()
                try:
                    self.worker.wait(30)
                except subprocess.TimeoutExpired:
                    self.worker.kill()
                    self.worker.wait()
        finally:
            self.server.stop()


@asynccontextmanager
async def running_stack(root: Path, **settings: str) -> AsyncIterator[Stack]:
    running = Stack(root, **settings)
    try:
        running.server.start()
        client = await running.server.connect()
        await ensure_search_attributes(client, running.server.namespace)
        running.start_worker()
        yield running
    finally:
        running.stop()


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as running:
        yield running
