"""Auditors: archives outlive Temporal's retention, the ledger shows any edit,
replay reports non-determinism, and the red/black list is computed."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError

from audit.archive import archive_case, load_archive
from audit.replay import fetch_history, replay_history
from audit.verify import verify_all, verify_case
from models.case import Confirm, Reopen
from models.ledger import GENESIS, event_hash
from models.policy import Policy
from models.tables import CaseArchiveRecord, CaseEventRecord, CaseRecord
from store.engine import make_engine
from store.reads import get_case
from tests.casekit import aid, do, final_state, raise_case, report_in, sign
from tests.test_replay import DriftedCase


async def closed_case(client: Client, policy: Policy) -> str:
    case_id = await raise_case(client, policy, level="emergency", category="garbage")
    await report_in(client, case_id, "sanitation", "urban_management")
    await sign(client, case_id, "sanitation", "resolved")
    await do(client, case_id, Reopen(action_id=aid(), reason="still dirty"))
    await sign(client, case_id, "sanitation", "resolved")
    await do(client, case_id, Confirm(action_id=aid(), satisfaction=4))
    await final_state(client, case_id)
    return case_id


async def projected(engine: Engine, case_id: str, status: str = "closed") -> CaseRecord:
    for _ in range(200):
        row = get_case(engine, case_id)
        if row is not None and row.status == status:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"{case_id} never projected as {status}")


async def test_archived_case_replays_after_temporal_forgot_it(
    dev_client: Client, engine: Engine, policy: Policy
) -> None:
    case_id = await closed_case(dev_client, policy)
    row = await projected(engine, case_id)
    assert await archive_case(dev_client, engine, row)
    assert not await archive_case(dev_client, engine, row)  # once only
    assert verify_case(engine, case_id).ok and verify_case(engine, case_id).archived

    await dev_client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=dev_client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=case_id),
        )
    )
    for _ in range(1200):  # the server deletes in the background
        try:
            await dev_client.get_workflow_handle(case_id).describe()
        except RPCError:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("Temporal never deleted the case")

    history, source = await fetch_history(dev_client, engine, case_id)
    assert source == "archive"
    report = await replay_history(history, source=source, engine=engine)
    assert report.deterministic and report.failure is None
    assert report.ledger_checked and report.ledger_differences == []
    kinds = [step.event.kind for step in report.steps]
    assert kinds[-2:] == ["confirmed", "closed"] and "reopened" in kinds
    closing = report.steps[-1]
    assert closing.after.status == "closed" and closing.after.satisfaction == 4


async def test_replay_reports_a_non_deterministic_change(
    dev_client: Client, engine: Engine, policy: Policy
) -> None:
    case_id = await closed_case(dev_client, policy)
    history, _ = await fetch_history(dev_client, engine, case_id)
    good = await replay_history(history, source="temporal")
    drifted = await replay_history(history, source="temporal", workflow=DriftedCase)
    assert good.deterministic
    assert not drifted.deterministic and drifted.failure


@pytest_asyncio.fixture(scope="session")
async def archived_case(dev_client: Client, engine: Engine, policy: Policy) -> str:
    case_id = await closed_case(dev_client, policy)
    assert await archive_case(dev_client, engine, await projected(engine, case_id))
    return case_id


@pytest.fixture
def ledger_copy(tmp_path: Path, engine: Engine, archived_case: str) -> Iterator[tuple[Engine, str]]:
    """A private copy of one archived case's rows, to tamper with."""
    with Session(engine) as session:
        archive = session.get(CaseArchiveRecord, archived_case)
        assert archive is not None
        case = session.get(CaseRecord, archive.case_id)
        rows = session.exec(
            select(CaseEventRecord).where(CaseEventRecord.case_id == archive.case_id)
        ).all()
        copies = [
            CaseArchiveRecord.model_validate(archive.model_dump()),
            CaseRecord.model_validate(case.model_dump() if case else {}),
        ]
        copies += [CaseEventRecord.model_validate(r.model_dump()) for r in rows]
    private = make_engine(f"sqlite:///{tmp_path}/ledger.db")
    with Session(private) as session:
        session.add_all(copies)
        session.commit()
    assert verify_case(private, archive.case_id).ok
    yield private, archive.case_id
    private.dispose()


def tamper(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        for statement in sql.split(";"):
            conn.execute(text(statement), params)


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        (
            "UPDATE case_events SET reason = 'paid off' WHERE case_id = :c AND seq = 5",
            "event 5 (signed_off): content does not match its hash",
        ),
        (
            "UPDATE case_events SET actor = 'nobody' WHERE case_id = :c AND seq = 3",
            "event 3 (reported_in): content does not match its hash",
        ),
        ("DELETE FROM case_events WHERE case_id = :c AND seq = 4", "event 4 is missing"),
        (
            "DELETE FROM case_events WHERE case_id = :c AND seq = "
            "(SELECT MAX(seq) FROM case_events WHERE case_id = :c)",
            "the chain ends at event",
        ),
        (
            "UPDATE case_events SET seq = -3 WHERE case_id = :c AND seq = 3;"
            "UPDATE case_events SET seq = 3 WHERE case_id = :c AND seq = 4;"
            "UPDATE case_events SET seq = 4 WHERE case_id = :c AND seq = -3",
            "event 3 (reported_in): content does not match its hash",
        ),
        (
            'UPDATE case_events SET detail = \'{"outcome": "resolved"}\' '
            "WHERE case_id = :c AND kind = 'confirmed'",
            "(confirmed): content does not match its hash",
        ),
    ],
    ids=["edit-reason", "edit-actor", "delete-middle", "delete-last", "reorder", "edit-score"],
)
def test_ledger_tampering_is_detected(
    ledger_copy: tuple[Engine, str], sql: str, problem: str
) -> None:
    engine, case_id = ledger_copy
    tamper(engine, sql, c=case_id)
    verdict = verify_case(engine, case_id)
    assert not verdict.ok and verdict.problem is not None
    assert problem in verdict.problem
    assert [v.case_id for v in verify_all(engine) if not v.ok] == [case_id]


def _raised_event(case_id: str) -> CaseEventRecord:
    """A first event as the projection writes it, with its true hash."""
    row = CaseEventRecord(
        case_id=case_id,
        seq=1,
        kind="raised",
        at=datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
        actor="branch:b",
        level="publicity",
    )
    row.hash = event_hash(GENESIS, case_id, row, {})
    return row


def test_a_case_not_yet_projected_is_not_broken(tmp_path: Path) -> None:
    """A case raised a moment ago has no case row and no events yet: it is not
    yet projected, not broken; events without their case row still are broken."""
    private = make_engine(f"sqlite:///{tmp_path}/fresh.db")
    try:
        fresh = verify_case(private, "just-raised")
        assert not fresh.projected and fresh.problem is None
        assert not fresh.broken and not fresh.ok and fresh.events == 0

        with Session(private) as session:
            session.add(_raised_event("orphan"))
            session.commit()
        orphan = verify_case(private, "orphan")
        assert orphan.projected and orphan.broken and not orphan.ok
        assert orphan.problem == "the case row is missing"
        assert [(v.case_id, v.problem) for v in verify_all(private)] == [
            ("orphan", "the case row is missing")
        ]
    finally:
        private.dispose()


def test_modified_archive_is_detected(ledger_copy: tuple[Engine, str]) -> None:
    engine, case_id = ledger_copy
    loaded = load_archive(engine, case_id)
    assert loaded is not None
    document = json.loads(loaded[1].to_json())
    document["events"][0]["eventTime"] = "2020-01-01T00:00:00Z"
    forged = gzip.compress(json.dumps(document).encode())
    with Session(engine) as session:
        archive = session.get(CaseArchiveRecord, case_id)
        assert archive is not None
        archive.history_gz = forged
        session.add(archive)
        session.commit()
    verdict = verify_case(engine, case_id)
    assert verdict.problem == "archive: the history does not match its hash"


def test_archive_rehashed_but_forged_events_are_detected(ledger_copy: tuple[Engine, str]) -> None:
    """An archive whose history was rewritten and re-hashed must still agree with the ledger."""
    engine, case_id = ledger_copy
    loaded = load_archive(engine, case_id)
    assert loaded is not None
    document = json.loads(loaded[1].to_json())
    completed = document["events"][-1]["workflowExecutionCompletedEventAttributes"]
    payload = completed["result"]["payloads"][0]
    state = json.loads(base64.b64decode(payload["data"]))
    state["events"][4]["reason"] = "rewritten"
    state["events"][4]["hash"] = "f" * 64
    payload["data"] = base64.b64encode(json.dumps(state).encode()).decode()
    raw = json.dumps(document).encode()
    with Session(engine) as session:
        archive = session.get(CaseArchiveRecord, case_id)
        assert archive is not None
        archive.history_gz = gzip.compress(raw)
        archive.history_sha256 = hashlib.sha256(raw).hexdigest()
        session.add(archive)
        session.commit()
    verdict = verify_case(engine, case_id)
    assert verdict.problem == "archive: the events in the archived history differ from the ledger"
