"""Saying things in the page's language: words from ``web.words``, times in the
district's zone, durations in words ("还剩 25 分钟")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from web.rule_words import rule_in
from web.words import LANGUAGES, WORDS

LANG_COOKIE = "whistle_lang"
DEFAULT_LANG = LANGUAGES[0]


When = datetime | str | None
"""A time as a document holds it (ISO text) or as Python does."""


def as_time(when: When) -> datetime | None:
    if when is None or when == "":
        return None
    return when if isinstance(when, datetime) else datetime.fromisoformat(when)


def pick_lang(asked: str | None) -> str:
    """The language asked for if the workbench speaks it, else Chinese."""
    return asked if asked in LANGUAGES else DEFAULT_LANG


def say(key: str, lang: str, **fields: object) -> str:
    """The words for ``key`` in ``lang``, fields filled; an unknown key is shown as
    itself, so a missing entry is seen on the page rather than breaking it."""
    pair = WORDS.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == DEFAULT_LANG else pair[1]
    return text.format(**fields) if fields else text


def span_words(seconds: float, lang: str) -> str:
    """A duration in the two largest units that matter: "2 天 3 小时", "25 分钟"."""
    whole = int(abs(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts: list[str] = []
    for amount, unit in ((days, "days"), (hours, "hours"), (minutes, "minutes")):
        if amount and len(parts) < 2:
            parts.append(say(f"time.{unit}", lang, n=amount))
        elif parts:
            break
    if not parts:
        parts.append(say("time.seconds", lang, n=secs))
    return " ".join(parts)


def time_left(deadline: datetime | None, now: datetime, lang: str) -> str:
    if deadline is None:
        return say("time.none", lang)
    seconds = (deadline - now).total_seconds()
    key = "time.left" if seconds >= 0 else "time.over"
    return say(key, lang, span=span_words(seconds, lang))


@dataclass(frozen=True)
class Speaker:
    """What a template speaks with: its language, the district's zone and now."""

    lang: str
    zone: ZoneInfo
    now: datetime
    names: Mapping[str, str] = field(default_factory=dict)
    """Compounds, streets and units by code, as the organisation in force names them."""

    def __call__(self, key: str, **fields: object) -> str:
        return say(key, self.lang, **fields)

    def local(self, when: When) -> str:
        """A time as the district reads it: 2026-11-30 14:05 (its zone, no seconds)."""
        moment = as_time(when)
        if moment is None:
            return ""
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def span(self, seconds: float) -> str:
        return span_words(seconds, self.lang)

    def iso(self, when: When) -> str:
        moment = as_time(when)
        return moment.isoformat() if moment else ""

    def left(self, deadline: When) -> str:
        return time_left(as_time(deadline), self.now, self.lang)

    def overdue(self, deadline: When) -> bool:
        moment = as_time(deadline)
        return moment is not None and moment < self.now

    def name(self, code: str | None) -> str:
        """A compound, street or unit by its name in the organisation (安宁苑), or its code."""
        if not code:
            return ""
        return self.names.get(code) or self.names.get(code.lower()) or code

    def worded(self, message: str) -> str:
        """A message of the rules or of the workflow, in the page's language where known."""
        return rule_in(message, self.lang)

    def code(self, family: str, code: str) -> str:
        """A code's words (``category.fire_lane`` -> 占用消防通道), or the code itself."""
        worded = say(f"{family}.{code}", self.lang)
        return code if worded == f"{family}.{code}" else worded

    def level(self, name: str) -> str:
        return say(f"level.{name}", self.lang)

    def status(self, name: str) -> str:
        return say(f"status.{name}", self.lang)

    def event(self, kind: str) -> str:
        return say(f"event.{kind}", self.lang)
