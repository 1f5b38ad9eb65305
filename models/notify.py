"""What the notification dispatcher hands a channel, and what it gets back.

The dispatcher (``notify.dispatcher``) reads the outbox, decides which channels
serve each recipient, and sends one ``Outgoing`` per (notification, channel) through
the channel's sender (``notify.senders``), which answers with a ``SendResult``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATION_RECIPIENT = "station:{street}"
"""A street's station, as a channel's ``for`` names it."""
BRANCH_RECIPIENT = "branch:{compound}"
"""A compound's party branch, as a channel's ``for`` names it."""
EVERYONE = "*"
DELIVERY_HEADER = "X-Whistle-Delivery"
"""Carries the delivery id, the same on every retry: receivers drop repeats by it."""
DUTY = "duty"
"""Whoever is on duty at any unit (值班), as a channel's ``for`` names them."""
DUTY_RECIPIENT = "duty:{unit}"
"""Whoever is on duty at one unit."""
DUTY_PREFIX = DUTY_RECIPIENT.split("{")[0]


def is_duty(entry: str) -> bool:
    """Whether a channel's ``for`` entry names people on duty (``duty`` or ``duty:UNIT``)."""
    return entry == DUTY or entry.startswith(DUTY_PREFIX)


@dataclass(frozen=True, kw_only=True)
class Recipient:
    """Who a notification is for, in every form a channel's ``for`` may name them."""

    name: str
    """A unit code, ``station:STREET`` or ``branch:COMPOUND``."""
    kind: str | None = None
    """A unit's department kind (police, fire_rescue...); None for a station or branch."""
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    """A person's own contact (the one on duty): an SMS or mail channel sends there
    instead of to its own list."""

    @property
    def on_duty(self) -> bool:
        return self.name.startswith(DUTY_PREFIX)


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    """One message for one channel: a delivery."""

    delivery_id: str
    """Stable across retries: receivers drop duplicates by it."""
    case_id: str
    kind: str
    """The notification's kind: dispatch, reminder, supervision, overdue..."""
    level: str
    """The whistle: publicity, emergency, enforcement, joint."""
    unit: str
    """The recipient as the outbox names it: a unit code, ``station`` or ``branch``."""
    recipient: Recipient
    title: str
    """A short headline in Chinese (the case's title and the kind)."""
    text: str
    """The whole message in Chinese, with local times and the time left."""
    url: str
    """The case's page on the workbench."""
    at: datetime
    """When the notification was queued."""


@dataclass(frozen=True, kw_only=True)
class SendResult:
    ok: bool
    retry_after: float | None = None
    """Seconds the channel asked to wait (429, Retry-After, a robot's rate limit)."""
    permanent: bool = False
    """Retrying cannot help (a 4xx other than 408 and 429, a refused address)."""
    error: str = ""
    """What went wrong, for the dead-letter list; never a secret."""
