"""The case's one side-effect activity: project events and queue notifications."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio import activity

from logs import case_logger
from models.publication import PUBLISH_CASE_CHANGES, CaseChanges
from observe.publishing import observe_projected, unprojected
from store.projection import write_changes


class CasePublisher:
    """Holds the worker's engine; one instance serves every case."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name=PUBLISH_CASE_CHANGES)
    def publish_case_changes(self, changes: CaseChanges) -> None:
        """Write the batch: events, case row and notifications, in one transaction."""
        log = case_logger(changes.summary.case_id).bind(attempt=activity.info().attempt)
        fresh = unprojected(self._engine, changes)  # a retried batch counts nothing
        write_changes(self._engine, changes)
        observe_projected(changes.events, fresh)
        # One line a batch; the events themselves are in the ledger.
        log.info(
            "case changes published",
            events=[f"{e.seq}:{e.kind}" for e in changes.events],
            status=changes.summary.status,
            level=changes.summary.level,
        )
        for note in changes.notifications:
            # The outbox row is the durable record; a delivery channel reads it.
            log.debug(
                "department notified", department=note.department, kind=note.kind, key=note.key
            )
