"""What the routes depend on, in one place: the settings, the database engine
and the Temporal client the app was made with, the calling principal, the
policy for new cases, and the path and header parameters routes share.

No ``from __future__ import annotations``: FastAPI reads these annotations at
run time.
"""

import hashlib
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from temporalio.client import Client

from casework.cases import new_action_id
from models.limits import ACTION_ID_MAX, CASE_ID
from models.policy import Policy
from models.principals import Principal
from settings import Settings
from store.policies import policy_for_new_cases
from store.principals import authenticate


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_client(request: Request) -> Client:
    client: Client = request.app.state.client
    return client


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ClientDep = Annotated[Client, Depends(get_client)]

bearer = HTTPBearer(auto_error=False, description="A token from `whistle admin issue-token`.")


def current_principal(
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    principal = authenticate(engine, credentials.credentials) if credentials else None
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="a valid bearer token is needed",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def new_case_policy(engine: EngineDep, settings: SettingsDep) -> Policy:
    """The policy for new cases (``store.policies.policy_for_new_cases``)."""
    return policy_for_new_cases(engine, settings)


PolicyDep = Annotated[Policy, Depends(new_case_policy)]

CaseIdPath = Annotated[str, Path(pattern=CASE_ID)]

IDEMPOTENCY_KEY = r"^[A-Za-z0-9._:-]+$"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=ACTION_ID_MAX,
        pattern=IDEMPOTENCY_KEY,
        description=(
            "Repeat a request with the same key and it is applied once; the same key "
            "with a different request is refused (409). Keys are the caller's own."
        ),
    ),
]


def key_digest(principal: Principal, key: str) -> str:
    """The key as the principal's own: two callers' keys never collide, and any
    key the header accepts gives an id of one fixed length."""
    return hashlib.sha256(f"{principal.name}:{key}".encode()).hexdigest()


def action_id(principal: Principal, key: str | None) -> str:
    return f"key-{key_digest(principal, key)[:40]}" if key else new_action_id()


def case_id_for(principal: Principal, key: str | None) -> str | None:
    """The case id a keyed raise takes (None: a fresh id)."""
    return f"case-{key_digest(principal, key)[:20]}" if key else None
