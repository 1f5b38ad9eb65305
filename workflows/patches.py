"""``workflow.patched`` ids: each guards a change of commands, so that histories
recorded before it replay unchanged (tests/histories keeps them).

An id is checked where its change happens, in the same order as when it was
introduced; never rename one, never reorder the checks.
"""

from __future__ import annotations

NEW_LEAD_TAKES_OVER = "new-lead-takes-over"
"""workflows.transitions: a new lead's earlier sign-off decides the whistle."""
JOINT_PLAN_CLEARS_EXTENSIONS = "joint-plan-clears-extensions"
"""workflows.transitions and workflows.lifecycle: a joint plan drops pending extension requests."""
JOINT_MEETING_REMINDER = "joint-meeting-reminder"
"""workflows.deadlines: the joint meeting is reminded like a report-in."""
BRANCH_HEARS_RESULT = "branch-hears-result"
"""workflows.lifecycle: a resolved case tells the branch a result waits for its word."""
SEARCH_ATTRIBUTES = "search-attributes"
"""workflows.search: the case upserts its search attributes as they change."""
