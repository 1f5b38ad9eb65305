"""What the notification routes answer: the deliveries of notifications, and the
duty rosters. The other documents are in api.responses; all share its ``Document``."""

from __future__ import annotations

from pydantic import Field

from api.responses import Document, Time
from models.limits import DELIVERED_COUNTED_HOURS


class DeliveryDocument(Document):
    """One notification through one channel (``store.delivery_reads.DeliveryRow``)."""

    delivery_id: str
    """Stable across retries; its first 8+ characters name it when retrying."""
    case_id: str
    kind: str
    channel: str
    recipient: str
    status: str
    """pending, delivered or failed (``store.deliveries.STATUSES``)."""
    attempts: int
    next_attempt_at: Time | None
    delivered_at: Time | None
    failed_at: Time | None
    error: str
    """The last send's error (a failed one's reason)."""


class UnsentDocument(Document):
    """A notification no channel has: none serves its recipient, or it was too old."""

    key: str
    case_id: str
    to: str
    kind: str
    at: Time | None
    why: str


class Notifications(Document):
    """What ``whistle notifications --json`` prints: the counts, the latest
    deliveries, the unsent notifications (only when no status or case is asked for)."""

    counts: dict[str, int] = Field(
        description="Of the deliveries the caller may read: every pending and failed one, "
        f"and those delivered in the last {DELIVERED_COUNTED_HOURS} hours."
    )
    deliveries: list[DeliveryDocument]
    unsent: list[UnsentDocument]


class Retried(Document):
    retried: int
    """Failed deliveries queued again, with a fresh count of attempts."""


class RosterDocument(Document):
    """A unit's duty roster: its shifts, as in the roster file but ``unit``."""

    unit: str
    shifts: list[dict[str, object]]
