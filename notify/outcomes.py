"""How a channel's answer becomes a ``SendResult``: one home for what is retried.

2xx: delivered. 429 and 503 with ``Retry-After``: wait that long. 408, 429, 5xx,
time-outs and broken connections: transient. Any other answer: permanent.
Errors never carry a secret: URLs lose their query string, secrets are blotted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from models.notify import SendResult

ERROR_MAX_CHARS = 300
TRANSIENT_STATUSES = frozenset({408, 429})
RETRY_AFTER_STATUSES = frozenset({429, 503})
_BLOT = "***"


def redact(url: str) -> str:
    """``url``'s scheme and host only: robots and webhooks keep their keys in the query
    and in the path (``/hook/<token>``), and errors reach stations."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, "", "", ""))


def url_secrets(url: str) -> list[str]:
    """What of ``url`` an error must not show: the whole URL, its path, its query and
    each value."""
    parts = urlsplit(url)
    path = parts.path if parts.path not in ("", "/") else ""
    return [url, path, parts.query, *(value for _, value in parse_qsl(parts.query))]


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret blotted out, cut to ``ERROR_MAX_CHARS``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, _BLOT)
    return text[:ERROR_MAX_CHARS]


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def from_status(response: httpx.Response, where: str) -> SendResult | None:
    """None for a 2xx answer (the caller may look further), else the failure."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    error = f"{where} answered HTTP {status}"
    wait = retry_after(response.headers.get("retry-after"))
    if status in RETRY_AFTER_STATUSES and wait is not None:
        return SendResult(ok=False, retry_after=wait, error=error)
    transient = status in TRANSIENT_STATUSES or status >= 500
    return SendResult(ok=False, permanent=not transient, error=error)


def from_exception(error: Exception, where: str, secrets: Iterable[str]) -> SendResult:
    """A time-out or a broken connection: transient."""
    if isinstance(error, httpx.TimeoutException):
        return SendResult(ok=False, error=f"{where} timed out")
    detail = scrub(str(error), secrets)
    return SendResult(ok=False, error=f"{where}: {type(error).__name__}: {detail}")
