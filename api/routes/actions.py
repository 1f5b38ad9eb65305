"""Actions on a case: a department reports in, signs off and asks for time; the
branch requests a joint meeting, escalates, confirms, reopens and withdraws.
The station's actions are in ``api.routes.station``. Each is applied once per
Idempotency-Key."""

from typing import Annotated

from fastapi import APIRouter, Depends

from api import schemas
from api.access import acting_department, require_kind, require_station_for
from api.deps import (
    CaseIdPath,
    ClientDep,
    EngineDep,
    IdempotencyKey,
    PrincipalDep,
)
from api.deps import action_id as keyed_action_id
from api.responses import ActionDocument
from api.routes.cases import visible_case
from casework.cases import act
from casework.routing import unit_refs
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
    UnitRef,
    Withdraw,
)
from models.durations import parse_deadline_spec
from models.errors import ActionRejected
from models.principals import PrincipalKind
from store.org import org_in_force

router = APIRouter(prefix="/cases/{case_id}")


class CaseAction:
    """A request to act on a case (a FastAPI dependency): the case, who acts, the
    client and store to act with, and the Idempotency-Key the action id derives from.

    Each role check reads the case first: one outside the principal's reach is a
    404; a visible case whose action is another role's, a 403. ``engine``: a station
    sees its street's cases (scoping reads the organisation), so its attempt at
    another role's action is a 403, not a 404.
    """

    def __init__(
        self,
        case_id: CaseIdPath,
        principal: PrincipalDep,
        client: ClientDep,
        engine: EngineDep,
        idempotency_key: IdempotencyKey = None,
    ) -> None:
        self.case_id = case_id
        self.principal = principal
        self.client = client
        self.engine = engine
        self.key = idempotency_key
        self.action_id = keyed_action_id(principal, idempotency_key)
        self.actor = principal.actor

    async def as_department(self, named: str | None) -> str:
        """The department the principal acts for (``api.access.acting_department``)."""
        await visible_case(self.client, self.principal, self.case_id, self.engine)
        return acting_department(self.principal, named)

    async def as_branch(self, doing: str) -> None:
        await visible_case(self.client, self.principal, self.case_id, self.engine)
        require_kind(self.principal, PrincipalKind.BRANCH, doing)

    async def as_station(self, doing: str) -> None:
        """Only the station of the case's street (another street's case: 404)."""
        state = await visible_case(self.client, self.principal, self.case_id, self.engine)
        require_station_for(self.principal, state.compound, org_in_force(self.engine), doing)

    def units(self, codes: list[str], field: str) -> list[UnitRef]:
        """Unit codes as units of the organisation in force (422 on ``field`` if unknown)."""
        return unit_refs(org_in_force(self.engine), codes, field=field)

    async def apply(self, action: Action) -> ActionDocument:
        try:
            result = await act(self.client, self.case_id, action)
        except ActionRejected as err:
            if self.key and str(err).startswith("action_id:"):
                # The action id is derived from the key: name what the client sent.
                raise ActionRejected(
                    f"Idempotency-Key: {self.key!r} was already used for a different action"
                ) from None
            raise
        return ActionDocument.model_validate(action_document(result))


OnCase = Annotated[CaseAction, Depends()]


# --- a department ------------------------------------------------------------


@router.post("/report-in", tags=["department"])
async def report_in(body: schemas.ReportInBody, on: OnCase) -> ActionDocument:
    """Report in (报到) for the acting department."""
    department = await on.as_department(body.department)
    return await on.apply(ReportIn(action_id=on.action_id, actor=on.actor, department=department))


@router.post("/sign-off", tags=["department"])
async def sign_off(body: schemas.SignOffBody, on: OnCase) -> ActionDocument:
    """Sign off: resolved, unresolved (one whistle up) or not ours (退单)."""
    department = await on.as_department(body.department)
    action = SignOff(
        action_id=on.action_id,
        actor=on.actor,
        department=department,
        outcome=body.outcome.value,
        reason=body.reason,
        note=body.note,
        evidence=schemas.to_evidence(body.evidence),
    )
    return await on.apply(action)


@router.post("/extensions", tags=["department"])
async def request_extension(body: schemas.ExtensionRequestBody, on: OnCase) -> ActionDocument:
    """Ask the station for more time (延期)."""
    department = await on.as_department(body.department)
    span = parse_deadline_spec(body.by, field="by")
    action = RequestExtension(
        action_id=on.action_id,
        actor=on.actor,
        department=department,
        seconds=span.seconds,
        working_days=span.working_days,
        reason=body.reason,
    )
    return await on.apply(action)


# --- the branch ----------------------------------------------------------------


@router.post("/joint-meeting-request", tags=["branch"])
async def request_joint_meeting(body: schemas.ReasonBody, on: OnCase) -> ActionDocument:
    """Ask the street's station to convene a joint meeting (联席会议)."""
    await on.as_branch("request a joint meeting")
    return await on.apply(
        RequestJointMeeting(action_id=on.action_id, actor=on.actor, reason=body.reason)
    )


@router.post("/escalate", tags=["branch"])
async def escalate(body: schemas.ReasonBody, on: OnCase) -> ActionDocument:
    await on.as_branch("escalate")
    return await on.apply(Escalate(action_id=on.action_id, actor=on.actor, reason=body.reason))


@router.post("/confirm", tags=["branch"])
async def confirm(body: schemas.ConfirmBody, on: OnCase) -> ActionDocument:
    await on.as_branch("confirm a result")
    action = Confirm(
        action_id=on.action_id,
        actor=on.actor,
        satisfaction=body.satisfaction,
        note=body.note,
    )
    return await on.apply(action)


@router.post("/reopen", tags=["branch"])
async def reopen(body: schemas.ReasonBody, on: OnCase) -> ActionDocument:
    await on.as_branch("reopen a case")
    return await on.apply(Reopen(action_id=on.action_id, actor=on.actor, reason=body.reason))


@router.post("/withdraw", tags=["branch"])
async def withdraw(body: schemas.ReasonBody, on: OnCase) -> ActionDocument:
    await on.as_branch("withdraw a whistle")
    return await on.apply(Withdraw(action_id=on.action_id, actor=on.actor, reason=body.reason))
