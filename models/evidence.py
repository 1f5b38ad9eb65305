"""Evidence (photos, documents, meeting minutes) is referenced, never carried.

A case holds only where a file lives and its SHA-256, so workflow payloads
stay small whatever is attached, and the hash, bound into the event's ledger
link, lets an auditor prove the file shown later is the file referred to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from models.limits import SHA256_HEX_LEN, SHA256_HEX_RE
from models.text_rules import SHORT_MAX, RuleViolation, check_text

EVIDENCE_MAX = 10
"""References per action."""
URL_MAX = 2000
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]|\s")  # \s: Unicode spaces too
STORE_PATH = "/evidence/"
"""Files uploaded through the workbench live in whistle's own content-addressed
store, referred to by this path and their SHA-256, whatever the host is called."""
_STORE_URL = re.compile(rf"^{STORE_PATH}[0-9a-f]{{{SHA256_HEX_LEN}}}$")


def store_url(sha256: str) -> str:
    return f"{STORE_PATH}{sha256}"


@dataclass(kw_only=True)
class Evidence:
    url: str
    """Where the file is kept: an https address (object storage, the district's file
    server) or whistle's own store (``/evidence/<sha256>``)."""
    sha256: str
    """The file's SHA-256, 64 lowercase hex digits."""
    label: str = ""


def check_evidence(items: list[Evidence], *, field: str = "evidence") -> None:
    """Raise RuleViolation naming the item and the rule, or return."""
    if len(items) > EVIDENCE_MAX:
        raise RuleViolation(f"{field}: at most {EVIDENCE_MAX} references; got {len(items)}")
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"{field}[{index}]"
        check_url(item.url, field=f"{where}.url")
        if not SHA256_HEX_RE.match(item.sha256):
            raise RuleViolation(f"{where}.sha256: must be 64 lowercase hex digits (a SHA-256)")
        if _STORE_URL.match(item.url) and item.url != store_url(item.sha256):
            raise RuleViolation(f"{where}.url: a file of whistle's store is named by its SHA-256")
        check_text(item.label, field=f"{where}.label", max_len=SHORT_MAX)
        if item.sha256 in seen:
            raise RuleViolation(f"{where}.sha256: the same file is referenced twice")
        seen.add(item.sha256)


def check_url(url: str, *, field: str) -> None:
    if len(url) > URL_MAX:
        raise RuleViolation(f"{field}: must be at most {URL_MAX} characters; got {len(url)}")
    if _STORE_URL.match(url):
        return
    if _URL_FORBIDDEN.search(url):
        raise RuleViolation(f"{field}: must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise RuleViolation(f"{field}: is not a valid URL") from None
    if parts.scheme != "https" or not parts.hostname:
        raise RuleViolation(
            f"{field}: must be an https:// address with a host or {STORE_PATH}<sha256>"
        )
    if parts.username is not None or parts.password is not None:
        raise RuleViolation(f"{field}: must not carry credentials")


def evidence_detail(items: list[Evidence]) -> dict[str, str]:
    """Event detail entries, one per reference: ``evidence.N`` -> "sha256 url [label]".

    Stored in the event's detail so the ledger hash covers each reference.
    """
    detail = {}
    for number, item in enumerate(items, start=1):
        text = f"{item.sha256} {item.url}"
        label = item.label.strip()
        detail[f"evidence.{number}"] = f"{text} {label}" if label else text
    return detail


def parse_evidence_option(value: str, *, field: str = "evidence") -> Evidence:
    """``URL#sha256=HEX`` (pip's hash-fragment form), as given on a command line."""
    url, sep, fragment = value.rpartition("#sha256=")
    if not sep:
        raise RuleViolation(f"{field}: must be URL#sha256=HEX; got {value[:80]!r}")
    return Evidence(url=url, sha256=fragment)
