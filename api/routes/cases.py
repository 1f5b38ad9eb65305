"""Raise a whistle; list, show and read the events of the cases one may see."""

import dataclasses
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.service import RPCError

from api import schemas
from api.access import can_see, forbid, require_kind, scope_of
from api.deps import (
    CaseIdPath,
    ClientDep,
    EngineDep,
    IdempotencyKey,
    PolicyDep,
    PrincipalDep,
    SettingsDep,
    case_id_for,
)
from api.responses import CaseDocument, CaseList, EventList, Raised
from casework.cases import raise_whistle, read_case, translate
from casework.routing import compound_code, route_units
from casework.views import case_document, raised_document
from models.case import CaseState, CaseStatus, RaiseWhistle
from models.errors import ActionRejected, CaseAlreadyExists, CaseNotFound, RuleViolation
from models.levels import WhistleLevel
from models.limits import DEPARTMENT_CODE, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX
from models.org import find_compound
from models.principals import Principal, PrincipalKind
from models.rules import check_raise
from models.tables import CaseRecord
from models.text_rules import SHORT_MAX
from store.case_filters import CaseFilter
from store.keyset import CURSOR_MAX
from store.org import org_in_force
from store.reads import case_events, case_row_document, get_case, projected_case_document
from store.reads import search_page as search

router = APIRouter(prefix="/cases")


async def visible_case(
    client: Client, principal: Principal, case_id: str, engine: Engine | None = None
) -> CaseState:
    """The live case, if the principal may see it; else CaseNotFound (404).

    A station's reach is its street in the organisation in force: give ``engine``
    to read it (only a station needs it; without it a station sees nothing).
    """
    state = await read_case(client, case_id)
    org = org_in_force(engine) if engine is not None and _needs_org(principal) else None
    departments = [a.department for a in state.departments]
    if not can_see(principal, state.compound, departments, org=org):
        raise CaseNotFound(f"case: no case {case_id!r}")
    return state


def projected_case(principal: Principal, engine: Engine, case_id: str) -> CaseRecord | None:
    """The case's row in the projection, if the principal may see it (else None)."""
    row = get_case(engine, case_id)
    if row is None:
        return None
    org = org_in_force(engine) if _needs_org(principal) else None
    departments = row.departments.split(",") if row.departments else []
    return row if can_see(principal, row.compound, departments, org=org) else None


def _needs_org(principal: Principal) -> bool:
    return principal.kind == PrincipalKind.STATION


async def _raised_with(client: Client, case_id: str) -> RaiseWhistle:
    """The request a case was started with: the first event of its history."""
    handle = client.get_workflow_handle(case_id)
    try:
        async for event in handle.fetch_history_events(page_size=1):
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            decoded = await client.data_converter.decode(list(payloads), [RaiseWhistle])
            raised: RaiseWhistle = decoded[0]
            return raised
    except RPCError as err:
        raise translate(case_id, err) from None
    raise CaseNotFound(f"case: no case {case_id!r}")


@router.post("", status_code=status.HTTP_201_CREATED, tags=["branch"])
async def raise_case(
    response: Response,
    body: schemas.RaiseBody,
    principal: PrincipalDep,
    client: ClientDep,
    engine: EngineDep,
    settings: SettingsDep,
    policy: PolicyDep,
    idempotency_key: IdempotencyKey = None,
) -> Raised:
    """Blow a whistle in one of the branch's compounds.

    With an organisation in force, the compound is recorded by its code and the
    case goes to the units whose jurisdiction covers it (``casework.routing``).
    With an Idempotency-Key, the same request again answers 200 and
    ``duplicate: true``; the key with a different request is refused (409).
    """
    require_kind(principal, PrincipalKind.BRANCH, "raise a whistle")
    if body.compound not in principal.compounds:
        raise forbid(f"{principal.actor} does not speak for compound {body.compound!r}")
    raised = RaiseWhistle(
        compound=body.compound,
        level=WhistleLevel.parse(body.level).value,
        category=body.category,
        title=body.title,
        description=body.description,
        location=body.location,
        raised_by=principal.actor,
        departments=list(body.departments),
        policy=policy,
        evidence=schemas.to_evidence(body.evidence),
    )
    check_raise(raised)  # its messages first: a bad category or department is no routing's
    org = org_in_force(engine)
    raised = dataclasses.replace(
        raised,
        compound=compound_code(org, raised.compound),
        units=route_units(org, policy, raised.compound, raised.category, raised.departments),
    )
    try:
        case_id = await raise_whistle(
            client,
            raised,
            task_queue=settings.task_queue,
            case_id=case_id_for(principal, idempotency_key),
            timezone=settings.timezone,
        )
    except CaseAlreadyExists as err:
        if not idempotency_key:
            raise
        first = await _raised_with(client, err.case_id)
        # The policy or organisation in force may have changed since: the request is the same.
        if dataclasses.replace(first, policy=raised.policy, units=raised.units) != raised:
            raise ActionRejected(
                f"Idempotency-Key: {idempotency_key!r} already raised case {err.case_id} "
                "with a different request"
            ) from None
        response.status_code = status.HTTP_200_OK
        return Raised(
            **raised_document(err.case_id, first.level, first.policy.version, duplicate=True)
        )
    return Raised(**raised_document(case_id, raised.level, policy.version))


@router.get("", tags=["read"])
def list_cases(
    principal: PrincipalDep,
    engine: EngineDep,
    status_: Annotated[CaseStatus | None, Query(alias="status")] = None,
    level: Annotated[str | None, Query(pattern=schemas.LEVEL_NAME)] = None,
    compound: Annotated[str | None, Query(max_length=SHORT_MAX)] = None,
    department: Annotated[str | None, Query(pattern=DEPARTMENT_CODE)] = None,
    overdue: bool | None = None,
    text: Annotated[str | None, Query(max_length=SHORT_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX)] = LIST_LIMIT_DEFAULT,
    after: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CaseList:
    """Cases the caller may see, newest first, from the SQL projection.

    Page with ``after``: each page's ``next`` is the cursor of the page after it
    (null on the last). A cursor reads on from its row whatever was raised since,
    at the same cost on every page. ``offset`` still works, for old links, but reads
    every row it skips; it cannot be combined with ``after``.

    With an organisation in force, ``compound`` matches its code in any letter case.
    """
    if after is not None and offset:
        raise RuleViolation("offset: give a cursor (after) or an offset, not both")
    org = org_in_force(engine)
    named = find_compound(org, compound) if org is not None and compound else None
    where = CaseFilter(
        status=status_.value if status_ else None,
        level=level,
        compound=named.code if named else compound,
        department=department,
        overdue=overdue,
        text=text,
        limit=limit,
        offset=offset,
        after=after,
    )
    rows, following = search(engine, where, scope_of(principal, org=org), datetime.now(UTC))
    return CaseList.model_validate(
        {"cases": [case_row_document(r) for r in rows], "next": following}
    )


@router.get("/{case_id}", tags=["read"])
async def show_case(
    case_id: CaseIdPath, principal: PrincipalDep, client: ClientDep, engine: EngineDep
) -> CaseDocument:
    """One case with its timeline (from the SQL projection once Temporal forgot it)."""
    try:
        state = await visible_case(client, principal, case_id, engine)
    except CaseNotFound:
        row = projected_case(principal, engine, case_id)
        if row is None:
            raise
        return CaseDocument.model_validate(
            projected_case_document(row, case_events(engine, case_id))
        )
    return CaseDocument.model_validate(case_document(state))


@router.get("/{case_id}/events", tags=["read"])
async def list_events(
    case_id: CaseIdPath, principal: PrincipalDep, client: ClientDep, engine: EngineDep
) -> EventList:
    document = await show_case(case_id, principal, client, engine)
    return EventList(case_id=case_id, events=document.events)
