"""The policy in force, and the principals and their tokens (admins)."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status

from api import schemas
from api.access import require_kind
from api.admin_responses import IssuedToken, PolicyDocument, PrincipalDocument, PrincipalList
from api.deps import EngineDep, PolicyDep, PrincipalDep
from models.durations import parse_duration
from models.errors import RuleViolation
from models.limits import PRINCIPAL_NAME
from models.principals import PrincipalKind, principal_document
from policy.loader import parse_policy, policy_document
from store.policies import activate_policy
from store.principals import add_principal, issue_token, list_principals, revoke_token
from store.sign_in import set_password

router = APIRouter()


@router.get("/policy", tags=["read"])
def get_policy(principal: PrincipalDep, policy: PolicyDep) -> PolicyDocument:
    """The policy in force for new cases."""
    return PolicyDocument.model_validate(policy_document(policy))


@router.put("/policy", tags=["admin"])
def put_policy(
    body: schemas.PolicyBody, principal: PrincipalDep, engine: EngineDep
) -> PolicyDocument:
    """Check a district policy (TOML over the default) and put it in force."""
    require_kind(principal, PrincipalKind.ADMIN, "change the policy")
    policy = parse_policy(body.toml, source=f"api:{principal.name}")
    activate_policy(engine, policy, source=f"api:{principal.name}")
    return PolicyDocument.model_validate(policy_document(policy))


@router.get("/principals", tags=["admin"])
def get_principals(principal: PrincipalDep, engine: EngineDep) -> PrincipalList:
    require_kind(principal, PrincipalKind.ADMIN, "list principals")
    documents = [principal_document(p) for p in list_principals(engine)]
    return PrincipalList.model_validate({"principals": documents})


@router.post("/principals", status_code=status.HTTP_201_CREATED, tags=["admin"])
def post_principal(
    body: schemas.PrincipalBody, principal: PrincipalDep, engine: EngineDep, policy: PolicyDep
) -> PrincipalDocument:
    """Add a principal. A station names its street, a department principal a unit
    code of the organisation in force or a department code of the policy."""
    require_kind(principal, PrincipalKind.ADMIN, "add principals")
    added = add_principal(
        engine,
        name=body.name,
        kind=body.kind.value,
        compounds=list(body.compounds),
        department=body.department,
        street=body.street,
        known_departments=set(policy.departments),
    )
    return PrincipalDocument.model_validate(principal_document(added))


@router.post("/principals/{name}/tokens", status_code=status.HTTP_201_CREATED, tags=["admin"])
def post_token(
    name: Annotated[str, Path(pattern=PRINCIPAL_NAME)],
    body: schemas.TokenBody,
    principal: PrincipalDep,
    engine: EngineDep,
) -> IssuedToken:
    require_kind(principal, PrincipalKind.ADMIN, "issue tokens")
    expires = (
        timedelta(seconds=parse_duration(body.expires_in, field="expires_in"))
        if body.expires_in
        else None
    )
    try:
        token_id, token = issue_token(engine, name, expires_in=expires, label=body.label)
    except RuleViolation as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(err)) from None
    return IssuedToken(token_id=token_id, token=token, principal=name)


@router.put("/principals/{name}/password", status_code=status.HTTP_204_NO_CONTENT, tags=["admin"])
def put_password(
    name: Annotated[str, Path(pattern=PRINCIPAL_NAME)],
    body: schemas.PasswordBody,
    principal: PrincipalDep,
    engine: EngineDep,
) -> Response:
    """Set a principal's password for the workbench (argon2id); its sessions end."""
    require_kind(principal, PrincipalKind.ADMIN, "set passwords")
    try:
        set_password(engine, name, body.password)
    except RuleViolation as err:  # the body's own limits passed: the principal is unknown
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(err)) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["admin"])
def delete_token(
    token_id: Annotated[str, Path(max_length=32)], principal: PrincipalDep, engine: EngineDep
) -> Response:
    """Revoke a token at once; 404 if it is unknown or already dead."""
    require_kind(principal, PrincipalKind.ADMIN, "revoke tokens")
    if not revoke_token(engine, token_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"token: no live token {token_id!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
