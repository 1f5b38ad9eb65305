"""The street's station (综合执法进小区工作站): it holds the joint meeting, decides
extensions, reviews returns, re-dispatches and supervises, on the cases of its
street; and it reads the overdue board of its street. Each action is applied
once per Idempotency-Key."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api import schemas
from api.access import forbid, require_reader_of_all, require_station_for, scope_of
from api.deps import CaseIdPath, ClientDep, EngineDep, IdempotencyKey, PrincipalDep, action_id
from api.responses import ActionDocument, OverdueBoard
from api.routes.actions import apply_action
from api.routes.cases import visible_case
from models.case import (
    DecideExtension,
    HoldJointMeeting,
    Redispatch,
    ReviewReturn,
    Supervise,
)
from models.durations import parse_duration
from models.limits import DEPARTMENT_CODE, LIST_LIMIT_MAX
from models.principals import Principal, PrincipalKind
from store.board import board_document, overdue_board, street_scope, unit_refs
from store.org import org_in_force

router = APIRouter()


async def _as_station(
    client: Client, engine: Engine, principal: Principal, case_id: str, doing: str
) -> None:
    state = await visible_case(client, principal, case_id, engine)  # another street's: 404
    require_station_for(principal, state.compound, org_in_force(engine), doing)


# --- actions on a case ------------------------------------------------------------


@router.post("/cases/{case_id}/joint-meeting", tags=["station"])
async def joint_meeting(
    case_id: CaseIdPath,
    body: schemas.JointMeetingBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Hold the joint meeting (联席会议): the lead, the plan's tasks and its deadline."""
    await _as_station(client, engine, principal, case_id, "hold a joint meeting")
    action = HoldJointMeeting(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        lead=body.lead,
        attendees=list(body.attendees),
        join=unit_refs(engine, body.join, field="join"),
        decision=body.decision,
        tasks=dict(body.tasks),
        deadline_seconds=parse_duration(body.deadline, field="deadline") if body.deadline else None,
        evidence=schemas.to_evidence(body.evidence),
    )
    return await apply_action(client, case_id, action, idempotency_key)


@router.post("/cases/{case_id}/extensions/decision", tags=["station"])
async def decide_extension(
    case_id: CaseIdPath,
    body: schemas.ExtensionDecisionBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Grant or refuse a unit's pending extension (延期); a refusal needs a reason."""
    await _as_station(client, engine, principal, case_id, "decide an extension")
    action = DecideExtension(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        department=body.department,
        approve=body.approve,
        reason=body.reason,
    )
    return await apply_action(client, case_id, action, idempotency_key)


@router.post("/cases/{case_id}/return-review", tags=["station"])
async def review_return(
    case_id: CaseIdPath,
    body: schemas.ReturnReviewBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Review a return (退单审核): approve (the unit leaves; ``dispatch`` names the
    right units) or refuse with a reason (the unit stays; its clock never stopped)."""
    await _as_station(client, engine, principal, case_id, "review a return")
    action = ReviewReturn(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        department=body.department,
        approve=body.approve,
        reason=body.reason,
        dispatch=unit_refs(engine, body.dispatch, field="dispatch"),
    )
    return await apply_action(client, case_id, action, idempotency_key)


@router.post("/cases/{case_id}/redispatch", tags=["station"])
async def redispatch(
    case_id: CaseIdPath,
    body: schemas.RedispatchBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Re-dispatch (改派): add units to the case, or replace one, with a reason."""
    await _as_station(client, engine, principal, case_id, "re-dispatch a case")
    action = Redispatch(
        action_id=action_id(principal, idempotency_key),
        actor=principal.actor,
        add=unit_refs(engine, body.add, field="add"),
        replace=body.replace,
        reason=body.reason,
    )
    return await apply_action(client, case_id, action, idempotency_key)


@router.post("/cases/{case_id}/supervise", tags=["station"])
async def supervise(
    case_id: CaseIdPath,
    body: schemas.SuperviseBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> ActionDocument:
    """Supervise (督办): press the units on the case, with a note."""
    await _as_station(client, engine, principal, case_id, "supervise a case")
    action = Supervise(
        action_id=action_id(principal, idempotency_key), actor=principal.actor, note=body.note
    )
    return await apply_action(client, case_id, action, idempotency_key)


# --- the overdue board ----------------------------------------------------------------


@router.get("/board/overdue", tags=["station"])
def overdue(
    principal: PrincipalDep,
    engine: EngineDep,
    street: Annotated[str | None, Query(pattern=DEPARTMENT_CODE)] = None,
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX)] = LIST_LIMIT_MAX,
) -> OverdueBoard:
    """Open cases past a deadline, most overdue first, from the SQL projection: a
    station's street, or (auditors and admins) every street or the one named."""
    org = org_in_force(engine)
    if principal.kind == PrincipalKind.STATION:
        if street is not None and street != principal.street:
            raise forbid(f"{principal.actor} reads the board of street {principal.street!r} only")
        scope = scope_of(principal, org=org)
    else:
        require_reader_of_all(principal, "read the overdue board of any street")
        scope = street_scope(org, street, field="street")
    now = datetime.now(UTC)
    items = overdue_board(engine, scope, now, limit=limit)
    return OverdueBoard.model_validate(board_document(items, org, now))
