"""The publisher: writes a case's events and notifications out, in order, one
batch at a time, by one activity (the SQL projection and the outbox together).

It runs beside the case's clock as a task of the workflow, so that a database
outage delays the projection, never a deadline.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.ledger import Ledger, summary

with workflow.unsafe.imports_passed_through():
    from models.case import CaseState
    from models.publication import PUBLISH_CASE_CHANGES, CaseChanges

PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,  # never give up: an outage must not lose an event
)


class Publisher:
    def __init__(self, state: CaseState, ledger: Ledger) -> None:
        self.state = state
        self.ledger = ledger
        self.published = 0
        """Events written out so far."""
        self.finished = False
        """Set by the case once no handler can record another event."""

    async def run(self) -> None:
        """Write events and notifications in order, one batch at a time."""
        state = self.state
        outbox = self.ledger.outbox
        while True:
            await workflow.wait_condition(
                lambda: self.published < len(state.events) or self.finished
            )
            if self.published >= len(state.events) and not outbox:
                return
            upto = len(state.events)
            notifications = list(outbox)
            changes = CaseChanges(
                summary=summary(state),
                events=state.events[self.published : upto],
                notifications=notifications,
            )
            # A regular activity, scheduled only once this workflow task commits.
            # (Local activities halved the tasks per case, but a worker killed
            # mid-task left side effects of a task that never committed: a
            # ledger row whose time differed from the replayed event. Reverted.)
            await workflow.execute_activity(
                PUBLISH_CASE_CHANGES,
                changes,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=PUBLISH_RETRY,
            )
            self.published = upto
            del outbox[: len(notifications)]
