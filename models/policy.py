"""The policy a case runs under: deadlines, departments, routing and rules.

Its values have no defaults here: ``policy/default.toml`` is their one home, and
every policy is that file with a district's file over it. A snapshot of the policy in force is copied into each case when it is raised,
so a later edit of the policy file never changes a running case.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.levels import WhistleLevel


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


@dataclass(frozen=True)
class CaseRules:
    """Rules that hold at every whistle."""

    return_window_seconds: int
    """A department may return (退单) a case within this of being dispatched."""
    returns_to_joint: int
    """This many returns on one case send it to the joint task force."""
    confirmation_seconds: int
    """The branch confirms the result within this, else it closes unconfirmed."""


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

    def level(self, level: WhistleLevel) -> LevelRules:
        return self.levels[level.label]
