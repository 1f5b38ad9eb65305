"""Request bodies. Unknown fields are refused; every text obeys the same rules
as inside the case, so a bad body is a 422 naming the field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from models.durations import parse_duration
from models.evidence import EVIDENCE_MAX, URL_MAX, Evidence, check_evidence, check_url
from models.principals import token_lifetime
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
OptionalReason = Annotated[str, Field(max_length=REASON_MAX), _text(REASON_MAX)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
Duration = Annotated[str, Field(max_length=32, examples=["30m", "2d"]), AfterValidator(_duration)]


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
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
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


class RaiseBody(Body):
    compound: Short
    level: Literal["publicity", "emergency", "enforcement", "joint", 1, 2, 3, 4]
    category: Short
    title: Title
    description: Long = ""
    location: OptionalShort = ""
    departments: list[Code] = Field(default_factory=list, max_length=30)
    """Empty: routed from the category by the policy."""
    evidence: EvidenceList = Field(default_factory=list)


class ReportInBody(Body):
    department: Code | None = None
    """Defaults to the acting department."""


class SignOffBody(Body):
    department: Code | None = None
    outcome: Literal["resolved", "unresolved", "not-ours"]
    reason: OptionalReason = ""
    note: Long = ""
    evidence: EvidenceList = Field(default_factory=list)


class ExtensionRequestBody(Body):
    department: Code | None = None
    by: Duration
    reason: Reason


class ExtensionDecisionBody(Body):
    department: Code
    approve: bool
    reason: OptionalReason = ""


class JointMeetingBody(Body):
    lead: Code
    attendees: list[Code] = Field(default_factory=list, max_length=30)
    decision: Long = ""
    tasks: dict[Code, OptionalReason] = Field(default_factory=dict, max_length=30)
    deadline: Duration | None = None
    evidence: EvidenceList = Field(default_factory=list)


class ReasonBody(Body):
    reason: Reason


class ConfirmBody(Body):
    satisfaction: int = Field(ge=1, le=5, strict=True)
    note: Long = ""


class PrincipalBody(Body):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    kind: Literal["branch", "department", "auditor", "admin"]
    compounds: list[Short] = Field(default_factory=list, max_length=100)
    department: Code | None = None


def _lifetime(value: str) -> str:
    try:
        token_lifetime(value, field="")
    except RuleViolation as err:
        raise ValueError(str(err).removeprefix(": ")) from None
    return value


class TokenBody(Body):
    expires_in: Annotated[str, Field(max_length=32), AfterValidator(_lifetime)] | None = None
    label: OptionalShort = ""


class PolicyBody(Body):
    toml: Annotated[str, Field(max_length=100_000)]
    """A district policy file's text, merged over the default."""
