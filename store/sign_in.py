"""Signing in to the workbench: passwords (argon2id through pwdlib), the lockout
after repeated failures (counted in ``store.sign_in_failures``), and sessions.

A session's key lives only in the person's cookie; the table keeps its SHA-256,
so a copy of the database signs no one in. Each session has its own CSRF token,
which every form it renders carries back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pwdlib import PasswordHash
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from models.limits import PASSWORD_MAX, PASSWORD_MIN, PRINCIPAL_NAME_MAX, SESSION_HOURS
from models.people_tables import PrincipalRecord, WebSessionRecord
from models.principals import Principal
from models.text_rules import RuleViolation
from store import sign_in_failures as failures
from store.principals import principal_of
from store.reads import utc

_hasher = PasswordHash.recommended()  # argon2id with pwdlib's current parameters
_DUMMY_HASH = _hasher.hash("whistle: a password no one has")
"""Checked when the name is unknown, so a wrong name takes as long as a wrong password."""


class SignInRefusal(StrEnum):
    """Why a sign-in failed; the page words each (``web.words``: ``signin.*``)."""

    WRONG = "wrong"  # unknown name or wrong password: the person is not told which
    LOCKED = "locked"  # too many wrong passwords for this name from this client
    THROTTLED = "throttled"  # too many wrong passwords from this client, any names
    NAME_LOCKED = "name_locked"  # too many wrong passwords for this name, from anywhere


REFUSAL_OF = {
    failures.Scope.CLIENT: SignInRefusal.THROTTLED,
    failures.Scope.NAME: SignInRefusal.NAME_LOCKED,
    failures.Scope.NAME_HERE: SignInRefusal.LOCKED,
}


@dataclass(frozen=True)
class SignIn:
    principal: Principal | None
    refusal: SignInRefusal | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class WebSession:
    principal: Principal
    csrf: str
    expires_at: datetime


def check_password_rule(password: str, *, field: str = "password") -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise RuleViolation(
            f"{field}: must be {PASSWORD_MIN} to {PASSWORD_MAX} characters; got {len(password)}"
        )
    return password


def set_password(engine: Engine, name: str, password: str) -> None:
    """Give ``name`` a password (and lift its lockouts); its sessions end."""
    check_password_rule(password)
    with Session(engine) as session:
        record = session.get(PrincipalRecord, name)
        if record is None or record.disabled_at is not None:
            raise RuleViolation(f"principal: no principal {name!r}")
        record.password_hash = _hasher.hash(password)
        session.add(record)
        session.execute(delete(WebSessionRecord).where(col(WebSessionRecord.principal) == name))
        failures.forget(session.connection(), name)
        session.commit()


def sign_in(
    engine: Engine, name: str, password: str, client: str, now: datetime | None = None
) -> SignIn:
    """Check a name and password from ``client`` (its address); count the attempt,
    and lock after too many wrong ones (``store.sign_in_failures``)."""
    now = now or datetime.now(UTC)
    with Session(engine) as session:
        failures.forget_stale(session.connection(), now)
        session.commit()
        lock = failures.lock_in_force(session.connection(), name, client, now)
        if lock is not None:
            return _refused(lock)
        attempt = failures.begin_attempt(session.connection(), name, client, now)
        session.commit()  # counted before the (slow) check, for the guesses sent with it
        if attempt.lock is not None:
            return _refused(attempt.lock)
        record = session.get(PrincipalRecord, name) if len(name) <= PRINCIPAL_NAME_MAX else None
        hashed = record.password_hash if record and record.disabled_at is None else None
        if not hashed:  # an unknown name costs a hash and counts like a wrong password
            _hasher.verify(password[:PASSWORD_MAX], _DUMMY_HASH)
            valid, new_hash = False, None
        else:
            valid, new_hash = _hasher.verify_and_update(password[:PASSWORD_MAX], hashed)
        if not valid:
            lock = failures.failed(session.connection(), attempt, now)
            session.commit()
            return SignIn(None, SignInRefusal.WRONG) if lock is None else _refused(lock)
        assert record is not None
        failures.succeeded(session.connection(), attempt)
        if new_hash is not None:  # parameters grew stronger since: rehash
            record.password_hash = new_hash
            session.add(record)
        session.commit()
        return SignIn(principal_of(record))


def _refused(lock: failures.Lock) -> SignIn:
    return SignIn(None, REFUSAL_OF[lock.scope], lock.until)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open_session(engine: Engine, principal: Principal, now: datetime | None = None) -> str:
    """A new session for ``principal``: the key for its cookie."""
    now = now or datetime.now(UTC)
    key = secrets.token_urlsafe(32)
    record = WebSessionRecord(
        key_hash=_key_hash(key),
        principal=principal.name,
        csrf=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=SESSION_HOURS),
    )
    with Session(engine) as session:
        # Expired sessions go as new ones come: the table never holds more than a day's.
        session.execute(delete(WebSessionRecord).where(col(WebSessionRecord.expires_at) < now))
        session.add(record)
        session.commit()
    return key


def session_of(engine: Engine, key: str, now: datetime | None = None) -> WebSession | None:
    """The live session behind a cookie's key, with its principal; else None."""
    if not key or len(key) > 100:
        return None
    now = now or datetime.now(UTC)
    with Session(engine) as session:
        record = session.get(WebSessionRecord, _key_hash(key))
        if record is None:
            return None
        expires = utc(record.expires_at)
        assert expires is not None
        if expires <= now:
            return None
        owner = session.get(PrincipalRecord, record.principal)
        if owner is None or owner.disabled_at is not None:
            return None
        return WebSession(principal_of(owner), record.csrf, expires)


def close_session(engine: Engine, key: str) -> None:
    with Session(engine) as session:
        session.execute(
            delete(WebSessionRecord).where(col(WebSessionRecord.key_hash) == _key_hash(key))
        )
        session.commit()
