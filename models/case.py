"""A case's input, actions, events and state: what the workflow holds and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from models.evidence import Evidence
from models.levels import WhistleLevel
from models.policy import Policy


class CaseStatus(StrEnum):
    AWAITING_REPORT_IN = "awaiting_report_in"
    IN_PROGRESS = "in_progress"
    JOINT_MEETING = "joint_meeting"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        return self not in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)


class Outcome(StrEnum):
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"  # persuasion or enforcement failed: one whistle up
    NOT_OURS = "not-ours"  # 退单: the department leaves the case


class EventKind(StrEnum):
    RAISED = "raised"
    DISPATCHED = "dispatched"
    REMINDED = "reminded"  # 催办
    REPORTED_IN = "reported_in"  # 报到
    REPORT_IN_MISSED = "report_in_missed"
    SIGNED_OFF = "signed_off"
    RETURN_REQUESTED = "return_requested"  # 退单申请: awaits the station's review
    RETURN_REFUSED = "return_refused"  # the station keeps the unit on the case
    RETURNED = "returned"  # 退单: the unit left the case
    REDISPATCHED = "redispatched"  # 改派: the station added or replaced a unit
    LEAD_CHANGED = "lead_changed"
    RESOLVE_MISSED = "resolve_missed"
    ESCALATED = "escalated"
    EXTENSION_REQUESTED = "extension_requested"  # 延期
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REFUSED = "extension_refused"
    JOINT_MEETING_REQUESTED = "joint_meeting_requested"  # the branch asks the station
    JOINT_MEETING_HELD = "joint_meeting_held"  # 联席会议
    JOINT_MEETING_OVERDUE = "joint_meeting_overdue"
    JOINT_MEETING_RECONVENED = "joint_meeting_reconvened"
    SUPERVISED = "supervised"  # 督办: a deadline missed, or the station's note
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"
    REOPENED = "reopened"  # 重办
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


BRANCH = "branch"
SYSTEM = "system"
STATION = "station"
"""The recipient of the notifications meant for the case's street station."""


@dataclass(kw_only=True)
class UnitRef:
    """A unit to dispatch (from the organisation): its code and department kind."""

    code: str
    kind: str
    """A department code of the policy: what the unit is (police, fire_rescue...)."""


# --- input -----------------------------------------------------------------


@dataclass(kw_only=True)
class RaiseWhistle:
    """A compound party branch blows a whistle."""

    compound: str
    level: int | str
    """The whistle's rank (1 to 4) or name; recorded histories carry ranks."""
    category: str
    title: str
    description: str = ""
    location: str = ""
    raised_by: str = BRANCH
    departments: list[str] = field(default_factory=list)
    """Named departments; empty means routed from the category by the policy."""
    units: list[UnitRef] = field(default_factory=list)
    """The units routing chose in the organisation; when given they are
    dispatched instead of ``departments`` (which then only says the kinds)."""
    policy: Policy
    evidence: list[Evidence] = field(default_factory=list)
    """Photos or documents of the problem, by reference."""


# --- actions (workflow updates) --------------------------------------------


@dataclass(kw_only=True)
class Action:
    action_id: str
    """Client-chosen id: a second delivery of the same action is recorded once."""
    actor: str = ""


@dataclass(kw_only=True)
class ReportIn(Action):
    department: str


@dataclass(kw_only=True)
class SignOff(Action):
    department: str
    outcome: str
    reason: str = ""
    """For not-ours: a reason code of the policy. Otherwise free text."""
    note: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    """E.g. photos of the site after enforcement, the penalty notice."""


@dataclass(kw_only=True)
class RequestExtension(Action):
    department: str
    seconds: int
    reason: str
    working_days: int = 0
    """When above zero, the time asked in working days (``seconds`` is then 0):
    the resolve deadline moves by that many working days."""


@dataclass(kw_only=True)
class DecideExtension(Action):
    department: str
    approve: bool
    reason: str = ""


@dataclass(kw_only=True)
class HoldJointMeeting(Action):
    lead: str
    attendees: list[str] = field(default_factory=list)
    """Empty means every department on the case."""
    join: list[UnitRef] = field(default_factory=list)
    """Units new to the case that the meeting brings in (they are attendees too)."""
    decision: str = ""
    tasks: dict[str, str] = field(default_factory=dict)
    deadline_seconds: int | None = None
    """Time the plan gives; None means the joint whistle's resolve time."""
    deadline_working_days: int = 0
    """When above zero, the time the plan gives in working days."""
    evidence: list[Evidence] = field(default_factory=list)
    """E.g. the signed minutes of the meeting."""


@dataclass(kw_only=True)
class RequestJointMeeting(Action):
    """The branch asks the station to convene a joint meeting."""

    reason: str


@dataclass(kw_only=True)
class ReviewReturn(Action):
    """退单审核: the station approves a unit's return (it leaves) or refuses it."""

    department: str
    approve: bool
    reason: str = ""
    dispatch: list[UnitRef] = field(default_factory=list)
    """On approval: the unit routing names instead, dispatched at once."""


@dataclass(kw_only=True)
class Redispatch(Action):
    """改派: the station adds units to the case, or replaces one."""

    add: list[UnitRef]
    replace: str | None = None
    """The unit that leaves, replaced by ``add``; None adds to those on the case."""
    reason: str


@dataclass(kw_only=True)
class Supervise(Action):
    """督办: the station presses the units on the case, with a note."""

    note: str


@dataclass(kw_only=True)
class Escalate(Action):
    reason: str


@dataclass(kw_only=True)
class Confirm(Action):
    satisfaction: int
    note: str = ""


@dataclass(kw_only=True)
class Reopen(Action):
    reason: str


@dataclass(kw_only=True)
class Withdraw(Action):
    reason: str


# --- state -----------------------------------------------------------------


@dataclass(kw_only=True)
class CaseEvent:
    seq: int
    kind: str
    at: datetime
    actor: str
    level: str
    department: str | None = None
    from_level: str | None = None
    to_level: str | None = None
    reason: str | None = None
    detail: dict[str, str] = field(default_factory=dict)
    hash: str = ""
    """Ledger link: SHA-256 over this event and the previous event's hash."""


@dataclass(kw_only=True)
class Assignment:
    """One department on the case, at the current whistle."""

    department: str
    """The unit's code (or, without an organisation, the department's)."""
    dispatched_at: datetime
    kind: str = ""
    """The unit's department kind; empty when ``department`` is the kind itself."""
    reported_in_at: datetime | None = None
    outcome: str | None = None
    outcome_at: datetime | None = None
    in_plan: bool = False
    """At the joint task force: named in the joint meeting's plan (会签 needed)."""
    task: str = ""
    missed_deadlines: int = 0
    pending_extension_seconds: int = 0
    pending_extension_reason: str = ""
    return_requested_at: datetime | None = None
    """A return awaiting the station's review; the unit stays and its clock runs."""
    return_reason: str = ""
    return_reminded: bool = False
    removed: bool = False
    """Replaced by the station (改派): off the case at every whistle."""

    @property
    def active(self) -> bool:
        return self.outcome != Outcome.NOT_OURS.value and not self.removed

    @property
    def department_kind(self) -> str:
        return self.kind or self.department


@dataclass(kw_only=True)
class Deadlines:
    report_in: datetime | None = None
    joint_meeting: datetime | None = None
    resolve: datetime | None = None
    confirmation: datetime | None = None


@dataclass(kw_only=True)
class JointMeeting:
    held_at: datetime
    convened_by: str
    attendees: list[str]
    decision: str
    lead: str
    tasks: dict[str, str]
    deadline: datetime


@dataclass(kw_only=True)
class CaseState:
    case_id: str
    compound: str
    category: str
    title: str
    description: str
    location: str
    raised_by: str
    raised_at: datetime
    level: WhistleLevel
    status: CaseStatus
    lead: str | None
    departments: list[Assignment]
    deadlines: Deadlines
    policy: Policy
    events: list[CaseEvent] = field(default_factory=list)
    meeting: JointMeeting | None = None
    returns: int = 0
    redos: int = 0
    extension_granted_seconds: int = 0
    """Granted at the current whistle; the policy caps it per whistle."""
    satisfaction: int | None = None
    closing: str | None = None
    """How the case ended: confirmed, not_confirmed or withdrawn."""
    window_started_at: datetime | None = None
    """Start of the current report-in / resolve window, for reminders."""
    first_deadline_reminded: bool = False
    """The whistle's first deadline was reminded: the report-in, or at the joint
    task force the joint meeting."""
    resolve_reminded: bool = False
    action_digests: dict[str, str] = field(default_factory=dict)
    """Action id -> digest of the action: a repeat is recognised, a reuse refused."""
    recorded_bytes: int = 0
    """Encoded size of the events and action ids held, against the case's record budget."""

    def assignment(self, department: str) -> Assignment | None:
        for item in self.departments:
            if item.department == department:
                return item
        return None


@dataclass(kw_only=True)
class ActionResult:
    case_id: str
    level: str
    status: str
    events: list[CaseEvent]
    duplicate: bool = False
