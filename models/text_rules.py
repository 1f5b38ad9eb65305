"""Limits on free text, checked at every door and again inside the case.

Limits keep every payload far below Temporal's size limits; control
characters are refused because they corrupt terminals, logs and exports.
"""

from __future__ import annotations

import re

from models.errors import RuleViolation

__all__ = ["LONG_MAX", "REASON_MAX", "SHORT_MAX", "TITLE_MAX", "RuleViolation", "check_text"]

TITLE_MAX = 200
SHORT_MAX = 200  # compound, category, location, names
REASON_MAX = 1000
LONG_MAX = 4000  # description, notes, decisions

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def check_text(
    value: str | None,
    *,
    field: str,
    max_len: int,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """Return the stripped text or raise RuleViolation naming ``field``."""
    text = (value or "").strip()
    if required and not text:
        raise RuleViolation(f"{field}: must not be empty")
    if len(text) > max_len:
        raise RuleViolation(f"{field}: must be at most {max_len} characters; got {len(text)}")
    pattern = _CONTROL if multiline else _CONTROL_ONE_LINE
    if pattern.search(text):
        raise RuleViolation(f"{field}: must not contain control characters")
    return text
