"""Durations written the way people write them in a policy: 10s, 30m, 2h, 5d, 1h30m."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+)([smhd])")
_WHOLE = re.compile(r"^(?:\d+[smhd])+$")


def parse_duration(text: str, *, field: str) -> int:
    """Seconds in ``text``; raises ValueError naming ``field`` and the rule."""
    cleaned = str(text).strip().lower()
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
