"""The Temporal search attributes of a case: their one home (names and types),
and what a case's values are, computed purely from its state.

Each case upserts them as they change (workflows.search), so that
``temporal workflow list --query "WhistleLevel='joint'"`` finds cases. The
namespace must know them: ``whistle dev`` registers them on its server, the
worker checks them at start (casework.search_attributes).

``Overdue`` is true while a deadline was missed at the case's whistle and what
it asked for is still not done: from a missed report-in until the late unit
reports in, from a missed resolve deadline until the late unit signs off, from
an overdue joint meeting until it is held, or until the unit leaves the case.
A new whistle clears it (fresh deadlines), except when the whistle went up
because of the miss with the late units' deadlines capped ("a miss never buys
time": they are still late); so do the case's resolution and its closing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.common import (
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    SearchAttributePair,
)

from models.case import SYSTEM, CaseEvent, CaseState, EventKind
from models.levels import WhistleLevel

LEVEL = SearchAttributeKey.for_keyword("WhistleLevel")
STATUS = SearchAttributeKey.for_keyword("WhistleStatus")
COMPOUND = SearchAttributeKey.for_keyword("Compound")
UNITS = SearchAttributeKey.for_keyword_list("Units")
OVERDUE = SearchAttributeKey.for_bool("Overdue")

KEYS: tuple[SearchAttributeKey[Any], ...] = (LEVEL, STATUS, COMPOUND, UNITS, OVERDUE)
"""Every search attribute a case sets, in the order it sets them."""

TYPE_NAMES: dict[SearchAttributeIndexedValueType, str] = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
    SearchAttributeIndexedValueType.BOOL: "Bool",
}
"""Their types as the ``temporal`` CLI names them (``--type``, ``--search-attribute``)."""


def type_name(key: SearchAttributeKey[Any]) -> str:
    return TYPE_NAMES[key.indexed_value_type]


def values(state: CaseState, late: frozenset[str]) -> list[SearchAttributePair[Any]]:
    """The case's attributes now, one pair per key of ``KEYS`` in order."""
    open_ = state.status.is_open
    units = [a.department for a in state.departments if a.active]
    return [
        SearchAttributePair(LEVEL, state.level.value),
        SearchAttributePair(STATUS, state.status.value),
        SearchAttributePair(COMPOUND, state.compound),
        SearchAttributePair(UNITS, units),
        SearchAttributePair(OVERDUE, open_ and bool(late)),
    ]


# --- Overdue: a fold over the case's events -----------------------------------

MEETING = "meeting"


def _report_in(department: str | None) -> str:
    return f"report_in:{department}"


def _resolve(department: str | None) -> str:
    return f"resolve:{department}"


def _without(late: set[str], department: str | None) -> set[str]:
    return {key for key in late if key.split(":", 1)[-1] != department or key == MEETING}


def fold_late(late: frozenset[str], events: Sequence[CaseEvent]) -> frozenset[str]:
    """What is late after ``events`` (appended to those that left ``late``):
    ``report_in:UNIT``, ``resolve:UNIT`` and ``meeting``. Pure and incremental,
    so a replay computes the same from the same events."""
    now = set(late)
    previous: CaseEvent | None = None
    for event in events:
        kind = event.kind  # compared with the StrEnum members: an unknown kind is ignored
        if kind == EventKind.REPORT_IN_MISSED:
            now.add(_report_in(event.department))
        elif kind == EventKind.RESOLVE_MISSED:
            now.add(_resolve(event.department))
        elif kind == EventKind.JOINT_MEETING_OVERDUE:
            now.add(MEETING)
        elif kind == EventKind.REPORTED_IN:
            now.discard(_report_in(event.department))
        elif kind == EventKind.SIGNED_OFF:
            now.discard(_resolve(event.department))
            now.discard(_report_in(event.department))
        elif kind == EventKind.RETURNED:
            now = _without(now, event.department)
        elif kind == EventKind.REDISPATCHED:
            gone = event.detail.get("removed") or event.detail.get("instead_of")
            if gone:
                now = _without(now, gone)
        elif kind == EventKind.JOINT_MEETING_HELD:
            # Attending is reporting in; the plan sets everyone's deadline anew.
            now = {key for key in now if key != MEETING and not key.startswith("report_in:")}
        elif kind == EventKind.ESCALATED:
            if not _capped(event, previous):
                now.clear()
        elif kind in (
            EventKind.JOINT_MEETING_RECONVENED,
            EventKind.RESOLVED,
            EventKind.CLOSED,
            EventKind.WITHDRAWN,
        ):
            now.clear()
        previous = event
    return frozenset(now)


def _capped(escalated: CaseEvent, previous: CaseEvent | None) -> bool:
    """The whistle went up for a miss, the late units' deadlines capped: it follows
    the system's supervision of the miss (workflows.misses), and is not the joint
    task force (where the late units have no deadline until the plan)."""
    return (
        escalated.actor == SYSTEM
        and escalated.to_level != WhistleLevel.JOINT.value
        and previous is not None
        and previous.kind == EventKind.SUPERVISED.value
        and previous.actor == SYSTEM
    )
