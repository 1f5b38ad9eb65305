"""Actions on a case: a department reports in, signs off and asks for time; the
branch requests a joint meeting, escalates, confirms, reopens and withdraws.
The station's actions are in ``api.routes.station``. Each is applied once per
Idempotency-Key."""

from fastapi import APIRouter
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api import schemas
from api.access import acting_department, require_kind
from api.deps import (
    CaseIdPath,
    ClientDep,
    EngineDep,
    IdempotencyKey,
    PrincipalDep,
    action_id,
)
from api.responses import ActionDocument
from api.routes.cases import visible_case
from casework.cases import act
from casework.views import action_document
from models.case import (
    Action,
    Confirm,
    Escalate,
    Reopen,
    ReportIn,
    RequestExtension,
    RequestJointMeeting,
    SignOff,
    Withdraw,
)
from models.durations import parse_duration
from models.errors import ActionRejected
from models.principals import Principal, PrincipalKind

router = APIRouter(prefix="/cases/{case_id}")


async def apply_action(
    client: Client, case_id: str, action: Action, key: str | None
) -> ActionDocument:
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


# ``engine``: a station sees its street's cases (scoping reads the organisation),
# so its attempt at another role's action is a 403, not a 404.


async def _as_department(
    client: Client, engine: Engine, principal: Principal, case_id: str, named: str | None
) -> str:
    await visible_case(client, principal, case_id, engine)
    return acting_department(principal, named)


async def _as_branch(
    client: Client, engine: Engine, principal: Principal, case_id: str, doing: str
) -> None:
    await visible_case(client, principal, case_id, engine)
    require_kind(principal, PrincipalKind.BRANCH, doing)


# --- a department ------------------------------------------------------------


@router.post("/report-in", tags=["department"])
async def report_in(
    case_id: CaseIdPath,
    body: schemas.ReportInBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Report in (报到) for the acting department."""
    department = await _as_department(client, engine, principal, case_id, body.department)
    action = ReportIn(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        department=department,
    )
    return await apply_action(client, case_id, action, idempotency_key)


@router.post("/sign-off", tags=["department"])
async def sign_off(
    case_id: CaseIdPath,
    body: schemas.SignOffBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Sign off: resolved, unresolved (one whistle up) or not ours (退单)."""
    department = await _as_department(client, engine, principal, case_id, body.department)
    action = SignOff(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        department=department,
        outcome=body.outcome.value,
        reason=body.reason,
        note=body.note,
        evidence=schemas.to_evidence(body.evidence),
    )
    return await apply_action(client, case_id, action, idempotency_key)


@router.post("/extensions", tags=["department"])
async def request_extension(
    case_id: CaseIdPath,
    body: schemas.ExtensionRequestBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Ask the station for more time (延期)."""
    department = await _as_department(client, engine, principal, case_id, body.department)
    action = RequestExtension(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        department=department,
        seconds=parse_duration(body.by, field="by"),
        reason=body.reason,
    )
    return await apply_action(client, case_id, action, idempotency_key)


# --- the branch ----------------------------------------------------------------


@router.post("/joint-meeting-request", tags=["branch"])
async def request_joint_meeting(
    case_id: CaseIdPath,
    body: schemas.ReasonBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Ask the street's station to convene a joint meeting (联席会议)."""
    await _as_branch(client, engine, principal, case_id, "request a joint meeting")
    action = RequestJointMeeting(
        action_id=action_id(principal, idempotency_key), actor=principal.actor, reason=body.reason
    )
    return await apply_action(client, case_id, action, idempotency_key)


@router.post("/escalate", tags=["branch"])
async def escalate(
    case_id: CaseIdPath,
    body: schemas.ReasonBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    await _as_branch(client, engine, principal, case_id, "escalate")
    action = Escalate(
        action_id=action_id(principal, idempotency_key), actor=principal.actor, reason=body.reason
    )
    return await apply_action(client, case_id, action, idempotency_key)


@router.post("/confirm", tags=["branch"])
async def confirm(
    case_id: CaseIdPath,
    body: schemas.ConfirmBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    await _as_branch(client, engine, principal, case_id, "confirm a result")
    action = Confirm(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        satisfaction=body.satisfaction,
        note=body.note,
    )
    return await apply_action(client, case_id, action, idempotency_key)


@router.post("/reopen", tags=["branch"])
async def reopen(
    case_id: CaseIdPath,
    body: schemas.ReasonBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    await _as_branch(client, engine, principal, case_id, "reopen a case")
    action = Reopen(
        action_id=action_id(principal, idempotency_key), actor=principal.actor, reason=body.reason
    )
    return await apply_action(client, case_id, action, idempotency_key)


@router.post("/withdraw", tags=["branch"])
async def withdraw(
    case_id: CaseIdPath,
    body: schemas.ReasonBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    await _as_branch(client, engine, principal, case_id, "withdraw a whistle")
    action = Withdraw(
        action_id=action_id(principal, idempotency_key), actor=principal.actor, reason=body.reason
    )
    return await apply_action(client, case_id, action, idempotency_key)
