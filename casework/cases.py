"""Raise a whistle, act on a case and read it, through Temporal."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from models import records, rules
from models.case import (
    Action,
    ActionResult,
    CaseState,
    Confirm,
    DecideExtension,
    Escalate,
    HoldJointMeeting,
    RaiseWhistle,
    Redispatch,
    Reopen,
    ReportIn,
    RequestExtension,
    RequestJointMeeting,
    ReviewReturn,
    SignOff,
    Supervise,
    Withdraw,
)
from models.errors import (
    ActionRejected,
    CaseAlreadyExists,
    CaseNotFound,
    EngineUnavailable,
    RuleViolation,
    WhistleError,
)
from models.limits import CASE_ID, CASE_ID_RE
from models.workdays import DEFAULT_TIMEZONE, zone
from policy.calendar import pin_working_time
from workflows.case import WhistleCase

QUERY_TIMEOUT = timedelta(seconds=10)
"""A query needs a worker; without one, give up rather than hang."""


class TemporalRefused(EngineUnavailable):
    """Temporal refused a call, or no worker answered in time."""


UPDATES: dict[type[Action], Any] = {
    ReportIn: WhistleCase.report_in,
    SignOff: WhistleCase.sign_off,
    RequestExtension: WhistleCase.request_extension,
    DecideExtension: WhistleCase.decide_extension,
    HoldJointMeeting: WhistleCase.hold_joint_meeting,
    Escalate: WhistleCase.escalate,
    Confirm: WhistleCase.confirm,
    Reopen: WhistleCase.reopen,
    Withdraw: WhistleCase.withdraw,
    RequestJointMeeting: WhistleCase.request_joint_meeting,
    ReviewReturn: WhistleCase.review_return,
    Redispatch: WhistleCase.redispatch,
    Supervise: WhistleCase.supervise,
}


def new_case_id(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return f"case-{moment:%Y%m%d}-{uuid.uuid4().hex[:10]}"


def new_action_id() -> str:
    return uuid.uuid4().hex


async def raise_whistle(
    client: Client,
    request: RaiseWhistle,
    *,
    task_queue: str,
    case_id: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> str:
    """Start the case; bad input raises RuleViolation and starts nothing.

    A policy counting working days gets the calendar pinned into the case's
    copy (``policy.calendar.pin_working_time``), counted in ``timezone``: the
    district's (``Settings.timezone``).
    """
    request = pinned(request, timezone)
    rules.check_raise(request)
    case_id = case_id or new_case_id()
    if not CASE_ID_RE.match(case_id):
        raise RuleViolation(
            f"case_id: must be letters, digits, '.', '_' or '-' ({CASE_ID}); got {case_id[:120]!r}"
        )
    try:
        await client.start_workflow(
            WhistleCase.run,
            request,
            id=case_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        raise CaseAlreadyExists(case_id) from None
    except RPCError as err:
        raise translate(case_id, err) from None
    return case_id


def pinned(request: RaiseWhistle, timezone: str) -> RaiseWhistle:
    """``request`` with the working time its policy needs pinned (once)."""
    policy = request.policy
    if policy.working_time is not None or not policy.uses_working_days:
        return request
    today = datetime.now(zone(timezone)).date()
    return replace(request, policy=pin_working_time(policy, timezone=timezone, today=today))


def _handle(client: Client, case_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(case_id)


async def act(client: Client, case_id: str, action: Action) -> ActionResult:
    """Deliver one action; the action id makes a second delivery harmless."""
    update = UPDATES[type(action)]
    try:
        # The update id carries the action's digest: Temporal deduplicates a true
        # repeat, while a reused action id with other content reaches the
        # validator, which refuses it.
        update_id = f"{action.action_id}:{records.action_digest(action)[:16]}"
        result: ActionResult = await _handle(client, case_id).execute_update(
            update, action, id=update_id, result_type=ActionResult
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            raise ActionRejected(cause.message) from None
        raise ActionRejected(str(cause or err)) from None
    except RPCError as err:
        raise translate(case_id, err) from None
    return result


async def read_case(client: Client, case_id: str) -> CaseState:
    try:
        state: CaseState = await _handle(client, case_id).query(
            WhistleCase.state, rpc_timeout=QUERY_TIMEOUT
        )
    except RPCError as err:
        raise translate(case_id, err) from None
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as err:
        raise await _unanswered(client, case_id, err) from None
    return state


async def _unanswered(client: Client, case_id: str, err: Exception) -> WhistleError:
    """Why a case's query failed: another workflow type in the namespace is no case
    (404); a case whose worker could not answer now (its task timed out with a worker
    that died, say) is unavailable (503: ask again), never "no case"."""
    try:
        described = await _handle(client, case_id).describe(rpc_timeout=QUERY_TIMEOUT)
    except RPCError as describing:
        return translate(case_id, describing)
    if described.workflow_type != WhistleCase.__name__:
        return CaseNotFound(f"case: no case {case_id!r}")
    return TemporalRefused(f"case: {case_id} could not be read just now ({err}); ask again")


def translate(case_id: str, err: RPCError) -> WhistleError:
    """Temporal's refusal of a call about ``case_id`` as an error of ``models.errors``."""
    if err.status == RPCStatusCode.NOT_FOUND:
        if "completed" in err.message or "closed" in err.message:
            return ActionRejected(f"case: {case_id} is closed; no more actions")
        return CaseNotFound(f"case: no case {case_id!r}")
    if err.status == RPCStatusCode.DEADLINE_EXCEEDED:
        message = f"case: no worker answered for {case_id!r} in time"
    else:
        message = f"Temporal refused the call: {err.message}"
    return TemporalRefused(message)


__all__ = [
    "ActionRejected",
    "CaseAlreadyExists",
    "CaseNotFound",
    "EngineUnavailable",
    "RuleViolation",
    "TemporalRefused",
    "act",
    "new_action_id",
    "new_case_id",
    "raise_whistle",
    "read_case",
    "translate",
]
