"""Durations written the way people write them in a policy: 10s, 30m, 2h, 5d, 1h30m.

Where a deadline is set, working days (工作日) may be given too: 3wd, alone
(``parse_deadline_spec``; counted by ``models.workdays.add_working_days``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+)([smhd])")
_WHOLE = re.compile(r"^(?:\d+[smhd])+$")
_WORKING_DAYS = re.compile(r"^(\d+)\s*wd$")
_MENTIONS_WORKING_DAYS = re.compile(r"\d\s*wd")


def parse_duration(text: str, *, field: str) -> int:
    """Seconds in ``text``; raises ValueError naming ``field`` and the rule."""
    cleaned = str(text).strip().lower()
    if _MENTIONS_WORKING_DAYS.search(cleaned):
        raise ValueError(
            f"{field}: working days are accepted where deadlines are; here give a duration "
            f"such as 30m, 2h or 5d; got {text!r}"
        )
    if not _WHOLE.match(cleaned):
        raise ValueError(f"{field}: must be a duration such as 10s, 30m, 2h or 5d; got {text!r}")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f"{field}: must be longer than zero; got {text!r}")
    return seconds


def format_duration(seconds: int) -> str:
    """The shortest exact spelling: 1800 -> 30m, 90000 -> 1d1h."""
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


@dataclass(frozen=True)
class Span:
    """A deadline as written: clock ``seconds`` or ``working_days``, one of them."""

    seconds: int = 0
    working_days: int = 0

    def __post_init__(self) -> None:
        if (
            self.seconds < 0
            or self.working_days < 0
            or bool(self.seconds) == bool(self.working_days)
        ):
            raise ValueError(
                f"Span: give seconds or working days, one of them and above zero; got {self!r}"
            )

    @property
    def in_working_days(self) -> bool:
        return self.working_days > 0


def parse_deadline_spec(text: str, *, field: str) -> Span:
    """A deadline: a duration (30m, 2h, 5d, 1h30m) or working days (3wd, alone).

    Raises ValueError naming ``field`` and the rule.
    """
    cleaned = str(text).strip().lower()
    found = _WORKING_DAYS.match(cleaned)
    if found:
        count = int(found.group(1))
        if count <= 0:
            raise ValueError(f"{field}: must be longer than zero; got {text!r}")
        return Span(working_days=count)
    if _MENTIONS_WORKING_DAYS.search(cleaned):
        raise ValueError(
            f"{field}: working days stand alone, such as 3wd, not mixed with other units; "
            f"got {text!r}"
        )
    if not _WHOLE.match(cleaned):
        raise ValueError(
            f"{field}: must be a duration such as 30m, 2h or 5d, or working days such as 3wd; "
            f"got {text!r}"
        )
    return Span(seconds=parse_duration(text, field=field))


def format_working_days(count: int) -> str:
    """3 -> 3wd."""
    return f"{max(count, 0)}wd"


def format_span(span: Span) -> str:
    """As ``parse_deadline_spec`` reads it back: 3wd, 30m, 1d1h."""
    if span.in_working_days:
        return format_working_days(span.working_days)
    return format_duration(span.seconds)
