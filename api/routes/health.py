"""Operations: /metrics (Prometheus), /healthz (liveness), /readyz (the database
and Temporal reachable). No principal: probes and scrapers carry no API token
(/metrics may ask for ``WHISTLE_METRICS_TOKEN``). Out of the OpenAPI schema: they
are the operators' contract, not the API's.

No ``from __future__ import annotations``: FastAPI reads these annotations at
run time.
"""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse, Response

from api.deps import ClientDep, EngineDep, SettingsDep
from observe.exposition import CONTENT_TYPE, allowed, render
from observe.health import database_check, readiness, temporal_check

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process answers: nothing else is checked, so a restart never follows an outage."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(engine: EngineDep, client: ClientDep) -> JSONResponse:
    ready, document = await readiness(
        {"database": database_check(engine), "temporal": temporal_check(client)}
    )
    return JSONResponse(document, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    if not allowed(authorization, settings.metrics_token):
        return JSONResponse(
            {"detail": "a valid bearer token is needed"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    page = await asyncio.to_thread(render)
    return Response(page, media_type=CONTENT_TYPE)
