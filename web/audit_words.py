"""Words the auditor's pages and spreadsheets build from ``web.words``."""

from __future__ import annotations

from collections.abc import Callable

from web.i18n import DEFAULT_LANG, say


def left_out_why(why: str, min_dispatches: int, speak: Callable[..., str]) -> str:
    """Why ``audit.ranking`` left a unit out, in words (its reasons are English)."""
    if why.startswith("fewer than"):
        return speak("audit.left_out.few", n=min_dispatches)
    if why == "no rate to score yet":
        return speak("audit.left_out.no_rate")
    return why


def zh(key: str, **fields: object) -> str:
    """The Chinese words for ``key`` (spreadsheet headers are Chinese whatever the page says)."""
    return say(key, DEFAULT_LANG, **fields)
