"""The whistle HTTP API: the app, its error answers and its routers. OpenAPI
at /openapi.json, Swagger UI at /docs.

Routes live in ``api.routes`` by concern; what they depend on (settings,
engine, client, the calling principal) in ``api.deps``; the settings are the
app's own (``app.state.settings``), never looked up globally.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.bodylimit import BodyLimit
from api.docs import add_docs
from api.routes import (
    actions,
    admin,
    assessment,
    cases,
    health,
    notifications,
    roster,
    station,
)
from casework.connection import connect
from models.errors import (
    ActionRejected,
    CaseAlreadyExists,
    CaseNotFound,
    EngineUnavailable,
    RuleViolation,
)
from models.limits import UPLOAD_FILE_MAX_BYTES, UPLOAD_FILES_MAX
from observe.requests import RequestMetrics
from settings import Settings
from store.engine import make_engine
from web.app import UPLOAD_PAGES, add_workbench

DESCRIPTION = (
    "Durable whistle cases (吹哨报到). Branches raise and confirm in their "
    "compounds; departments report in, sign off and ask for time on their cases; "
    "the street's station holds joint meetings, decides extensions, reviews returns, "
    "re-dispatches, supervises and reads the overdue board of its street; "
    "auditors read everything; admins manage principals and the policy.\n\n"
    "Repeat a POST with the same `Idempotency-Key` and it is applied once; the same "
    "key with a different request is refused (409). A request body over the limit "
    "(`WHISTLE_API_MAX_BODY_BYTES`, 1 MiB by default) is refused (413) unread."
)


def _detail(status: int, err: Exception) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": str(err)})


def _rule_to_422(_: Request, err: Exception) -> JSONResponse:
    """A rule broken by the input, as a validation error naming the field."""
    message = str(err)
    field = message.split(":", 1)[0] if ":" in message else "body"
    return JSONResponse(
        status_code=422,
        content={"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"}]},
    )


def add_error_answers(app: FastAPI) -> None:
    """Each error of ``models.errors`` to its HTTP status, in one place."""
    app.add_exception_handler(RuleViolation, _rule_to_422)  # PolicyError too
    app.add_exception_handler(ActionRejected, lambda _, err: _detail(409, err))
    app.add_exception_handler(CaseAlreadyExists, lambda _, err: _detail(409, err))
    app.add_exception_handler(CaseNotFound, lambda _, err: _detail(404, err))
    app.add_exception_handler(EngineUnavailable, lambda _, err: _detail(503, err))


def create_app(
    settings: Settings, *, engine: Engine | None = None, client: Client | None = None
) -> FastAPI:
    """The API over ``engine`` and ``client``; either missing is made from ``settings``."""

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
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    add_error_answers(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.api_max_body_bytes,
        form_max_bytes=UPLOAD_FILES_MAX * UPLOAD_FILE_MAX_BYTES + settings.api_max_body_bytes,
        form_paths=UPLOAD_PAGES,
    )
    for module in (cases, actions, station, assessment, admin, notifications, roster):
        app.include_router(module.router)
    app.include_router(health.router)
    add_docs(app)
    add_workbench(app)
    app.add_middleware(RequestMetrics)  # added last: outermost, it sees every answer
    return app
