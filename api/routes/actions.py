"""Actions on a case: a department reports in, signs off and asks for time; the
branch decides extensions, records the joint meeting, escalates, confirms,
reopens and withdraws. Each is applied once per Idempotency-Key."""

from fastapi import APIRouter
from temporalio.client import Client

from api import schemas
from api.access import acting_department, require_kind
from api.deps import CaseIdPath, ClientDep, IdempotencyKey, PrincipalDep, action_id
from api.responses import ActionDocument
from api.routes.cases import visible_case
from casework.cases import act
from casework.views import action_document
from models.case import (
    Action,
    Confirm,
    DecideExtension,
    Escalate,
    HoldJointMeeting,
    Reopen,
    ReportIn,
    RequestExtension,
    SignOff,
    Withdraw,
)
from models.durations import parse_duration
from models.errors import ActionRejected
from models.principals import Principal, PrincipalKind

router = APIRouter(prefix="/cases/{case_id}")


async def _apply(client: Client, case_id: str, action: Action, key: str | None) -> ActionDocument:
    try:
        result = await act(client, case_id, action)
    except ActionRejected as err:
        if key and str(err).startswith("action_id:"):
            # The action id is derived from the key: name what the client sent.
            raise ActionRejected(
                f"Idempotency-Key: {key!r} was already used for a different action"
            ) from None
        raise
    return ActionDocument.model_validate(action_document(result))


async def _as_department(
    client: Client, principal: Principal, case_id: str, named: str | None
) -> str:
    await visible_case(client, principal, case_id)
    return acting_department(principal, named)


async def _as_branch(client: Client, principal: Principal, case_id: str, doing: str) -> None:
    await visible_case(client, principal, case_id)
    require_kind(principal, PrincipalKind.BRANCH, doing)


# --- a department ------------------------------------------------------------


@router.post("/report-in", tags=["department"])
async def report_in(
    case_id: CaseIdPath,
    body: schemas.ReportInBody,
    principal: PrincipalDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Report in (报到) for the acting department."""
    department = await _as_department(client, principal, case_id, body.department)
    action = ReportIn(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        department=department,
    )
    return await _apply(client, case_id, action, idempotency_key)


@router.post("/sign-off", tags=["department"])
async def sign_off(
    case_id: CaseIdPath,
    body: schemas.SignOffBody,
    principal: PrincipalDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Sign off: resolved, unresolved (one whistle up) or not ours (退单)."""
    department = await _as_department(client, principal, case_id, body.department)
    action = SignOff(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        department=department,
        outcome=body.outcome.value,
        reason=body.reason,
        note=body.note,
        evidence=schemas.to_evidence(body.evidence),
    )
    return await _apply(client, case_id, action, idempotency_key)


@router.post("/extensions", tags=["department"])
async def request_extension(
    case_id: CaseIdPath,
    body: schemas.ExtensionRequestBody,
    principal: PrincipalDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Ask the branch for more time (延期)."""
    department = await _as_department(client, principal, case_id, body.department)
    action = RequestExtension(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        department=department,
        seconds=parse_duration(body.by, field="by"),
        reason=body.reason,
    )
    return await _apply(client, case_id, action, idempotency_key)


# --- the branch ----------------------------------------------------------------


@router.post("/extensions/decision", tags=["branch"])
async def decide_extension(
    case_id: CaseIdPath,
    body: schemas.ExtensionDecisionBody,
    principal: PrincipalDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    await _as_branch(client, principal, case_id, "decide an extension")
    action = DecideExtension(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        department=body.department,
        approve=body.approve,
        reason=body.reason,
    )
    return await _apply(client, case_id, action, idempotency_key)


@router.post("/joint-meeting", tags=["branch"])
async def joint_meeting(
    case_id: CaseIdPath,
    body: schemas.JointMeetingBody,
    principal: PrincipalDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Record the joint meeting (联席会议): lead, tasks and the plan's deadline."""
    await _as_branch(client, principal, case_id, "record a joint meeting")
    action = HoldJointMeeting(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        lead=body.lead,
        attendees=list(body.attendees),
        decision=body.decision,
        tasks=dict(body.tasks),
        deadline_seconds=parse_duration(body.deadline, field="deadline") if body.deadline else None,
        evidence=schemas.to_evidence(body.evidence),
    )
    return await _apply(client, case_id, action, idempotency_key)


@router.post("/escalate", tags=["branch"])
async def escalate(
    case_id: CaseIdPath,
    body: schemas.ReasonBody,
    principal: PrincipalDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    await _as_branch(client, principal, case_id, "escalate")
    action = Escalate(
        action_id=action_id(principal, idempotency_key), actor=principal.actor, reason=body.reason
    )
    return await _apply(client, case_id, action, idempotency_key)


@router.post("/confirm", tags=["branch"])
async def confirm(
    case_id: CaseIdPath,
    body: schemas.ConfirmBody,
    principal: PrincipalDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    await _as_branch(client, principal, case_id, "confirm a result")
    action = Confirm(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        satisfaction=body.satisfaction,
        note=body.note,
    )
    return await _apply(client, case_id, action, idempotency_key)


@router.post("/reopen", tags=["branch"])
async def reopen(
    case_id: CaseIdPath,
    body: schemas.ReasonBody,
    principal: PrincipalDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    await _as_branch(client, principal, case_id, "reopen a case")
    action = Reopen(
        action_id=action_id(principal, idempotency_key), actor=principal.actor, reason=body.reason
    )
    return await _apply(client, case_id, action, idempotency_key)


@router.post("/withdraw", tags=["branch"])
async def withdraw(
    case_id: CaseIdPath,
    body: schemas.ReasonBody,
    principal: PrincipalDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    await _as_branch(client, principal, case_id, "withdraw a whistle")
    action = Withdraw(
        action_id=action_id(principal, idempotency_key), actor=principal.actor, reason=body.reason
    )
    return await _apply(client, case_id, action, idempotency_key)
