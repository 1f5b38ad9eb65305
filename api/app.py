"""The whistle HTTP API. OpenAPI at /docs.

No ``from __future__ import annotations`` here: FastAPI reads the annotations
of the route functions at runtime, including the local ``Who`` dependency.
"""

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.service import RPCError

from api import schemas
from api.access import acting_department, can_see, forbid, require_kind, scope_of
from audit.stats import red_black, stats
from casework.cases import (
    ActionRejected,
    CaseAlreadyExists,
    CaseNotFound,
    act,
    new_action_id,
    raise_whistle,
    read_case,
)
from casework.connection import connect
from casework.views import action_document, case_document
from models.case import (
    Action,
    CaseStatus,
    Confirm,
    DecideExtension,
    Escalate,
    HoldJointMeeting,
    RaiseWhistle,
    Reopen,
    ReportIn,
    RequestExtension,
    SignOff,
    Withdraw,
)
from models.durations import parse_duration
from models.errors import PolicyError
from models.levels import WhistleLevel
from models.periods import current_quarter, quarter_bounds
from models.principals import Principal, PrincipalKind, principal_document
from models.text_rules import RuleViolation
from policy.loader import load_policy, parse_policy, policy_document
from settings import Settings
from store.engine import make_engine
from store.policies import activate_policy, policy_in_force
from store.principals import add_principal, authenticate, issue_token, list_principals, revoke_token
from store.reads import (
    CaseFilter,
    case_events,
    case_row_document,
    event_row_document,
    get_case,
    search_cases,
)

CaseId = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=100,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Repeat a request with the same key and it is applied once.",
    ),
]

bearer = HTTPBearer(auto_error=False, description="A token from `whistle admin issue-token`.")


def _rule_to_422(err: RuleViolation | PolicyError | ValueError) -> JSONResponse:
    message = str(err)
    field = message.split(":", 1)[0] if ":" in message else "body"
    return JSONResponse(
        status_code=422,
        content={"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"}]},
    )


def create_app(
    settings: Settings, *, engine: Engine | None = None, client: Client | None = None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine or make_engine(settings.sqlalchemy_url())
        app.state.client = client or await connect(settings)
        yield
        if engine is None:
            app.state.engine.dispose()

    app = FastAPI(
        title="whistle",
        version="0.1.0",
        description=(
            "Durable whistle cases (吹哨报到). Branches raise and confirm in their "
            "compounds; departments report in, sign off and ask for time on their cases; "
            "auditors read everything; admins manage principals and the policy."
        ),
        lifespan=lifespan,
    )

    @app.exception_handler(RuleViolation)
    async def on_rule(_: Request, err: RuleViolation) -> JSONResponse:
        return _rule_to_422(err)

    @app.exception_handler(PolicyError)
    async def on_policy(_: Request, err: PolicyError) -> JSONResponse:
        return _rule_to_422(err)

    @app.exception_handler(ActionRejected)
    async def on_rejected(_: Request, err: ActionRejected) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(err)})

    @app.exception_handler(CaseNotFound)
    async def on_missing(_: Request, err: CaseNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(err)})

    @app.exception_handler(RPCError)
    async def on_temporal(_: Request, err: RPCError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": f"Temporal: {err.message}"})

    # --- helpers -----------------------------------------------------------

    def engine_of(request: Request) -> Engine:
        found: Engine = request.app.state.engine
        return found

    def client_of(request: Request) -> Client:
        found: Client = request.app.state.client
        return found

    def current_principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        principal = None
        if credentials is not None:
            principal = authenticate(engine_of(request), credentials.credentials)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="a valid bearer token is needed",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return principal

    Who = Annotated[Principal, Depends(current_principal)]

    def action_id(principal: Principal, key: str | None) -> str:
        # Keys are scoped by principal: two callers' keys never collide.
        return f"{principal.name}:{key}" if key else new_action_id()

    async def visible_case(request: Request, principal: Principal, case_id: str) -> Any:
        state = await read_case(client_of(request), case_id)
        departments = [a.department for a in state.departments]
        if not can_see(principal, state.compound, departments):
            raise CaseNotFound(f"case: no case {case_id!r}")
        return state

    async def apply(request: Request, case_id: str, action: Action) -> dict[str, Any]:
        return action_document(await act(client_of(request), case_id, action))

    async def branch_action(
        request: Request, principal: Principal, case_id: str, doing: str
    ) -> None:
        await visible_case(request, principal, case_id)
        require_kind(principal, PrincipalKind.BRANCH, doing)

    async def department_action(
        request: Request, principal: Principal, case_id: str, named: str | None
    ) -> str:
        await visible_case(request, principal, case_id)
        return acting_department(principal, named)

    # --- cases -------------------------------------------------------------

    @app.post("/cases", status_code=201, tags=["branch"])
    async def raise_case(
        request: Request,
        response: Response,
        body: schemas.RaiseBody,
        principal: Who,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        """Blow a whistle in one of the branch's compounds."""
        require_kind(principal, PrincipalKind.BRANCH, "raise a whistle")
        if body.compound not in principal.compounds:
            raise forbid(f"{principal.actor} does not speak for compound {body.compound!r}")
        policy = policy_in_force(engine_of(request)) or load_policy(settings.policy_file)
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
        case_id = None
        if idempotency_key:
            digest = hashlib.sha256(f"{principal.name}:{idempotency_key}".encode()).hexdigest()
            case_id = f"case-{digest[:20]}"
        try:
            case_id = await raise_whistle(
                client_of(request), raised, task_queue=settings.task_queue, case_id=case_id
            )
        except CaseAlreadyExists as err:
            if not idempotency_key:
                raise ActionRejected(str(err)) from None
            response.status_code = 200  # the same request again: already raised
            return {"case_id": err.case_id, "duplicate": True}
        return {"case_id": case_id, "policy_version": policy.version, "duplicate": False}

    @app.get("/cases", tags=["read"])
    def list_cases(
        request: Request,
        principal: Who,
        status_: Annotated[CaseStatus | None, Query(alias="status")] = None,
        level: Annotated[
            Literal["publicity", "emergency", "enforcement", "joint"] | None, Query()
        ] = None,
        compound: Annotated[str | None, Query(max_length=200)] = None,
        department: Annotated[str | None, Query(max_length=64)] = None,
        overdue: bool | None = None,
        text: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> dict[str, Any]:
        """Cases the caller may see, newest first, from the SQL projection."""
        where = CaseFilter(
            status=status_.value if status_ else None,
            level=level,
            compound=compound,
            department=department,
            overdue=overdue,
            text=text,
            limit=limit,
            offset=offset,
        )
        rows = search_cases(engine_of(request), where, scope_of(principal), datetime.now(UTC))
        return {"cases": [case_row_document(r) for r in rows]}

    @app.get("/cases/{case_id}", tags=["read"])
    async def show_case(request: Request, case_id: CaseId, principal: Who) -> dict[str, Any]:
        """One case with its timeline (from the SQL projection once Temporal forgot it)."""
        try:
            return dict(case_document(await visible_case(request, principal, case_id)))
        except CaseNotFound:
            row = get_case(engine_of(request), case_id)
            visible = row is not None and can_see(
                principal, row.compound, row.departments.split(",")
            )
            if row is None or not visible:
                raise
            document = case_row_document(row)
            document["events"] = [
                event_row_document(e) for e in case_events(engine_of(request), case_id)
            ]
            document["source"] = "projection"
            return document

    @app.get("/cases/{case_id}/events", tags=["read"])
    async def list_events(request: Request, case_id: CaseId, principal: Who) -> dict[str, Any]:
        document = await show_case(request, case_id, principal)
        return {"case_id": case_id, "events": document["events"]}

    # --- department actions ------------------------------------------------

    @app.post("/cases/{case_id}/report-in", tags=["department"])
    async def report_in(
        request: Request,
        case_id: CaseId,
        body: schemas.ReportInBody,
        principal: Who,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        department = await department_action(request, principal, case_id, body.department)
        action = ReportIn(
            action_id=action_id(principal, idempotency_key),
            actor=principal.actor,
            department=department,
        )
        return await apply(request, case_id, action)

    @app.post("/cases/{case_id}/sign-off", tags=["department"])
    async def sign_off(
        request: Request,
        case_id: CaseId,
        body: schemas.SignOffBody,
        principal: Who,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        department = await department_action(request, principal, case_id, body.department)
        action = SignOff(
            action_id=action_id(principal, idempotency_key),
            actor=principal.actor,
            department=department,
            outcome=body.outcome,
            reason=body.reason,
            note=body.note,
            evidence=schemas.to_evidence(body.evidence),
        )
        return await apply(request, case_id, action)

    @app.post("/cases/{case_id}/extensions", tags=["department"])
    async def request_extension(
        request: Request,
        case_id: CaseId,
        body: schemas.ExtensionRequestBody,
        principal: Who,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        department = await department_action(request, principal, case_id, body.department)
        action = RequestExtension(
            action_id=action_id(principal, idempotency_key),
            actor=principal.actor,
            department=department,
            seconds=parse_duration(body.by, field="by"),
            reason=body.reason,
        )
        return await apply(request, case_id, action)

    # --- branch actions ------------------------------------------------------

    @app.post("/cases/{case_id}/extensions/decision", tags=["branch"])
    async def decide_extension(
        request: Request,
        case_id: CaseId,
        body: schemas.ExtensionDecisionBody,
        principal: Who,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        await branch_action(request, principal, case_id, "decide an extension")
        action = DecideExtension(
            action_id=action_id(principal, idempotency_key),
            actor=principal.actor,
            department=body.department,
            approve=body.approve,
            reason=body.reason,
        )
        return await apply(request, case_id, action)

    @app.post("/cases/{case_id}/joint-meeting", tags=["branch"])
    async def joint_meeting(
        request: Request,
        case_id: CaseId,
        body: schemas.JointMeetingBody,
        principal: Who,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        await branch_action(request, principal, case_id, "record a joint meeting")
        action = HoldJointMeeting(
            action_id=action_id(principal, idempotency_key),
            actor=principal.actor,
            lead=body.lead,
            attendees=list(body.attendees),
            decision=body.decision,
            tasks=dict(body.tasks),
            deadline_seconds=parse_duration(body.deadline, field="deadline")
            if body.deadline
            else None,
            evidence=schemas.to_evidence(body.evidence),
        )
        return await apply(request, case_id, action)

    @app.post("/cases/{case_id}/escalate", tags=["branch"])
    async def escalate(
        request: Request,
        case_id: CaseId,
        body: schemas.ReasonBody,
        principal: Who,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        await branch_action(request, principal, case_id, "escalate")
        action = Escalate(
            action_id=action_id(principal, idempotency_key),
            actor=principal.actor,
            reason=body.reason,
        )
        return await apply(request, case_id, action)

    @app.post("/cases/{case_id}/confirm", tags=["branch"])
    async def confirm(
        request: Request,
        case_id: CaseId,
        body: schemas.ConfirmBody,
        principal: Who,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        await branch_action(request, principal, case_id, "confirm a result")
        action = Confirm(
            action_id=action_id(principal, idempotency_key),
            actor=principal.actor,
            satisfaction=body.satisfaction,
            note=body.note,
        )
        return await apply(request, case_id, action)

    @app.post("/cases/{case_id}/reopen", tags=["branch"])
    async def reopen(
        request: Request,
        case_id: CaseId,
        body: schemas.ReasonBody,
        principal: Who,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        await branch_action(request, principal, case_id, "reopen a case")
        action = Reopen(
            action_id=action_id(principal, idempotency_key),
            actor=principal.actor,
            reason=body.reason,
        )
        return await apply(request, case_id, action)

    @app.post("/cases/{case_id}/withdraw", tags=["branch"])
    async def withdraw(
        request: Request,
        case_id: CaseId,
        body: schemas.ReasonBody,
        principal: Who,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        await branch_action(request, principal, case_id, "withdraw a whistle")
        action = Withdraw(
            action_id=action_id(principal, idempotency_key),
            actor=principal.actor,
            reason=body.reason,
        )
        return await apply(request, case_id, action)

    # --- assessment ----------------------------------------------------------

    def require_reader_of_all(principal: Principal) -> None:
        if principal.kind not in (PrincipalKind.AUDITOR, PrincipalKind.ADMIN):
            raise forbid(f"only auditors and admins read the assessment; you are {principal.actor}")

    def period(
        start: str | None, end: str | None, quarter: str | None
    ) -> tuple[datetime | None, datetime | None]:
        try:
            if quarter:
                if start or end:
                    raise RuleViolation("quarter: give a quarter or from/to, not both")
                return quarter_bounds(quarter)
            return (
                datetime.combine(date.fromisoformat(start), time(), UTC) if start else None,
                datetime.combine(date.fromisoformat(end), time(), UTC) if end else None,
            )
        except ValueError as err:
            raise RuleViolation(str(err) if ":" in str(err) else f"period: {err}") from None

    DATE = r"^\d{4}-\d{2}-\d{2}$"
    Quarter = Annotated[str | None, Query(max_length=6, pattern=r"^\d{4}Q[1-4]$")]

    @app.get("/stats", tags=["audit"])
    def get_stats(
        request: Request,
        principal: Who,
        start: Annotated[str | None, Query(alias="from", pattern=DATE)] = None,
        end: Annotated[str | None, Query(alias="to", pattern=DATE)] = None,
        quarter: Quarter = None,
        by: Literal["department", "compound", "level"] = "department",
    ) -> dict[str, Any]:
        """Response, resolution, satisfaction, return, redo, on-time rates; times; whistles."""
        require_reader_of_all(principal)
        first, last = period(start, end, quarter)
        return stats(engine_of(request), start=first, end=last, by=by)

    @app.get("/stats/red-black", tags=["audit"])
    def get_red_black(request: Request, principal: Who, quarter: Quarter = None) -> dict[str, Any]:
        """The quarter's top three and bottom three departments (红黑榜)."""
        require_reader_of_all(principal)
        chosen = quarter or current_quarter()
        first, last = period(None, None, chosen)
        groups = stats(engine_of(request), start=first, end=last)["groups"]
        return {"quarter": chosen, **red_black(groups)}

    # --- policy and principals ----------------------------------------------

    @app.get("/policy", tags=["read"])
    def get_policy(request: Request, principal: Who) -> dict[str, Any]:
        """The policy in force for new cases."""
        policy = policy_in_force(engine_of(request)) or load_policy(settings.policy_file)
        return policy_document(policy)

    @app.put("/policy", tags=["admin"])
    def put_policy(request: Request, body: schemas.PolicyBody, principal: Who) -> dict[str, Any]:
        """Check a district policy (TOML over the default) and put it in force."""
        require_kind(principal, PrincipalKind.ADMIN, "change the policy")
        policy = parse_policy(body.toml, source=f"api:{principal.name}")
        activate_policy(engine_of(request), policy, source=f"api:{principal.name}")
        return policy_document(policy)

    @app.get("/principals", tags=["admin"])
    def get_principals(request: Request, principal: Who) -> dict[str, Any]:
        require_kind(principal, PrincipalKind.ADMIN, "list principals")
        return {"principals": [principal_document(p) for p in list_principals(engine_of(request))]}

    @app.post("/principals", status_code=201, tags=["admin"])
    def post_principal(
        request: Request, body: schemas.PrincipalBody, principal: Who
    ) -> dict[str, Any]:
        require_kind(principal, PrincipalKind.ADMIN, "add principals")
        policy = policy_in_force(engine_of(request)) or load_policy(settings.policy_file)
        added = add_principal(
            engine_of(request),
            name=body.name,
            kind=body.kind,
            compounds=list(body.compounds),
            department=body.department,
            known_departments=set(policy.departments),
        )
        return principal_document(added)

    @app.post("/principals/{name}/tokens", status_code=201, tags=["admin"])
    def post_token(
        request: Request,
        name: Annotated[str, Path(max_length=64)],
        body: schemas.TokenBody,
        principal: Who,
    ) -> dict[str, Any]:
        require_kind(principal, PrincipalKind.ADMIN, "issue tokens")
        expires = (
            timedelta(seconds=parse_duration(body.expires_in, field="expires_in"))
            if body.expires_in
            else None
        )
        try:
            token_id, token = issue_token(
                engine_of(request), name, expires_in=expires, label=body.label
            )
        except RuleViolation as err:
            raise HTTPException(404, detail=str(err)) from None
        return {"token_id": token_id, "token": token, "principal": name}

    @app.delete("/tokens/{token_id}", status_code=204, tags=["admin"])
    def delete_token(
        request: Request, token_id: Annotated[str, Path(max_length=32)], principal: Who
    ) -> Response:
        require_kind(principal, PrincipalKind.ADMIN, "revoke tokens")
        if not revoke_token(engine_of(request), token_id):
            raise HTTPException(404, detail=f"token: no live token {token_id!r}")
        return Response(status_code=204)

    return app
