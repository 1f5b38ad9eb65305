"""Wrong passwords, counted by name *and client*, and the lockouts they lead to.

Counting by name alone (as whistle first did) let anyone anywhere keep a known
person locked out by guessing, and told a guesser which names exist: only those
ever locked. Here a name's failures count from one client address at a time, so
the guesser locks only their own attempts at that name; names no principal has
count exactly alike; and a second count per client, whatever the names, holds off
one that guesses across many names (``CLIENT_SIGN_IN_FAILURES_MAX``).

An attempt is counted before its password is checked, in a transaction of its own,
so guesses sent at once are refused unchecked past the limit; a right password then
takes its attempt back. Counts are kept in the database itself (two guesses at once
both count) and forget failures older than ``LOCKOUT_MINUTES``.

The client is the peer address uvicorn reports: behind a reverse proxy, uvicorn
takes it from ``X-Forwarded-For`` for the proxies ``FORWARDED_ALLOW_IPS`` trusts
(README, Operations).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, or_, update
from sqlalchemy.engine import Connection

from models.limits import (
    CLIENT_ADDRESS_MAX,
    CLIENT_SIGN_IN_FAILURES_MAX,
    LOCKOUT_MINUTES,
    PRINCIPAL_NAME_MAX,
    SIGN_IN_FAILURES_MAX,
)
from models.people_tables import SignInFailureRecord
from store.reads import utc
from store.upserts import insert_for

FAILURES = SignInFailureRecord.__table__  # type: ignore[attr-defined]
ANY_NAME = ""
"""The name of the row that counts a client's failures whatever the name (an empty
name, which no principal has, counts against the client alone)."""
WINDOW = timedelta(minutes=LOCKOUT_MINUTES)


@dataclass(frozen=True)
class Lock:
    """A lockout in force: until when, and whether it holds the whole client."""

    until: datetime
    whole_client: bool


def _key(name: str, client: str) -> tuple[str, str]:
    # Longer names are no principal's (models.limits); cut, they still count.
    return name[:PRINCIPAL_NAME_MAX], client[:CLIENT_ADDRESS_MAX]


def lock_in_force(conn: Connection, name: str, client: str, now: datetime) -> Lock | None:
    """The lock on ``name`` or on the whole client at ``now``, the client's first."""
    name, client = _key(name, client)
    rows = conn.execute(
        FAILURES.select().where(FAILURES.c.client == client, FAILURES.c.name.in_([ANY_NAME, name]))
    ).all()
    for row in sorted(rows, key=lambda r: r.name != ANY_NAME):
        until = utc(row.locked_until)
        if until is not None and until > now:
            return Lock(until, whole_client=row.name == ANY_NAME)
    return None


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt counted before its password is checked: its place in the
    name's count and in the client's, and the lock it ran into (refused unchecked)."""

    name_count: int
    client_count: int
    lock: Lock | None = None


def begin_attempt(conn: Connection, name: str, client: str, now: datetime) -> Attempt:
    """Count an attempt at ``name`` from ``client`` before its password is checked,
    so that guesses sent at once cannot all be checked: one over either limit is
    refused unchecked, and locks."""
    name, client = _key(name, client)
    # Rows nobody has failed on for a window, and whose lock has ended, are forgotten
    # (as expired sessions are): the table holds only the last quarter hour's.
    conn.execute(
        delete(FAILURES).where(
            FAILURES.c.first_failed_at <= now - WINDOW,
            or_(FAILURES.c.locked_until.is_(None), FAILURES.c.locked_until < now),
        )
    )
    client_count = _count(conn, ANY_NAME, client, now)
    name_count = _count(conn, name, client, now) if name != ANY_NAME else 0
    if client_count > CLIENT_SIGN_IN_FAILURES_MAX:
        return Attempt(name_count, client_count, _lock(conn, ANY_NAME, client, now))
    if name_count > SIGN_IN_FAILURES_MAX:
        return Attempt(name_count, client_count, _lock(conn, name, client, now))
    return Attempt(name_count, client_count)


def failed(
    conn: Connection, name: str, client: str, now: datetime, attempt: Attempt
) -> Lock | None:
    """The attempt's password was wrong: the lock it brings on, if it was the last
    either count allows (the client's first)."""
    name, client = _key(name, client)
    if attempt.client_count >= CLIENT_SIGN_IN_FAILURES_MAX:
        return _lock(conn, ANY_NAME, client, now)
    if attempt.name_count >= SIGN_IN_FAILURES_MAX:
        return _lock(conn, name, client, now)
    return None


def succeeded(conn: Connection, name: str, client: str) -> None:
    """The attempt's password was right: the name's failures from this client are
    forgotten, and the attempt no longer counts against the client."""
    name, client = _key(name, client)
    forget(conn, name, client)
    conn.execute(
        update(FAILURES)
        .where(and_(FAILURES.c.name == ANY_NAME, FAILURES.c.client == client))
        .values(failures=case((FAILURES.c.failures > 0, FAILURES.c.failures - 1), else_=0))
    )


def _count(conn: Connection, name: str, client: str, now: datetime) -> int:
    """One more on the row (a new window if its own has passed): its count now."""
    stale = FAILURES.c.first_failed_at <= now - WINDOW
    counted: int = conn.execute(
        insert_for(conn, FAILURES)
        .values(name=name, client=client, failures=1, first_failed_at=now, locked_until=None)
        .on_conflict_do_update(
            index_elements=[FAILURES.c.name, FAILURES.c.client],
            set_={
                "failures": case((stale, 1), else_=FAILURES.c.failures + 1),
                "first_failed_at": case((stale, now), else_=FAILURES.c.first_failed_at),
            },
        )
        .returning(FAILURES.c.failures)
    ).scalar_one()
    return counted


def _lock(conn: Connection, name: str, client: str, now: datetime) -> Lock:
    """Lock the row for a window; its count starts again once the lock has ended
    (its window has passed by then)."""
    until = now + WINDOW
    conn.execute(
        update(FAILURES)
        .where(and_(FAILURES.c.name == name, FAILURES.c.client == client))
        .values(locked_until=until)
    )
    return Lock(until, whole_client=name == ANY_NAME)


def forget(conn: Connection, name: str, client: str | None = None) -> None:
    """Forget the name's failures and lift its locks, from ``client`` or from
    everywhere (a new password)."""
    where = FAILURES.c.name == _key(name, "")[0]
    if client is not None:
        where = and_(where, FAILURES.c.client == _key(name, client)[1])
    conn.execute(delete(FAILURES).where(where))
