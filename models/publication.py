"""What a case hands to its side-effect activity: the SQL projection and the
notification outbox, written together and idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models.case import CaseEvent

PUBLISH_CASE_CHANGES = "publish_case_changes"
"""Activity name; workflows call it by name so they never import SQL code."""


@dataclass(kw_only=True)
class Notification:
    key: str
    """Idempotency key: the same key is delivered once, whatever the retries."""
    case_id: str
    department: str
    level: str
    kind: str
    message: str
    at: datetime


@dataclass(kw_only=True)
class CaseSummary:
    case_id: str
    compound: str
    category: str
    title: str
    level: str
    status: str
    lead: str | None
    departments: list[str]
    raised_by: str
    raised_at: datetime
    updated_at: datetime
    report_in_deadline: datetime | None
    resolve_deadline: datetime | None
    confirmation_deadline: datetime | None
    satisfaction: int | None
    closing: str | None
    returns: int
    redos: int
    policy_version: str


@dataclass(kw_only=True)
class CaseChanges:
    summary: CaseSummary
    events: list[CaseEvent] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
