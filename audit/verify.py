"""Check the ledger: every case's hash chain, its anchor on the case row, and
its archive. Names the first broken link of each case.

A case raised a moment ago may have neither its case row nor any event in the
projection yet (the projection follows the workflow): that is "not yet
projected", nothing to check and nothing broken. Events without their case row
are a break."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.client import WorkflowHistory

from audit.history import final_state, published_batches
from models.ledger import GENESIS, event_hash
from models.tables import CaseArchiveRecord, CaseEventRecord, CaseRecord


@dataclass(frozen=True)
class Verdict:
    case_id: str
    events: int
    problem: str | None = None
    archived: bool = False
    projected: bool = True
    """False: neither the case row nor any event is in the projection yet."""

    @property
    def ok(self) -> bool:
        """The ledger was checked and holds."""
        return self.projected and self.problem is None

    @property
    def broken(self) -> bool:
        """The ledger was checked and a link is broken (``problem`` names it)."""
        return self.problem is not None


def verify_case(engine: Engine, case_id: str) -> Verdict:
    with Session(engine) as session:
        case = session.get(CaseRecord, case_id)
        rows = list(
            session.exec(
                select(CaseEventRecord)
                .where(CaseEventRecord.case_id == case_id)
                .order_by(col(CaseEventRecord.seq), col(CaseEventRecord.id))
            )
        )
        archive = session.get(CaseArchiveRecord, case_id)
    if case is None and not rows and archive is None:
        return Verdict(case_id, 0, projected=False)
    problem = _chain_problem(case_id, case, rows)
    if problem is None and archive is not None:
        problem = _archive_problem(archive, rows)
    return Verdict(case_id, len(rows), problem, archive is not None)


def _chain_problem(
    case_id: str, case: CaseRecord | None, rows: list[CaseEventRecord]
) -> str | None:
    previous = GENESIS
    for expected, row in enumerate(rows, start=1):
        if row.seq != expected:
            if row.seq < expected:
                return f"event {row.seq} appears twice (at position {expected})"
            return f"event {expected} is missing (the next row is event {row.seq})"
        try:
            detail = json.loads(row.detail)
        except ValueError:
            return f"event {row.seq} ({row.kind}): detail is not valid JSON"
        if event_hash(previous, case_id, row, detail) != row.hash:
            return f"event {row.seq} ({row.kind}): content does not match its hash"
        previous = row.hash
    if case is None:
        return "the case row is missing"
    if case.last_seq != len(rows) or case.head_hash != previous:
        return (
            f"the chain ends at event {len(rows)} but the case row anchors event "
            f"{case.last_seq}: events were deleted or added at the end"
        )
    return None


def _archive_problem(archive: CaseArchiveRecord, rows: list[CaseEventRecord]) -> str | None:
    try:
        text = gzip.decompress(archive.history_gz)
    except OSError:
        return "archive: the stored history cannot be decompressed"
    if hashlib.sha256(text).hexdigest() != archive.history_sha256:
        return "archive: the history does not match its hash"
    head = rows[-1].hash if rows else GENESIS
    if archive.ledger_head_hash != head:
        return "archive: the ledger head recorded at archiving differs from the ledger"
    try:
        history = WorkflowHistory.from_json(archive.case_id, text.decode("utf-8"))
        state = final_state(history)
        events = (
            state.events
            if state is not None
            else [e for batch in published_batches(history) for e in batch.events]
        )
    except Exception as err:  # a damaged archive is this case's problem, not the run's
        return f"archive: the stored history cannot be read ({type(err).__name__})"
    if [e.hash for e in events] != [r.hash for r in rows]:
        return "archive: the events in the archived history differ from the ledger"
    return None


def verify_all(engine: Engine) -> list[Verdict]:
    with Session(engine) as session:
        ids = list(session.exec(select(CaseRecord.case_id).order_by(col(CaseRecord.case_id))))
        orphans = session.exec(
            select(CaseEventRecord.case_id)
            .where(col(CaseEventRecord.case_id).notin_(select(CaseRecord.case_id)))
            .distinct()
        )
        ids += list(orphans)
    return [verify_case(engine, case_id) for case_id in ids]
