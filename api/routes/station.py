"""The street's station (综合执法进小区工作站): it holds the joint meeting, decides
extensions, reviews returns, re-dispatches and supervises, on the cases of its
street; and it reads the overdue board of its street. Each action is applied
once per Idempotency-Key."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api import schemas
from api.access import forbid, require_reader_of_all, scope_of
from api.deps import EngineDep, PrincipalDep
from api.responses import ActionDocument, OverdueBoard
from api.routes.actions import OnCase
from models.case import (
    DecideExtension,
    HoldJointMeeting,
    Redispatch,
    ReviewReturn,
    Supervise,
)
from models.durations import parse_deadline_spec
from models.limits import DEPARTMENT_CODE, LIST_LIMIT_MAX
from models.principals import PrincipalKind
from store.board import board_document, overdue_board, street_scope
from store.org import org_in_force

router = APIRouter()


# --- actions on a case ------------------------------------------------------------


@router.post("/cases/{case_id}/joint-meeting", tags=["station"])
async def joint_meeting(body: schemas.JointMeetingBody, on: OnCase) -> ActionDocument:
    """Hold the joint meeting (联席会议): the lead, the plan's tasks and its deadline."""
    await on.as_station("hold a joint meeting")
    span = parse_deadline_spec(body.deadline, field="deadline") if body.deadline else None
    action = HoldJointMeeting(
        action_id=on.action_id,
        actor=on.actor,
        lead=body.lead,
        attendees=list(body.attendees),
        join=on.units(body.join, "join"),
        decision=body.decision,
        tasks=dict(body.tasks),
        deadline_seconds=span.seconds or None if span else None,
        deadline_working_days=span.working_days if span else 0,
        evidence=schemas.to_evidence(body.evidence),
    )
    return await on.apply(action)


@router.post("/cases/{case_id}/extensions/decision", tags=["station"])
async def decide_extension(body: schemas.ExtensionDecisionBody, on: OnCase) -> ActionDocument:
    """Grant or refuse a unit's pending extension (延期); a refusal needs a reason."""
    await on.as_station("decide an extension")
    action = DecideExtension(
        action_id=on.action_id,
        actor=on.actor,
        department=body.department,
        approve=body.approve,
        reason=body.reason,
    )
    return await on.apply(action)


@router.post("/cases/{case_id}/return-review", tags=["station"])
async def review_return(body: schemas.ReturnReviewBody, on: OnCase) -> ActionDocument:
    """Review a return (退单审核): approve (the unit leaves; ``dispatch`` names the
    right units) or refuse with a reason (the unit stays; its clock never stopped)."""
    await on.as_station("review a return")
    action = ReviewReturn(
        action_id=on.action_id,
        actor=on.actor,
        department=body.department,
        approve=body.approve,
        reason=body.reason,
        dispatch=on.units(body.dispatch, "dispatch"),
    )
    return await on.apply(action)


@router.post("/cases/{case_id}/redispatch", tags=["station"])
async def redispatch(body: schemas.RedispatchBody, on: OnCase) -> ActionDocument:
    """Re-dispatch (改派): add units to the case, or replace one, with a reason."""
    await on.as_station("re-dispatch a case")
    action = Redispatch(
        action_id=on.action_id,
        actor=on.actor,
        add=on.units(body.add, "add"),
        replace=body.replace,
        reason=body.reason,
    )
    return await on.apply(action)


@router.post("/cases/{case_id}/supervise", tags=["station"])
async def supervise(body: schemas.SuperviseBody, on: OnCase) -> ActionDocument:
    """Supervise (督办): press the units on the case, with a note."""
    await on.as_station("supervise a case")
    return await on.apply(Supervise(action_id=on.action_id, actor=on.actor, note=body.note))


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
