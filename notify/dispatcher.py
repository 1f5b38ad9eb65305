"""The dispatcher: drains the outbox into every channel that serves each recipient.

It runs beside each worker by default (a child process, ``notify.runner``) and as
``whistle notifier`` on its own; several may run at once (``store.deliveries`` says
how they share the work). It never holds up a workflow: the workflow only writes
the outbox. A channel that is down delays its
messages, never a deadline.

Delivery is at least once: a delivery keeps its id across retries and
dispatchers. A failed send is tried again after an exponential backoff with
jitter, or when the channel said (429 and Retry-After); after the channel's
attempts it is a dead letter and the station is told. A channel's rate limit
(a WeCom robot takes 20 a minute) is shared by every dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

import httpx
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.case import BRANCH, STATION
from models.notify import (
    BRANCH_RECIPIENT,
    DUTY_RECIPIENT,
    STATION_RECIPIENT,
    Outgoing,
    Recipient,
    SendResult,
)
from models.org import Organisation, street_of
from models.tables import CaseRecord, NotificationRecord
from notify.channels import Channel
from notify.messages import render
from notify.roster import DUTY_KINDS, DUTY_LEVELS, Shift
from notify.routing import channels_for
from notify.senders import send
from settings import Settings
from store import deliveries
from store.deliveries import Claimed, Unplanned
from store.delivery_outcomes import Settled, settle
from store.org import org_in_force
from store.reads import utc
from store.roster import rosters_by_unit
from store.worklist import nearest_of

log = structlog.get_logger()

BASE_DELAY = 5.0
"""Seconds before the first retry; doubled each attempt, with jitter."""
MAX_DELAY = 3600.0
"""No wait between attempts is longer than an hour, whatever a channel asks."""


def backoff(attempts: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait after ``attempts`` failed sends: what the channel asked, else
    an exponential backoff with jitter (half to all of the doubled delay)."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_DELAY)
    doubled: float = BASE_DELAY * 2.0 ** (attempts - 1)
    return min(doubled, MAX_DELAY) * rng.uniform(0.5, 1.0)


def recipient_of(item: Unplanned, org: Organisation | None) -> Recipient | None:
    """The recipient a channel's ``for`` names: a unit (with its kind), a street's
    station or a compound's branch; None when the case's place is unknown."""
    if item.department in (STATION, BRANCH):
        if item.compound is None:
            return None
        if item.department == BRANCH:
            return Recipient(name=BRANCH_RECIPIENT.format(compound=item.compound))
        if org is None or item.compound not in org.compounds:
            return None
        return Recipient(name=STATION_RECIPIENT.format(street=street_of(org, item.compound).code))
    unit = org.units.get(item.department) if org is not None else None
    # Without an organisation, cases go to departments: the code is the kind.
    return Recipient(name=item.department, kind=unit.kind if unit else item.department)


@dataclass
class Dispatcher:
    engine: Engine
    settings: Settings
    channels: Sequence[Channel]
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    batch: int = 50
    lease: timedelta | None = None
    """Default: the setting ``notify_lease_seconds``."""
    poll_seconds: float = 1.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._by_name = {channel.name: channel for channel in self.channels}

        self._log = log.bind(dispatcher=self.owner)

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set: plan, claim, send; wait a little when idle."""
        self._log.info("notifier started", channels=len(self.channels))
        # Robots and gateways are reached directly: a proxy in the environment is ignored.
        async with httpx.AsyncClient(trust_env=False) as http:
            while not stop.is_set():
                try:
                    busy = await self.run_once(http)
                except Exception:  # a database outage: try again, never crash the worker
                    self._log.exception("notifier round failed")
                    busy = 0
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.poll_seconds)
        self._log.info("notifier stopped")

    async def run_once(self, http: httpx.AsyncClient) -> int:
        """One round: plan, claim, send, settle (a transaction each, whatever the
        batch, so the projection's writes wait little for the dispatcher's). Sends
        still running at half the lease are settled later, their lease renewed, so
        no other dispatcher sends them again meanwhile."""
        planned = await asyncio.to_thread(self._plan)
        rates = {channel.name: channel.rate_per_minute for channel in self.channels}
        claimed = await asyncio.to_thread(
            deliveries.claim,
            self.engine,
            self.owner,
            self.clock(),
            self._lease(),
            self.batch,
            rates,
        )
        pending = {asyncio.create_task(self._deliver(http, one)): one for one in claimed}
        waiting: set[asyncio.Task[Settled]] = set(pending)
        while waiting:
            done, waiting = await asyncio.wait(waiting, timeout=self._lease().total_seconds() / 2)
            if done:
                outcomes = [task.result() for task in done]
                await asyncio.to_thread(settle, self.engine, self.owner, self.clock(), outcomes)
            if waiting:
                ids = [pending[task].delivery_id for task in waiting]
                until = self.clock() + self._lease()
                await asyncio.to_thread(deliveries.renew, self.engine, self.owner, ids, until)
        return planned + len(claimed)

    def _lease(self) -> timedelta:
        return self.lease or timedelta(seconds=self.settings.notify_lease_seconds)

    def _plan(self) -> int:
        # Read before planning's transaction: it holds SQLite's one write lock, and a
        # read needing another pooled connection then could wait on the projection's
        # writers, which wait on it.
        org = org_in_force(self.engine)
        rosters = rosters_by_unit(self.engine)
        zone = self.settings.zone()

        def route(item: Unplanned) -> list[tuple[Recipient, list[str]]]:
            recipient = recipient_of(item, org)
            if recipient is None:
                return []
            found = [
                recipient,
                *self._on_duty(item, recipient, rosters.get(item.department, []), zone),
            ]
            routes = [(r, [c.name for c in channels_for(self.channels, r)]) for r in found]
            return [(r, names) for r, names in routes if names]

        max_age = timedelta(hours=self.settings.notify_max_age_hours)
        return deliveries.plan(self.engine, route, self.clock(), max_age, self.batch)

    def _on_duty(
        self, item: Unplanned, unit: Recipient, shifts: list[Shift], zone: tzinfo
    ) -> list[Recipient]:
        """Whoever is on duty at the unit when an emergency whistle's message is queued."""
        if item.level not in DUTY_LEVELS or item.kind not in DUTY_KINDS:
            return []
        if item.department in (STATION, BRANCH):
            return []
        return [
            Recipient(
                name=DUTY_RECIPIENT.format(unit=item.department),
                kind=unit.kind,
                phones=(shift.phone,) if shift.phone else (),
                emails=(shift.email,) if shift.email else (),
            )
            for shift in shifts
            if shift.covers(item.at, zone)
        ]

    async def _deliver(self, http: httpx.AsyncClient, claimed: Claimed) -> Settled:
        """Send one delivery; whatever goes wrong becomes its outcome, never the round's."""
        bound = self._log.bind(case_id=claimed.case_id, delivery=claimed.delivery_id)
        channel = self._by_name.get(claimed.channel)
        if channel is None:
            why = f"channel {claimed.channel!r} is no longer in the channels file"
            bound.warning("delivery failed", error=why)
            return Settled(claimed, ok=False, error=why)
        if claimed.attempts > channel.attempts:  # earlier sends died before their outcome
            return Settled(claimed, ok=False, error=f"{channel.attempts} attempts left no outcome")
        try:
            outgoing = await asyncio.to_thread(self._outgoing, claimed)
            if outgoing is None:
                why = "the notification or its case is no longer in the projection"
                return Settled(claimed, ok=False, error=why)
            result = await send(channel, outgoing, http)
        except Exception as error:  # a sender's bug or a database hiccup: try again later
            bound.exception("delivery crashed", channel=channel.name)
            result = SendResult(ok=False, error=f"{channel.name}: {type(error).__name__}")
        bound.info(
            "delivery sent" if result.ok else "delivery not sent",
            channel=channel.name,
            attempt=claimed.attempts,
            error=result.error or None,
        )
        return self._outcome(claimed, channel, result)

    def _outcome(self, claimed: Claimed, channel: Channel, result: SendResult) -> Settled:
        if result.ok:
            return Settled(claimed, ok=True)
        if result.permanent or claimed.attempts >= channel.attempts:
            return Settled(claimed, ok=False, error=result.error)  # a dead letter
        wait = backoff(claimed.attempts, result.retry_after, self.rng)
        retry_at = self.clock() + timedelta(seconds=wait)
        return Settled(claimed, ok=False, retry_at=retry_at, error=result.error)

    def _outgoing(self, claimed: Claimed) -> Outgoing | None:
        """The message as it reads now (the time left counts down between retries)."""
        with Session(self.engine) as session:
            notification = session.get(NotificationRecord, claimed.notification_key)
            case = session.get(CaseRecord, claimed.case_id)
        if notification is None or case is None:
            return None
        now = self.clock()
        deadline = nearest_of(
            case.status,
            {
                "report_in_deadline": case.report_in_deadline,
                "resolve_deadline": case.resolve_deadline,
                "confirmation_deadline": case.confirmation_deadline,
            },
        )
        url = f"{self.settings.public_url.rstrip('/')}/case/{case.case_id}"
        title, text = render(
            notification.kind,
            notification.level,
            case.title,
            case.case_id,
            notification.message,
            utc(deadline),
            now,
            self.settings.zone(),
            url,
            utc(notification.at),
        )
        return Outgoing(
            delivery_id=claimed.delivery_id,
            case_id=case.case_id,
            kind=notification.kind,
            level=notification.level,
            unit=notification.department,
            recipient=claimed.reached(),
            title=title,
            text=text,
            url=url,
            at=utc(notification.at) or now,
        )
