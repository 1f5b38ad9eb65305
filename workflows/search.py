"""The case's search attributes (models.search_attributes), upserted as they change.

``sync`` runs once the case has changed (run's start, each action, each deadline):
it upserts only the attributes whose value differs from what the workflow
already holds, so an action that moves nothing adds no command. Histories
recorded before search attributes (tests/histories) replay without them: the
upserts are guarded by ``workflow.patched`` (workflows.patches).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from workflows.patches import SEARCH_ATTRIBUTES

with workflow.unsafe.imports_passed_through():
    from models import search_attributes
    from models.case import CaseState


class SearchAttributes:
    """Keeps the case's search attributes in step with its state."""

    def __init__(self, state: CaseState) -> None:
        self.state = state
        self.late: frozenset[str] = frozenset()
        """What is late (models.search_attributes.fold_late) after ``folded`` events."""
        self.folded = 0
        self.enabled: bool | None = None
        """None until the patch is first asked; False for cases recorded before it."""

    def sync(self) -> None:
        state = self.state
        self.late = search_attributes.fold_late(self.late, state.events[self.folded :])
        self.folded = len(state.events)
        if self.enabled is False:
            return
        held = workflow.info().typed_search_attributes
        changed: list[SearchAttributeUpdate[Any]] = []
        for pair in search_attributes.values(state, self.late):
            value = pair.value
            if value == []:  # an empty list is no value: never set it, so never resent
                if held.get(pair.key) is not None:
                    changed.append(pair.key.value_unset())
            elif held.get(pair.key) != value:
                changed.append(pair.key.value_set(value))
        if not changed:
            return
        if self.enabled is None:
            self.enabled = workflow.patched(SEARCH_ATTRIBUTES)
            if not self.enabled:
                return
        workflow.upsert_search_attributes(changed)
