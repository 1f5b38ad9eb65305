"""Principals and their API tokens. Tokens are random and kept only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.limits import COMPOUNDS_PER_PRINCIPAL_MAX, TOKEN_MAX, check_principal_name
from models.org import Organisation
from models.people_tables import ApiTokenRecord, PrincipalRecord
from models.principals import Principal, PrincipalKind
from models.text_rules import SHORT_MAX, RuleViolation, check_text
from store.org import org_in_force
from store.reads import utc

TOKEN_PREFIX = "wst_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def principal_of(record: PrincipalRecord) -> Principal:
    return Principal(
        name=record.name,
        kind=PrincipalKind(record.kind),
        compounds=frozenset(c for c in record.compounds.split("\n") if c),
        department=record.department,
        street=record.street,
    )


def add_principal(
    engine: Engine,
    *,
    name: str,
    kind: str,
    compounds: list[str] | None = None,
    department: str | None = None,
    street: str | None = None,
    known_departments: set[str] | None = None,
) -> Principal:
    """Add a principal; a station's street and a department's unit are checked
    against the organisation in force, read now."""
    check_principal_name(name, field="name")
    try:
        parsed = PrincipalKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in PrincipalKind)
        raise RuleViolation(f"kind: must be one of {kinds}; got {kind!r}") from None
    cleaned = [
        check_text(c, field="compounds", max_len=SHORT_MAX, required=True) for c in compounds or []
    ]
    if len(set(cleaned)) > COMPOUNDS_PER_PRINCIPAL_MAX:
        raise RuleViolation(
            f"compounds: at most {COMPOUNDS_PER_PRINCIPAL_MAX}; got {len(set(cleaned))}"
        )
    if parsed == PrincipalKind.BRANCH and not cleaned:
        raise RuleViolation("compounds: a branch speaks for at least one compound")
    if parsed != PrincipalKind.BRANCH and cleaned:
        raise RuleViolation("compounds: only a branch is bound to compounds")
    if parsed == PrincipalKind.DEPARTMENT:
        if not department:
            raise RuleViolation("department: a department principal names its department")
        _check_department(org_in_force(engine), department, known_departments)
    elif department:
        raise RuleViolation("department: only a department principal names a department")
    if parsed == PrincipalKind.STATION:
        if not street:
            raise RuleViolation("street: a station names its street (--street)")
        _check_street(org_in_force(engine), street)
    elif street:
        raise RuleViolation("street: only a station is bound to a street")
    record = PrincipalRecord(
        name=name,
        kind=parsed.value,
        compounds="\n".join(dict.fromkeys(cleaned)),
        department=department,
        street=street,
        created_at=datetime.now(UTC),
    )
    with Session(engine) as session:
        if session.get(PrincipalRecord, name) is not None:
            raise RuleViolation(f"name: a principal {name!r} already exists")
        session.add(record)
        try:
            session.commit()
        except IntegrityError:  # added by someone else meanwhile
            raise RuleViolation(f"name: a principal {name!r} already exists") from None
        session.refresh(record)
        return principal_of(record)


def _check_department(
    org: Organisation | None, department: str, known_departments: set[str] | None
) -> None:
    """A unit code of the organisation in force, or a department code of the policy."""
    if org is not None and department in org.units:
        return
    if known_departments is None or department in known_departments:
        return
    known = ", ".join(sorted(known_departments))
    if org is None:
        raise RuleViolation(
            f"department: unknown department {department!r}: not a department code of the "
            f"policy ({known}), and no organisation is in force to name a unit"
        )
    raise RuleViolation(
        f"department: unknown department {department!r}: neither a unit of the organisation "
        f"{org.version} nor a department code of the policy ({known})"
    )


def _check_street(org: Organisation | None, street: str) -> None:
    if org is None:
        raise RuleViolation(
            "street: no organisation is in force, so no street can be named; "
            "put one in force first: whistle org --apply FILE"
        )
    if street not in org.streets:
        known = ", ".join(sorted(org.streets))
        raise RuleViolation(
            f"street: {street!r} is not a street of the organisation {org.version}; one of: {known}"
        )


def list_principals(engine: Engine) -> list[Principal]:
    with Session(engine) as session:
        records = session.exec(select(PrincipalRecord).order_by(col(PrincipalRecord.name)))
        return [principal_of(r) for r in records if r.disabled_at is None]


def get_principal(engine: Engine, name: str) -> Principal | None:
    with Session(engine) as session:
        record = session.get(PrincipalRecord, name)
        return principal_of(record) if record and record.disabled_at is None else None


def issue_token(
    engine: Engine, principal: str, *, expires_in: timedelta | None = None, label: str = ""
) -> tuple[str, str]:
    """A new token for ``principal``: (token id, the token itself, shown once)."""
    label = check_text(label, field="label", max_len=SHORT_MAX)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    token_id = secrets.token_hex(8)
    record = ApiTokenRecord(
        token_id=token_id,
        principal=principal,
        token_hash=_hash(token),
        label=label,
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
    )
    with Session(engine) as session:
        if session.get(PrincipalRecord, principal) is None:
            raise RuleViolation(f"principal: no principal {principal!r}")
        session.add(record)
        session.commit()
    return token_id, token


def revoke_token(engine: Engine, token_id: str) -> bool:
    with Session(engine) as session:
        record = session.get(ApiTokenRecord, token_id)
        if record is None or record.revoked_at is not None:
            return False
        record.revoked_at = datetime.now(UTC)
        session.add(record)
        session.commit()
        return True


def authenticate(engine: Engine, token: str) -> Principal | None:
    """The principal behind a live token, or None (unknown, revoked or expired)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > TOKEN_MAX:
        return None
    with Session(engine) as session:
        record = session.exec(
            select(ApiTokenRecord).where(ApiTokenRecord.token_hash == _hash(token))
        ).first()
        if record is None or record.revoked_at is not None:
            return None
        expires = utc(record.expires_at)
        if expires is not None and expires <= datetime.now(UTC):
            return None
        owner = session.get(PrincipalRecord, record.principal)
        if owner is None or owner.disabled_at is not None:
            return None
        return principal_of(owner)


def has_admin(engine: Engine) -> bool:
    with Session(engine) as session:
        query = select(PrincipalRecord).where(PrincipalRecord.kind == PrincipalKind.ADMIN.value)
        return session.exec(query).first() is not None
