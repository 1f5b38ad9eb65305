"""What the admin routes answer: the policy in force, principals and tokens.

The case and assessment documents are in api.responses; all share its ``Document``.
"""

from __future__ import annotations

from api.responses import Document
from models.principals import PrincipalKind


class LevelRulesDocument(Document):
    """A whistle's deadlines: in clock seconds, or in working days when those are above 0."""

    report_in_seconds: int
    resolve_seconds: int
    remind_at: float
    extension_cap_seconds: int
    report_in_working_days: int
    resolve_working_days: int
    on_miss: str
    supervise_every_seconds: int


class CaseRulesDocument(Document):
    return_window_seconds: int
    returns_to_joint: int
    confirmation_seconds: int
    return_window_working_days: int
    confirmation_working_days: int
    return_review_seconds: int
    return_review_working_days: int
    redo_below: int
    redo_cap: int


class AssessmentRulesDocument(Document):
    min_dispatches: int
    list_size: int


class PolicyDocument(Document):
    """The policy (``policy.loader.policy_document``); its version is a content hash."""

    version: str
    levels: dict[str, LevelRulesDocument]
    rules: CaseRulesDocument
    departments: dict[str, str]
    routing: dict[str, list[str]]
    return_reasons: dict[str, str]
    closes_at: str
    extra_holidays: list[str]
    extra_workdays: list[str]
    assessment: AssessmentRulesDocument | None


class PrincipalDocument(Document):
    name: str
    kind: PrincipalKind
    compounds: list[str]
    department: str | None
    street: str | None = None
    """A station's street."""


class PrincipalList(Document):
    principals: list[PrincipalDocument]


class IssuedToken(Document):
    token_id: str
    token: str
    """Shown once; whistle keeps only its hash."""
    principal: str
