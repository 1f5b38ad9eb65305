"""The policy a case runs under: deadlines, departments, routing and rules.

Its values have no defaults here: ``policy/default.toml`` is their one home, and
every policy is that file with a district's file over it. A snapshot of the policy in force is copied into each case when it is raised,
so a later edit of the policy file never changes a running case.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.levels import WhistleLevel
from models.workdays import WorkCalendar


class OnMiss(StrEnum):
    """What a missed report-in or resolve deadline does at a whistle."""

    ESCALATE = "escalate"  # supervise the late units and go one whistle up
    SUPERVISE = "supervise"  # supervise (督办) the late units at the same whistle


@dataclass(frozen=True)
class LevelRules:
    """Time limits of one whistle, in seconds."""

    report_in_seconds: int
    """Departments must report in (报到) within this; at the joint task force
    it is the time within which the joint meeting must be held."""
    resolve_seconds: int
    """Handling time after the case is dispatched (after the plan, at joint)."""
    remind_at: float
    """Fraction of each window after which a reminder (催办) goes out."""
    extension_cap_seconds: int
    """Total extension (延期) a case may be granted at this whistle."""
    # The fields below came with the station (issue 11). Their defaults are the
    # behaviour of cases raised before, whose pinned policy lacks them: a case
    # keeps the rules it was raised under, in replay and live. New policies
    # take their values from policy/default.toml.
    report_in_working_days: int = 0
    """When above zero, the report-in deadline in working days (工作日)."""
    resolve_working_days: int = 0
    """When above zero, the resolve deadline in working days."""
    on_miss: str = OnMiss.ESCALATE.value
    """An ``OnMiss``: what a missed deadline does here (the joint task force,
    having nothing above it, always supervises)."""
    supervise_every_seconds: int = 0
    """A late unit's next deadline is at most this after the one it missed
    ("事不完、人不撤": a miss never buys time); 0: no cap (cases raised before)."""


@dataclass(frozen=True)
class CaseRules:
    """Rules that hold at every whistle."""

    return_window_seconds: int
    """A department may return (退单) a case within this of being dispatched."""
    returns_to_joint: int
    """This many returns on one case send it to the joint task force."""
    confirmation_seconds: int
    """The branch confirms the result within this, else it closes unconfirmed."""
    # Defaults: the behaviour of cases raised before these rules (see LevelRules).
    return_window_working_days: int = 0
    """When above zero, the return window in working days."""
    confirmation_working_days: int = 0
    """When above zero, the confirmation window in working days."""
    return_review_seconds: int = 0
    """The station reviews a return (退单审核) within this, else it is reminded;
    0: a return takes effect at once (cases raised before the station)."""
    return_review_working_days: int = 0
    """When above zero, the review time in working days."""
    redo_below: int = 0
    """A confirmation scoring below this sends the case back for a redo (重办);
    0: every score closes the case."""
    redo_cap: int = 0
    """After this many redos a low score sends the case to the station's joint
    meeting instead of another redo."""


@dataclass(frozen=True)
class AssessmentRules:
    """How the quarterly assessment ranks units (红黑榜)."""

    min_dispatches: int
    """A unit is ranked only with at least this many dispatches in the period."""
    list_size: int
    """How many units the red list and the black list name each."""


@dataclass(frozen=True)
class WorkingTime:
    """How a case counts working days, pinned into it when it is raised."""

    timezone: str
    """The district's IANA zone: a working day is a local day."""
    closes_at: str
    """Local "HH:MM" at which a working-day deadline's last day ends ("24:00")."""
    calendar: WorkCalendar
    """The slice of the calendar the case's deadlines can reach."""


@dataclass(frozen=True)
class Policy:
    version: str
    """Content hash of the merged policy: two equal policies share a version."""
    levels: dict[str, LevelRules]
    departments: dict[str, str]
    """Department code -> display name."""
    routing: dict[str, list[str]]
    """Category -> departments; the first is the lead (首接负责)."""
    return_reasons: dict[str, str]
    """Reason code -> meaning, for ``not-ours`` sign-offs."""
    rules: CaseRules
    # Defaults below: what a policy pinned in a case raised before these
    # fields existed decodes to; new policies take theirs from default.toml.
    closes_at: str = "24:00"
    """Local "HH:MM" at which a working-day deadline's last day ends."""
    extra_holidays: tuple[str, ...] = ()
    """The district's own days off (ISO dates), over the national calendar."""
    extra_workdays: tuple[str, ...] = ()
    """The district's own days worked (ISO dates)."""
    assessment: AssessmentRules | None = None
    working_time: WorkingTime | None = None
    """Pinned at raise, not part of the version; None when no deadline is in
    working days (and for cases raised before working days)."""

    @property
    def uses_working_days(self) -> bool:
        rules = self.rules
        return any(
            level.report_in_working_days or level.resolve_working_days
            for level in self.levels.values()
        ) or bool(
            rules.return_window_working_days
            or rules.confirmation_working_days
            or rules.return_review_working_days
        )

    def level(self, level: WhistleLevel) -> LevelRules:
        return self.levels[level.label]
