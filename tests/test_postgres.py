"""The SQL side on a real PostgreSQL server as well as SQLite: migrations,
the projection of whole cases, the ledger, principals, and an outage."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from audit.stats import stats
from audit.verify import verify_case
from casework.cases import raise_whistle
from models.case import RaiseWhistle, Withdraw
from models.policy import Policy
from policy.loader import parse_policy
from settings import Settings
from store.principals import add_principal, authenticate, issue_token, revoke_token
from store.reads import case_events, get_case
from store.text_index import include_name
from tests import scenarios
from tests.casekit import (
    aid,
    do,
    final_state,
    report_in,
    state_of,
    until,
    using_queue,
)
from tests.stackkit import QUEUE, running_stack
from worker import ACTIVITY_THREADS, build_worker

PG_QUEUE = "whistle-test-pg"
OUTAGE = parse_policy('[levels.publicity]\nreport_in = "4s"\nresolve = "1h"\n', source="outage")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, engine: Engine) -> Engine:
    chosen: Engine = engine if request.param == "sqlite" else request.getfixturevalue("pg_engine")
    return chosen


def test_migrations_build_exactly_the_models(any_engine: Engine) -> None:
    with any_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_principals_and_tokens(any_engine: Engine) -> None:
    name = f"pg-branch-{aid()[:6]}"
    add_principal(any_engine, name=name, kind="branch", compounds=["Anningyuan"])
    token_id, token = issue_token(any_engine, name, expires_in=timedelta(hours=1))
    principal = authenticate(any_engine, token)
    assert principal is not None and principal.compounds == frozenset({"Anningyuan"})
    assert revoke_token(any_engine, token_id)
    assert authenticate(any_engine, token) is None


async def test_a_whole_case_projects_onto_postgresql(
    env: WorkflowEnvironment, pg_engine: Engine, policy: Policy
) -> None:
    settings = Settings(task_queue=PG_QUEUE)
    with ThreadPoolExecutor(ACTIVITY_THREADS) as executor:
        async with build_worker(env.client, pg_engine, settings, executor):
            case_id = await _on_queue(env.client, env, policy)
            state = await final_state(env.client, case_id)
    rows = case_events(pg_engine, case_id)
    assert [(r.seq, r.kind, r.hash) for r in rows] == [
        (e.seq, e.kind, e.hash) for e in state.events
    ]
    assert verify_case(pg_engine, case_id).ok
    row = get_case(pg_engine, case_id)
    assert row is not None and row.status == "closed" and row.satisfaction == 5
    table = stats(pg_engine, by="compound")["groups"]
    assert table["Anningyuan"]["satisfaction_rate"] == 1.0


async def _on_queue(client: Client, env: WorkflowEnvironment, policy: Policy) -> str:
    """The up-to-joint scenario, raised on the PostgreSQL worker's queue."""
    with using_queue(PG_QUEUE):
        return await scenarios.unresolved_up_to_joint(client, env, policy)


async def test_postgresql_outage_loses_nothing(
    tmp_path: Path, pg_server: Any, pg_engine: Engine
) -> None:
    """A real dev server and ``worker.py`` on PostgreSQL. The database stops
    mid-case: actions are still accepted and a deadline still escalates the case;
    once the database is back every event lands once, in order."""
    async with running_stack(tmp_path, database_url=pg_server.url) as stack:
        client = await stack.server.connect()
        request = RaiseWhistle(
            compound="Anningyuan", level=1, category="fire_safety", title="outage", policy=OUTAGE
        )
        case_id = await raise_whistle(client, request, task_queue=QUEUE)
        for _ in range(200):
            if len(case_events(pg_engine, case_id)) == 2:
                break
            await asyncio.sleep(0.05)
        pg_server.stop("immediate")
        pg_engine.dispose()
        assert _rows_or_none(pg_engine, case_id) is None  # the database is really down
        try:
            await report_in(client, case_id, "police")  # fire_rescue misses its deadline
            state = await until(client, case_id, lambda s: s.level == "emergency", timeout=30)
            await report_in(client, case_id, "fire_rescue")
        finally:
            await asyncio.sleep(2)  # the publisher keeps retrying meanwhile
            pg_server.start()
        pg_engine.dispose()  # drop connections to the old server process
        for _ in range(600):
            state = await state_of(client, case_id)
            rows = await asyncio.to_thread(_rows_or_none, pg_engine, case_id)
            if rows is not None and len(rows) == len(state.events):
                break
            await asyncio.sleep(0.1)
        await do(client, case_id, Withdraw(action_id=aid(), reason="test done"))
        await final_state(client, case_id)
    assert rows is not None
    assert [(r.seq, r.kind, r.hash) for r in rows] == [
        (e.seq, e.kind, e.hash) for e in state.events
    ]
    assert {"reminded", "report_in_missed", "escalated"} <= {r.kind for r in rows}
    assert verify_case(pg_engine, case_id).ok


def _rows_or_none(engine: Engine, case_id: str) -> list[Any] | None:
    try:
        return list(case_events(engine, case_id))
    except Exception:
        return None
