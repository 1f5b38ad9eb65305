"""What a case records of itself: action identities and the size of its record.

An action's digest lets a second delivery be recognised and a reused id with
other content be refused; the record budget keeps the state under Temporal's
payload limit. Pure: the workflow and the clients both call these.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from models.case import Action, CaseEvent, CaseState
from models.errors import RuleViolation

CASE_RECORD_BUDGET = 1024 * 1024
"""Bytes of events a case holds before it takes no more actions but closing ones.

The case's state travels whole as its query answer and its result, and Temporal
refuses payloads over 2 MiB. On top of this budget come at most one more action's
events (the largest, a joint meeting, ~90 KiB), the current plan held in the state
(~75 KiB) and the policy (at most 64 KiB), so the state stays under ~1.3 MiB however
the actions loop (extension requests refused again and again, redos, reconvened
meetings)."""


DIGEST_ENTRY_OVERHEAD = 70
"""Bytes an action's entry in ``CaseState.action_digests`` adds beyond its id:
the 64 hex digits of the digest and the JSON quotes, colon and separator."""


def digest_entry_size(action_id: str) -> int:
    """Bytes the record grows by when it remembers the action ``action_id``."""
    return len(action_id) + DIGEST_ENTRY_OVERHEAD


def action_digest(action: Action) -> str:
    """What the action asks for, so a reused id with other content is caught."""
    fields = asdict(action)
    if not fields.get("evidence", True):
        del fields["evidence"]  # digests of actions from before evidence existed stay the same
    content = json.dumps({"type": type(action).__name__, **fields}, sort_keys=True, default=str)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def is_repeat(state: CaseState, action: Action) -> bool:
    """True for a second delivery of an applied action; refuses a reused id."""
    seen = state.action_digests.get(action.action_id)
    if seen is None:
        return False
    if seen != action_digest(action):
        raise RuleViolation(
            f"action_id: {action.action_id!r} was already used for a different action"
        )
    return True


def event_size(event: CaseEvent) -> int:
    """Bytes of the event as Temporal's JSON converter writes it (ASCII-escaped)."""
    return len(json.dumps(asdict(event), default=str))
