"""The tamper-evident ledger: each event's hash covers its content and the
previous event's hash, so editing, deleting or reordering any event of a case
breaks the chain from there on. Pure functions: the workflow computes the
chain as it records events; auditors recompute it from the SQL rows."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Protocol

GENESIS = "0" * 64


def canonical_time(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


class LedgerEntry(Protocol):
    """An event as the workflow holds it or as a ledger row stores it."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def department(self) -> str | None: ...
    @property
    def from_level(self) -> str | None: ...
    @property
    def to_level(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...


def event_hash(previous: str, case_id: str, entry: LedgerEntry, detail: dict[str, str]) -> str:
    content = {
        "case_id": case_id,
        "seq": entry.seq,
        "kind": entry.kind,
        "at": canonical_time(entry.at),
        "actor": entry.actor,
        "level": entry.level,
        "department": entry.department,
        "from_level": entry.from_level,
        "to_level": entry.to_level,
        "reason": entry.reason,
        "detail": detail,
    }
    body = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((previous + body).encode("utf-8")).hexdigest()
