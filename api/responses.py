"""What each route answers, so the OpenAPI schema describes it.

The field names are those of the documents the CLI prints (``--json``) and
existing clients read: ``casework.views`` (a live case, an action's result),
``store.reads`` (a case row of the projection), ``store.board`` (the overdue
board), ``policy.loader``, ``models.principals`` and ``audit.stats``. Times are
ISO 8601 strings, as those documents write them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from models.case import CaseStatus, EventKind

Time = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
LevelName = Annotated[str, Field(examples=["emergency"])]


class Document(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


# --- cases ---------------------------------------------------------------------


class EventDocument(Document):
    """One event of a case's chained history."""

    seq: int
    kind: EventKind
    at: Time | None
    actor: str
    level: LevelName
    department: str | None
    from_level: LevelName | None
    to_level: LevelName | None
    reason: str | None
    detail: dict[str, str]


class DepartmentDocument(Document):
    """One department on the case, at the current whistle."""

    department: str
    dispatched_at: Time | None
    reported_in_at: Time | None
    outcome: str | None
    outcome_at: Time | None
    in_plan: bool | None
    task: str | None
    missed_deadlines: int | None
    pending_extension_seconds: int | None
    kind: str | None
    """The unit's department kind (police, fire_rescue...)."""
    return_requested_at: Time | None
    """A return (退单) awaiting the station's review: asked then; the unit stays."""
    return_reason: str | None
    removed: bool | None
    """Replaced on the case by the station (改派)."""


class DeadlinesDocument(Document):
    report_in: Time | None
    joint_meeting: Time | None
    resolve: Time | None
    confirmation: Time | None


class MeetingDocument(Document):
    """The joint meeting (联席会议) and its plan."""

    held_at: Time | None
    convened_by: str
    attendees: list[str]
    decision: str
    lead: str
    tasks: dict[str, str]
    deadline: Time | None


class CaseDocument(Document):
    """A case (``casework.views``): from its workflow, or from the SQL projection
    once Temporal forgot it or no worker answers (``source``); what the projection
    does not hold is null."""

    case_id: str
    compound: str
    category: str
    title: str
    description: str | None
    location: str | None
    raised_by: str
    raised_at: Time | None
    updated_at: Time | None
    level: LevelName
    status: CaseStatus
    lead: str | None
    departments: list[DepartmentDocument]
    deadlines: DeadlinesDocument
    meeting: MeetingDocument | None
    returns: int
    redos: int
    extension_granted_seconds: int | None
    satisfaction: int | None
    closing: str | None
    policy_version: str
    source: Literal["workflow", "projection"]
    events: list[EventDocument]


class CaseRow(Document):
    """A case as the SQL projection lists it (``store.reads.case_row_document``)."""

    case_id: str
    compound: str
    category: str
    title: str
    level: LevelName
    status: CaseStatus
    lead: str | None
    departments: list[str]
    raised_by: str
    raised_at: Time | None
    updated_at: Time | None
    report_in_deadline: Time | None
    resolve_deadline: Time | None
    confirmation_deadline: Time | None
    satisfaction: int | None
    closing: str | None
    returns: int
    redos: int
    policy_version: str


class CaseList(Document):
    cases: list[CaseRow]
    next: str | None = None
    """The cursor of the next page (give it as ``after``); null on the last page."""


class EventList(Document):
    case_id: str
    events: list[EventDocument]


class Raised(Document):
    """A raised whistle (``casework.views.raised_document``)."""

    case_id: str
    level: LevelName
    policy_version: str
    """The policy the case runs under."""
    duplicate: bool
    """True: the same request with the same Idempotency-Key; nothing new was raised."""


class ActionDocument(Document):
    """What an action did (``casework.views.action_document``)."""

    case_id: str
    level: LevelName
    status: CaseStatus
    duplicate: bool
    """True: a repeat of an applied action (same Idempotency-Key); applied once."""
    events: list[EventDocument]
    """The events the action caused."""


# --- the station's board ------------------------------------------------------


class OverdueRow(Document):
    """An open case past a deadline (``store.board.board_document``)."""

    case_id: str
    compound: str
    street: str | None
    """The compound's street in the organisation in force; null if it names none."""
    title: str
    level: LevelName
    status: CaseStatus
    lead: str | None
    deadline: str
    """The deadline missed first: report_in, joint_meeting, resolve or confirmation."""
    due: Time
    overdue_seconds: int


class OverdueBoard(Document):
    at: Time
    """When the board was read; ``overdue_seconds`` counts to it."""
    cases: list[OverdueRow]
    """Most overdue first."""


# --- assessment ------------------------------------------------------------------


class StatsRow(Document):
    """One group's rates (a share, or null without units), unit counts and times.

    Who is charged with what: ``audit.charging``."""

    cases: int
    kind: str | None
    """By department: the unit's department kind (police...); otherwise null."""
    dispatches: int
    """The sample: unit-case pairs, each unit counted once per case."""
    response_rate: float | None
    response_units: int
    resolution_rate: float | None
    """Cases the branch confirmed / ended cases (withdrawn ones charged to no one)."""
    resolution_units: int
    satisfaction_rate: float | None
    satisfaction_units: int
    return_rate: float | None
    return_units: int
    redo_rate: float | None
    redo_units: int
    on_time_completion_rate: float | None
    on_time_completion_units: int
    mean_report_in_seconds: float | None
    p90_report_in_seconds: float | None
    mean_resolve_seconds: float | None
    p90_resolve_seconds: float | None
    whistles_per_compound: float | None


class Stats(Document):
    start: Time | None = Field(alias="from")
    end: Time | None = Field(alias="to")
    by: str
    kind: str | None
    """Only the units of this department kind (with ``by=department``)."""
    groups: dict[str, StatsRow]


class RankedRow(StatsRow):
    unit: str
    score: float
    """See ``formula``."""


class SampleUnit(Document):
    unit: str
    kind: str
    dispatches: int


class LeftOut(SampleUnit):
    why: str
    """Too few dispatches, or no rate to score yet."""


class RankedLists(Document):
    """One red list (红榜) and one black list (黑榜), and the units they rank."""

    kind: str | None
    """The department kind ranked; null: every unit ranked together."""
    ranked: list[SampleUnit]
    """Every unit ranked, best first."""
    left_out: list[LeftOut]
    red: list[RankedRow]
    black: list[RankedRow]
    """The lowest scores, lowest first; never a unit of the red list."""


class RedBlack(Document):
    """A quarter's red and black lists: the period, the rules, the sample, the lists."""

    quarter: str
    start: Time = Field(alias="from")
    end: Time = Field(alias="to")
    zone: str
    """The district's time zone: the quarter is local."""
    formula: str
    min_dispatches: int
    """A unit needs this many dispatches in the quarter to be ranked."""
    list_size: int
    """Units on each list; half the units ranked when there are fewer than twice this."""
    lists: list[RankedLists]
    """One pair, or one per department kind."""


# --- policy and principals -------------------------------------------------------
