"""Request bodies. Unknown fields are refused; every text obeys the same rules
as inside the case, so a bad body is a 422 naming the field."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, WithJsonSchema

from models.case import Outcome
from models.durations import parse_deadline_spec, parse_duration
from models.evidence import EVIDENCE_MAX, URL_MAX, Evidence, check_evidence, check_url
from models.levels import WhistleLevel
from models.limits import (
    COMPOUNDS_PER_PRINCIPAL_MAX,
    DEPARTMENT_CODE,
    MAX_DEPARTMENTS,
    PASSWORD_MAX,
    PASSWORD_MIN,
    POLICY_MAX_BYTES,
    PRINCIPAL_NAME,
    SATISFACTION_MAX,
    SATISFACTION_MIN,
    SHA256_HEX,
)
from models.principals import PrincipalKind, token_lifetime
from models.text_rules import (
    LONG_MAX,
    REASON_MAX,
    SHORT_MAX,
    TITLE_MAX,
    RuleViolation,
    check_text,
)


def _text(max_len: int, *, required: bool = False, multiline: bool = False) -> AfterValidator:
    def check(value: str) -> str:
        try:
            return check_text(
                value, field="", max_len=max_len, required=required, multiline=multiline
            )
        except RuleViolation as err:  # pydantic names the field; keep just the rule
            raise ValueError(str(err).removeprefix(": ")) from None

    return AfterValidator(check)


def _span(value: str) -> str:
    try:
        parse_deadline_spec(value, field="")
    except ValueError as err:
        raise ValueError(str(err).removeprefix(": ")) from None
    return value


def _duration(value: str) -> str:
    try:
        parse_duration(value, field="")
    except ValueError as err:
        raise ValueError(str(err).removeprefix(": ")) from None
    return value


Short = Annotated[str, Field(max_length=SHORT_MAX), _text(SHORT_MAX, required=True)]
OptionalShort = Annotated[str, Field(max_length=SHORT_MAX), _text(SHORT_MAX)]
Title = Annotated[str, Field(max_length=TITLE_MAX), _text(TITLE_MAX, required=True)]
Long = Annotated[str, Field(max_length=LONG_MAX), _text(LONG_MAX, multiline=True)]
Reason = Annotated[str, Field(max_length=REASON_MAX), _text(REASON_MAX, required=True)]
Note = Annotated[str, Field(max_length=LONG_MAX), _text(LONG_MAX, required=True, multiline=True)]
OptionalReason = Annotated[str, Field(max_length=REASON_MAX), _text(REASON_MAX)]
Code = Annotated[str, Field(pattern=DEPARTMENT_CODE)]
Duration = Annotated[str, Field(max_length=32, examples=["30m", "2d"]), AfterValidator(_duration)]
Span = Annotated[str, Field(max_length=32, examples=["30m", "2d", "3wd"]), AfterValidator(_span)]
"""A duration, or working days (工作日) such as ``3wd``."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _url(value: str) -> str:
    try:
        check_url(value, field="")
    except RuleViolation as err:
        raise ValueError(str(err).removeprefix(": ")) from None
    return value


class EvidenceBody(Body):
    """A photo or document kept elsewhere, named by its address and SHA-256."""

    url: Annotated[str, Field(max_length=URL_MAX), AfterValidator(_url)]
    sha256: Annotated[str, Field(pattern=SHA256_HEX)]
    label: OptionalShort = ""


def _distinct_files(items: list[EvidenceBody]) -> list[EvidenceBody]:
    try:
        check_evidence(to_evidence(items))
    except RuleViolation as err:
        raise ValueError(str(err).removeprefix("evidence")) from None
    return items


EvidenceList = Annotated[
    list[EvidenceBody], Field(max_length=EVIDENCE_MAX), AfterValidator(_distinct_files)
]


def to_evidence(items: list[EvidenceBody]) -> list[Evidence]:
    return [Evidence(url=item.url, sha256=item.sha256, label=item.label) for item in items]


LEVEL_NAMES = [level.name.lower() for level in WhistleLevel]
LEVEL_NAME = "^(" + "|".join(LEVEL_NAMES) + ")$"
"""A whistle by its name, as a query parameter matches it."""
LEVEL_CHOICES: list[str | int] = [*LEVEL_NAMES, *range(1, len(LEVEL_NAMES) + 1)]


def _level(value: str | int) -> str | int:
    if value not in LEVEL_CHOICES:
        raise ValueError(f"must be one of {', '.join(map(str, LEVEL_CHOICES))}")
    return value


Level = Annotated[
    str | int,
    AfterValidator(_level),
    WithJsonSchema({"enum": LEVEL_CHOICES, "description": "A whistle by name or rank (1-4)."}),
]


class RaiseBody(Body):
    compound: Short
    level: Level
    category: Short
    title: Title
    description: Long = ""
    location: OptionalShort = ""
    departments: list[Code] = Field(default_factory=list, max_length=MAX_DEPARTMENTS)
    """Empty: routed from the category by the policy."""
    evidence: EvidenceList = Field(default_factory=list)


class ReportInBody(Body):
    department: Code | None = None
    """Defaults to the acting department."""


class SignOffBody(Body):
    department: Code | None = None
    outcome: Annotated[Outcome, Strict(False)]
    reason: OptionalReason = ""
    note: Long = ""
    evidence: EvidenceList = Field(default_factory=list)


class ExtensionRequestBody(Body):
    department: Code | None = None
    by: Span
    reason: Reason


class ExtensionDecisionBody(Body):
    department: Code
    approve: bool
    reason: OptionalReason = ""


class JointMeetingBody(Body):
    lead: Code
    attendees: list[Code] = Field(default_factory=list, max_length=MAX_DEPARTMENTS)
    join: list[Code] = Field(default_factory=list, max_length=MAX_DEPARTMENTS)
    """Units new to the case that the meeting brings in (attendees too)."""
    decision: Long = ""
    tasks: dict[Code, OptionalReason] = Field(default_factory=dict, max_length=MAX_DEPARTMENTS)
    deadline: Span | None = None
    evidence: EvidenceList = Field(default_factory=list)


class ReasonBody(Body):
    reason: Reason


# --- the station ---------------------------------------------------------------

UnitCodes = Annotated[list[Code], Field(max_length=MAX_DEPARTMENTS)]
"""Unit codes of the organisation in force (its department codes without one)."""


class ReturnReviewBody(Body):
    """退单审核: approve a unit's pending return (it leaves) or refuse it (it stays)."""

    department: Code
    """The unit whose return is reviewed."""
    approve: bool
    reason: OptionalReason = ""
    """Needed to refuse."""
    dispatch: UnitCodes = Field(default_factory=list)
    """On approval: the units to dispatch instead."""


class RedispatchBody(Body):
    """改派: add units to the case, or replace one of them."""

    add: Annotated[list[Code], Field(min_length=1, max_length=MAX_DEPARTMENTS)]
    replace: Code | None = None
    """The unit that leaves, replaced by ``add``; none adds to those on the case."""
    reason: Reason


class SuperviseBody(Body):
    """督办: press the units on the case, with a note."""

    note: Note


class ConfirmBody(Body):
    satisfaction: int = Field(ge=SATISFACTION_MIN, le=SATISFACTION_MAX, strict=True)
    note: Long = ""


class PrincipalBody(Body):
    name: Annotated[str, Field(pattern=PRINCIPAL_NAME)]
    kind: Annotated[PrincipalKind, Strict(False)]
    compounds: list[Short] = Field(default_factory=list, max_length=COMPOUNDS_PER_PRINCIPAL_MAX)
    department: Code | None = None
    """A department principal's unit (or, without an organisation, department) code."""
    street: Code | None = None
    """A station principal's street code in the organisation in force."""


def _lifetime(value: str) -> str:
    try:
        token_lifetime(value, field="")
    except RuleViolation as err:
        raise ValueError(str(err).removeprefix(": ")) from None
    return value


class PasswordBody(Body):
    password: Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


class TokenBody(Body):
    expires_in: Annotated[str, Field(max_length=32), AfterValidator(_lifetime)] | None = None
    label: OptionalShort = ""


class PolicyBody(Body):
    toml: Annotated[str, Field(max_length=POLICY_MAX_BYTES)]
    """A district policy file's text, merged over the default."""
