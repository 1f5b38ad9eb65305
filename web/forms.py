"""A form's answer when it cannot be applied: each field's message next to the
field, or one message for the form, in the page's language; nothing changed.

What refuses a form is exactly what refuses the API: pydantic's checks of the
request body, a rule (``RuleViolation``, "field: message"), a rule of the case
(``ActionRejected``) or the principal's reach (403/404).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException
from pydantic import ValidationError

from models.errors import (
    ActionRejected,
    CaseAlreadyExists,
    CaseNotFound,
    EngineUnavailable,
    RuleViolation,
)
from web.i18n import Speaker
from web.rule_words import rule_in


@dataclass
class Refusal:
    """Why a form was refused: messages by field, or for the whole form."""

    status: int
    errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


_PYDANTIC: dict[str, str] = {
    "missing": "error.missing",
    "string_too_short": "error.too_short",
    "too_short": "error.missing",
    "string_too_long": "error.too_long",
    "too_long": "error.too_long",
    "string_pattern_mismatch": "error.pattern",
    "int_parsing": "error.number",
    "int_type": "error.number",
    "enum": "error.choice",
    "literal_error": "error.choice",
    "bool_parsing": "error.choice",
    "bool_type": "error.choice",
}


def _pydantic_message(error: Any, t: Speaker) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in ("greater_than_equal", "less_than_equal"):
        return t("error.range", low=ctx.get("ge", "…"), high=ctx.get("le", "…"))
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return t("error.missing")
    if kind in _PYDANTIC:
        n = ctx.get("max_length") or ctx.get("min_length") or ""
        return t(_PYDANTIC[kind], n=n)
    if kind == "value_error":
        return rule_in(str(ctx.get("error", error["msg"])), t.lang)
    return str(error["msg"])


def _field_of(message: str) -> tuple[str, str]:
    """("field", "message") from a rule's "field[0].part: message"."""
    head, sep, rest = message.partition(":")
    if not sep or " " in head.strip():
        return "", message
    return head.split("[", 1)[0].split(".", 1)[0].strip(), rest.strip()


def refusal_of(err: Exception, t: Speaker, fields: Collection[str]) -> Refusal:
    """The refusal for ``err``, with messages on ``fields`` (the form's own) where
    they name one; others go to the top of the form."""
    if isinstance(err, ValidationError):
        refusal = Refusal(422)
        for error in err.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            message = _pydantic_message(error, t)
            if name in fields:
                refusal.errors.setdefault(name, message)
            else:
                refusal.problem = t("error.field", field=name or "body", message=message)
        return refusal
    if isinstance(err, RuleViolation):
        name, message = _field_of(str(err))
        worded = rule_in(message, t.lang)
        if name in fields:
            return Refusal(422, errors={name: worded})
        return Refusal(422, problem=t("error.rule", message=rule_in(str(err), t.lang)))
    if isinstance(err, ActionRejected | CaseAlreadyExists):
        return Refusal(409, problem=t("error.rule", message=rule_in(str(err), t.lang)))
    if isinstance(err, HTTPException) and err.status_code == 403:
        return Refusal(403, problem=t("error.forbidden", message=rule_in(str(err.detail), t.lang)))
    if isinstance(err, HTTPException | CaseNotFound):
        return Refusal(404, problem=t("error.not_found"))
    if isinstance(err, EngineUnavailable):
        return Refusal(503, problem=t("error.unavailable"))
    raise err


REFUSED = (
    ValidationError,
    RuleViolation,
    ActionRejected,
    HTTPException,
    CaseNotFound,
    EngineUnavailable,
)
"""What ``refusal_of`` words; anything else is a fault and propagates."""
