"""SQL tables (sqlmodel): the projection of cases, their events and credits, the
notification outbox, and the policies and organisations put in force. The
assessment's credits are in ``models.credit_tables``, the people (principals,
tokens, sign-in) in ``models.people_tables``. Never imported by workflows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from models.case import CaseStatus
from models.limits import (
    CASE_ID_MAX,
    CODE_MAX,
    SHA256_HEX_LEN,
    SOURCE_MAX,
)
from models.text_rules import SHORT_MAX, TITLE_MAX


def when_column(nullable: bool = True) -> Column[datetime]:
    """A time with its zone (UTC, as whistle writes every time)."""
    return Column(DateTime(timezone=True), nullable=nullable)


SEARCHED_TEXT_SQL = "((((title || '\n') || category) || '\n') || compound)"
"""What a text search reads (store.case_filters.SEARCHED_TEXT renders the same expression)."""
COMPOUND_FOLDED_SQL = "lower(compound)"
"""A compound in lower case, as a scope matches it (store.case_filters.compound_in) and the
index of migration 0012 holds it."""
_OPEN = f"status IN ({', '.join(repr(s.value) for s in CaseStatus if s.is_open)})"
"""The open statuses (``CaseStatus.is_open``) as the partial index's predicate; migrations
0010 and 0012 wrote this very text, which SQLite matches a query's predicate against."""


class CaseRecord(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_level", "status", "level"),
        # The latest cases of a status (a station's closed ones) without a scan of them all.
        Index("ix_cases_status_raised_at", "status", "raised_at"),
        # The case lists (store.reads.search_page): each filter in the lists' order,
        # newest first, read from a cursor on (keyset pagination; migration 0010).
        Index("ix_cases_raised_at_case_id", "raised_at", "case_id"),
        Index("ix_cases_level_raised_at", "level", "raised_at", "case_id"),
        Index("ix_cases_compound_raised_at", "compound", "raised_at", "case_id"),
        # A branch's own compound (its scope matches compounds in any letter case).
        Index("ix_cases_compound_folded", text(COMPOUND_FOLDED_SQL), "raised_at", "case_id"),
        # Overdue: only open cases run against a deadline; the query repeats the predicate.
        # The status and deadlines are in it, so a case is judged without reading its row.
        Index(
            "ix_cases_open_raised_at",
            "raised_at",
            "case_id",
            "status",
            "report_in_deadline",
            "resolve_deadline",
            "confirmation_deadline",
            sqlite_where=text(_OPEN),
            postgresql_where=text(_OPEN),
        ),
        # A text search on PostgreSQL: trigrams (pg_trgm, GIN) of what it reads
        # (store.case_filters.SEARCHED_TEXT). Empty on SQLite (WHERE 0 = 1), where it scans.
        Index(
            "ix_cases_text_trgm",
            text(SEARCHED_TEXT_SQL),
            postgresql_using="gin",
            sqlite_where=text("0 = 1"),
        ),
    )

    case_id: str = Field(primary_key=True, max_length=CASE_ID_MAX)
    compound: str = Field(index=True, max_length=SHORT_MAX)
    category: str = Field(max_length=SHORT_MAX)
    title: str = Field(max_length=TITLE_MAX)
    level: str = Field(max_length=20)
    status: str = Field(max_length=30)
    lead: str | None = Field(default=None, max_length=CODE_MAX)
    departments: str = Field(default="", sa_column=Column(Text, nullable=False))
    """Comma-separated department codes."""
    raised_by: str = Field(max_length=SHORT_MAX)
    raised_at: datetime = Field(sa_column=when_column(False))
    updated_at: datetime = Field(sa_column=when_column(False))
    report_in_deadline: datetime | None = Field(default=None, sa_column=when_column())
    resolve_deadline: datetime | None = Field(default=None, sa_column=when_column())
    confirmation_deadline: datetime | None = Field(default=None, sa_column=when_column())
    satisfaction: int | None = None
    closing: str | None = Field(default=None, max_length=30)
    returns: int = 0
    redos: int = 0
    policy_version: str = Field(max_length=40)
    last_seq: int = 0
    head_hash: str = Field(default="", max_length=SHA256_HEX_LEN)
    """Ledger hash of event ``last_seq``: anchors the end of the chain."""


class CaseEventRecord(SQLModel, table=True):
    __tablename__ = "case_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
        # Events of a rare kind (a return asked for) without reading every case's events.
        Index("ix_case_events_kind_case_id", "kind", "case_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, max_length=CASE_ID_MAX)
    seq: int
    kind: str = Field(max_length=40)
    at: datetime = Field(sa_column=when_column(False))
    actor: str = Field(max_length=SHORT_MAX)
    level: str = Field(max_length=20)
    department: str | None = Field(default=None, max_length=CODE_MAX)
    from_level: str | None = Field(default=None, max_length=20)
    to_level: str | None = Field(default=None, max_length=20)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    """JSON object of strings."""
    hash: str = Field(default="", max_length=SHA256_HEX_LEN)
    """SHA-256 over this event and the previous one's hash (see models.ledger)."""


class NotificationRecord(SQLModel, table=True):
    """The outbox: the dispatcher (``notify.dispatcher``) sends each through the
    channels that serve its recipient."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_planned_at", "planned_at"),
        Index("ix_notifications_at", "at"),
        # The few no channel had, newest first, without walking every notification.
        Index(
            "ix_notifications_unsent_at",
            "at",
            sqlite_where=text("unsent_why IS NOT NULL"),
            postgresql_where=text("unsent_why IS NOT NULL"),
        ),
    )

    key: str = Field(primary_key=True, max_length=300)
    case_id: str = Field(index=True, max_length=CASE_ID_MAX)
    department: str = Field(index=True, max_length=CODE_MAX)
    level: str = Field(max_length=20)
    kind: str = Field(max_length=30)
    message: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=when_column(False))
    delivered_at: datetime | None = Field(default=None, sa_column=when_column())
    """When every channel that serves its recipient had it."""
    planned_at: datetime | None = Field(default=None, sa_column=when_column())
    """When the dispatcher chose its channels (``routes`` of them)."""
    routes: int | None = None
    unsent_why: str | None = Field(default=None, max_length=200)
    """Why no channel has it: none serves the recipient, or it was too old when planned."""


class PolicyRecord(SQLModel, table=True):
    """Every policy ever put in force, kept so any case's rules can be read later."""

    __tablename__ = "policies"

    version: str = Field(primary_key=True, max_length=40)
    document: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(max_length=SOURCE_MAX)
    activated_at: datetime = Field(sa_column=when_column(False))


class PolicyActivationRecord(SQLModel, table=True):
    """Each time a policy was put in force, in order: the highest ``id`` is the one
    in force (a key the database counts up, unlike a clock)."""

    __tablename__ = "policy_activations"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(foreign_key="policies.version", max_length=40)
    activated_at: datetime = Field(sa_column=when_column(False))


class OrganisationRecord(SQLModel, table=True):
    """Every organisation (streets, communities, compounds, units) ever put in force."""

    __tablename__ = "organisations"

    version: str = Field(primary_key=True, max_length=40)
    document: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(max_length=SOURCE_MAX)
    activated_at: datetime = Field(sa_column=when_column(False))


class OrganisationActivationRecord(SQLModel, table=True):
    """Each time an organisation was put in force, in order: the highest ``id``
    is the one in force (a key the database counts up, unlike a clock)."""

    __tablename__ = "organisation_activations"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(foreign_key="organisations.version", max_length=40)
    activated_at: datetime = Field(sa_column=when_column(False))


class CaseArchiveRecord(SQLModel, table=True):
    """A closed case's full Temporal history, kept after the server forgets it."""

    __tablename__ = "case_archives"

    case_id: str = Field(primary_key=True, max_length=CASE_ID_MAX)
    run_id: str = Field(max_length=64)
    archived_at: datetime = Field(sa_column=when_column(False))
    code_version: str = Field(max_length=40)
    """Fingerprint of the workflow code that archived it (audit.archive.code_version)."""
    policy_version: str = Field(max_length=40)
    history_events: int
    history_sha256: str = Field(max_length=SHA256_HEX_LEN)
    """SHA-256 of the uncompressed history JSON."""
    ledger_head_hash: str = Field(max_length=SHA256_HEX_LEN)
    history_gz: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class EvidenceFileRecord(SQLModel, table=True):
    """A file uploaded through the workbench, kept by its SHA-256, and the case it
    was uploaded for: a download is allowed to whoever may see that case."""

    __tablename__ = "evidence_files"

    sha256: str = Field(primary_key=True, max_length=SHA256_HEX_LEN)
    case_id: str = Field(primary_key=True, max_length=CASE_ID_MAX)
    content_type: str = Field(max_length=100)
    size: int
    name: str = Field(default="", max_length=SHORT_MAX)
    uploaded_by: str = Field(max_length=SHORT_MAX)
    uploaded_at: datetime = Field(sa_column=when_column(False))


class DeliveryRecord(SQLModel, table=True):
    """One notification sent through one channel (``notify.dispatcher``): pending until
    a send succeeds, failed (a dead letter) after the channel's attempts."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_deliveries_created_at", "created_at"),
        # A status's count and newest, of the district or of a street's compounds, read
        # from ranges of one index (store.delivery_reads), however long the history.
        Index("ix_deliveries_status_created", "status", "created_at"),
        Index("ix_deliveries_status_compound_created", "status", "compound", "created_at"),
        Index("ix_deliveries_delivered_at", "delivered_at"),
    )

    delivery_id: str = Field(primary_key=True, max_length=SHA256_HEX_LEN)
    """Stable across retries (a hash of the notification's key and the channel's name)."""
    notification_key: str = Field(index=True, max_length=300)
    case_id: str = Field(index=True, max_length=CASE_ID_MAX)
    compound: str = Field(default="", max_length=SHORT_MAX)
    """The case's compound in lower case, as a scope matches it (``store.case_filters.compound_in``);
    empty when the projection did not know the case."""
    channel: str = Field(max_length=CODE_MAX)
    recipient: str = Field(max_length=SHORT_MAX)
    contact: str = Field(default="", sa_column=Column(Text, nullable=False))
    """A person on duty's own phones and addresses (JSON); empty for a channel's own list."""
    status: str = Field(max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=when_column(False))
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_column=when_column())
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=when_column(False))
    delivered_at: datetime | None = Field(default=None, sa_column=when_column())
    failed_at: datetime | None = Field(default=None, sa_column=when_column())


class ChannelWindowRecord(SQLModel, table=True):
    """How many sends a channel has had in its current minute, shared by every
    dispatcher, so a robot's rate limit holds however many run."""

    __tablename__ = "channel_windows"

    channel: str = Field(primary_key=True, max_length=CODE_MAX)
    window_start: datetime = Field(sa_column=when_column(False))
    used: int = 0


class DutyShiftRecord(SQLModel, table=True):
    """A shift of a unit's duty roster (值班表, ``notify.roster``)."""

    __tablename__ = "duty_shifts"

    id: int | None = Field(default=None, primary_key=True)
    unit: str = Field(index=True, max_length=CODE_MAX)
    days: str = Field(max_length=40)
    """Comma-separated: mon,tue,..."""
    starts: str = Field(max_length=5)
    ends: str = Field(max_length=5)
    name: str = Field(max_length=SHORT_MAX)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=SHORT_MAX)
    set_at: datetime = Field(sa_column=when_column(False))
