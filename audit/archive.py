"""Archive closed cases' Temporal histories into SQL before retention deletes them.

The worker runs ``run_archiver``: it looks for closed or withdrawn cases in the
projection that have no archive yet, and stores each full history (gzip) with
its SHA-256, the workflow code fingerprint and the policy version. Inserting is
idempotent, so any number of workers may run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from logs import case_logger
from models.case import CaseStatus
from models.tables import CaseArchiveRecord, CaseRecord

ARCHIVE_EVERY_SECONDS = 5.0
FINISHED = {
    WorkflowExecutionStatus.COMPLETED,
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.CANCELED,
    WorkflowExecutionStatus.TIMED_OUT,
}

CLOSED_STATUSES = [status.value for status in CaseStatus if not status.is_open]
"""Statuses of a case that takes no more actions: its history is complete."""

NOT_WORKFLOW_CODE = frozenset(
    {
        "tables.py",
        "credit_tables.py",
        "people_tables.py",
        "principals.py",
        "org.py",
        "periods.py",
        "notify.py",
    }
)
"""Modules of models/ that workflows never load: they do not change what a case
does, so they stay out of the fingerprint (tests/test_fingerprint.py checks that
no workflow module imports them)."""


@lru_cache(maxsize=1)
def code_version() -> str:
    """A fingerprint of the workflow code and the data it holds."""
    digest = hashlib.sha256()
    for package in ("workflows", "models"):
        for item in sorted(resources.files(package).iterdir(), key=lambda p: p.name):
            if item.name.endswith(".py") and item.name not in NOT_WORKFLOW_CODE:
                digest.update(item.name.encode() + b"\0" + item.read_bytes())
    return f"wf-{digest.hexdigest()[:12]}"


def unarchived_closed_cases(
    engine: Engine, limit: int = 100, skip: frozenset[str] = frozenset()
) -> list[CaseRecord]:
    """Newest first, so cases that can no longer be archived never block new ones."""
    with Session(engine) as session:
        archived = select(CaseArchiveRecord.case_id)
        query = (
            select(CaseRecord)
            .where(col(CaseRecord.status).in_(CLOSED_STATUSES))
            .where(col(CaseRecord.case_id).notin_(archived))
            .order_by(col(CaseRecord.updated_at).desc())
            .limit(limit + len(skip))
        )
        return [c for c in session.exec(query) if c.case_id not in skip][:limit]


def store_archive(engine: Engine, case: CaseRecord, history: WorkflowHistory, run_id: str) -> bool:
    text = history.to_json().encode("utf-8")
    record = CaseArchiveRecord(
        case_id=case.case_id,
        run_id=run_id,
        archived_at=datetime.now(UTC),
        code_version=code_version(),
        policy_version=case.policy_version,
        history_events=len(history.events),
        history_sha256=hashlib.sha256(text).hexdigest(),
        ledger_head_hash=case.head_hash,
        history_gz=gzip.compress(text, compresslevel=9),
    )
    with Session(engine) as session:
        if session.get(CaseArchiveRecord, case.case_id) is not None:
            return False
        session.add(record)
        try:
            session.commit()
        except IntegrityError:  # another worker archived it meanwhile
            return False
    return True


def load_archive(engine: Engine, case_id: str) -> tuple[CaseArchiveRecord, WorkflowHistory] | None:
    with Session(engine) as session:
        record = session.get(CaseArchiveRecord, case_id)
    if record is None:
        return None
    text = gzip.decompress(record.history_gz).decode("utf-8")
    return record, WorkflowHistory.from_json(case_id, text)


def archived_histories(engine: Engine, batch: int = 200) -> Iterator[list[WorkflowHistory]]:
    """Every archived history, ``batch`` at a time (in case id order), so that a
    district's whole archive never has to fit in memory at once."""
    after = ""
    while True:
        with Session(engine) as session:
            records = session.exec(
                select(CaseArchiveRecord)
                .where(col(CaseArchiveRecord.case_id) > after)
                .order_by(col(CaseArchiveRecord.case_id))
                .limit(batch)
            ).all()
        if not records:
            return
        yield [
            WorkflowHistory.from_json(r.case_id, gzip.decompress(r.history_gz).decode("utf-8"))
            for r in records
        ]
        after = records[-1].case_id


async def archive_case(client: Client, engine: Engine, case: CaseRecord) -> bool:
    """Archive one case once its workflow has finished; False if not yet."""
    handle = client.get_workflow_handle(case.case_id)
    try:
        described = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            _gone.add(case.case_id)  # nothing left to archive from Temporal
            return False
        raise
    if described.status not in FINISHED:
        return False
    history = await handle.fetch_history()
    stored = await asyncio.to_thread(store_archive, engine, case, history, described.run_id or "")
    if stored:
        case_logger(case.case_id).info(
            "case archived", events=len(history.events), code_version=code_version()
        )
    return stored


_gone: set[str] = set()
"""Closed cases Temporal no longer has (past retention before archiving): skipped."""


async def archive_pending(client: Client, engine: Engine) -> int:
    cases = await asyncio.to_thread(unarchived_closed_cases, engine, 100, frozenset(_gone))
    archived = 0
    for case in cases:
        if await archive_case(client, engine, case):
            archived += 1
    return archived


async def run_archiver(
    client: Client, engine: Engine, stop: asyncio.Event, every: float = ARCHIVE_EVERY_SECONDS
) -> None:
    log = structlog.get_logger("whistle.archiver")
    while not stop.is_set():
        try:
            await archive_pending(client, engine)
        except Exception as err:  # keep archiving: the next round retries
            log.warning("archiving failed; will retry", error=str(err))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
