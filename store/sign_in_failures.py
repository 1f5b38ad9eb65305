"""Wrong passwords, counted by name *and client*, and the lockouts they lead to.

Counting by name alone (as whistle first did) let anyone anywhere keep a known
person locked out by guessing, and told a guesser which names exist: only those
ever locked. Three counts now (``Scope``), each over a window of ``LOCKOUT_MINUTES``:

- a name from one client address: the guesser locks only their own attempts at
  that name (``SIGN_IN_FAILURES_MAX``);
- one client, whatever the names: guessing across names (``CLIENT_…``);
- a name from every client: many addresses guessing at one name lock it for all,
  a bar set far above what one person mistypes (``NAME_SIGN_IN_FAILURES_MAX``).

Names no principal has count exactly alike. An attempt is counted before its
password is checked, in a transaction of its own, so guesses sent at once are
refused unchecked past a limit; a right password then takes its attempt back.
Counts are kept in the database itself (two guesses at once both count).

The client is the peer address uvicorn reports: behind a reverse proxy, uvicorn
takes it from ``X-Forwarded-For`` for the proxies ``FORWARDED_ALLOW_IPS`` trusts
(README, Operations).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, case, delete, or_, select, tuple_, update
from sqlalchemy.engine import Connection

from models.limits import (
    CLIENT_ADDRESS_MAX,
    CLIENT_SIGN_IN_FAILURES_MAX,
    LOCKOUT_MINUTES,
    NAME_SIGN_IN_FAILURES_MAX,
    PRINCIPAL_NAME_MAX,
    SIGN_IN_FAILURES_MAX,
)
from models.people_tables import SignInFailureRecord
from store.reads import utc
from store.upserts import insert_for

FAILURES = SignInFailureRecord.__table__  # type: ignore[attr-defined]
ANY_NAME = ""
"""The name of a client's row, whatever the name (an empty name, which no principal
has, counts against the client alone)."""
ANY_CLIENT = "*"
"""The client of a name's row, from every client (no address holds a ``*``)."""
WINDOW = timedelta(minutes=LOCKOUT_MINUTES)
_NOT_ADDRESS = re.compile(r"[^0-9A-Za-z:._-]")


class Scope(StrEnum):
    """Which count a lock comes from, in the order a refusal names them."""

    CLIENT = "client"
    NAME = "name"  # from every client
    NAME_HERE = "name_here"


@dataclass(frozen=True)
class Lock:
    until: datetime
    scope: Scope


@dataclass(frozen=True)
class Counter:
    scope: Scope
    name: str
    client: str
    most: int


def counters(name: str, client: str) -> list[Counter]:
    """The rows an attempt at ``name`` from ``client`` counts on, in ``Scope`` order."""
    name = name[:PRINCIPAL_NAME_MAX]  # longer names are no principal's: cut, they count
    client = client_key(client)
    rows = [Counter(Scope.CLIENT, ANY_NAME, client, CLIENT_SIGN_IN_FAILURES_MAX)]
    if name != ANY_NAME:
        rows.append(Counter(Scope.NAME, name, ANY_CLIENT, NAME_SIGN_IN_FAILURES_MAX))
        rows.append(Counter(Scope.NAME_HERE, name, client, SIGN_IN_FAILURES_MAX))
    return rows


def client_key(address: str) -> str:
    """What a client is counted as: its IPv4 address, or its IPv6 /64 (one host may
    hold a whole /64); an IPv4 address mapped into IPv6 is that IPv4 address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return _NOT_ADDRESS.sub("", address)[:CLIENT_ADDRESS_MAX]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def lock_in_force(conn: Connection, name: str, client: str, now: datetime) -> Lock | None:
    """The lock an attempt at ``name`` from ``client`` meets at ``now``, if any."""
    mine = counters(name, client)
    locked = {
        (row.name, row.client): until
        for row in conn.execute(
            FAILURES.select().where(_key_in([(c.name, c.client) for c in mine]))
        )
        if (until := utc(row.locked_until)) is not None and until > now
    }
    for counter in mine:
        if (counter.name, counter.client) in locked:
            return Lock(locked[counter.name, counter.client], counter.scope)
    return None


@dataclass(frozen=True)
class Attempt:
    """An attempt counted before its password is checked: its place in each count,
    and the lock it ran into (refused unchecked)."""

    counts: list[tuple[Counter, int]]
    lock: Lock | None = None


def forget_stale(conn: Connection, now: datetime) -> None:
    """Forget the rows nobody has failed on for a window and whose lock has ended (as
    expired sessions are): the table holds only the last quarter hour's. In a
    transaction of its own, passing over rows others hold, so it never waits in a
    cycle with an attempt's counts."""
    stale = (
        select(FAILURES.c.name, FAILURES.c.client)
        .where(
            FAILURES.c.first_failed_at <= now - WINDOW,
            or_(FAILURES.c.locked_until.is_(None), FAILURES.c.locked_until < now),
        )
        .with_for_update(skip_locked=True)
    )
    keys = [tuple(row) for row in conn.execute(stale)]
    if keys:
        conn.execute(delete(FAILURES).where(_key_in(keys)))


def begin_attempt(conn: Connection, name: str, client: str, now: datetime) -> Attempt:
    """Count an attempt at ``name`` from ``client`` before its password is checked. One
    over a limit is refused unchecked, locks every count it is over, and is taken back
    from them all: a burst of refused guesses never raises a count past its limit
    (else one guesser's burst would lock the name everywhere)."""
    counts = [(counter, _count(conn, counter, now)) for counter in counters(name, client)]
    over = [counter for counter, n in counts if n > counter.most]
    if not over:
        return Attempt(counts)
    for counter, _ in counts:
        _take_back(conn, counter, 1)
    locks = [_lock(conn, counter, now) for counter in over]
    return Attempt(counts, locks[0])


def failed(conn: Connection, attempt: Attempt, now: datetime) -> Lock | None:
    """The attempt's password was wrong: lock every count it was the last of; the
    first such lock, in ``Scope`` order."""
    locks = [_lock(conn, counter, now) for counter, n in attempt.counts if n >= counter.most]
    return locks[0] if locks else None


def succeeded(conn: Connection, attempt: Attempt) -> None:
    """The attempt's password was right: the name's failures from this client are
    forgotten, and taken back, with the attempt, from the client's count and the
    name's everywhere: a person's own typos, once they sign in, count against no one
    (an office behind one address would otherwise lock itself out)."""
    here = [(c, n) for c, n in attempt.counts if c.scope == Scope.NAME_HERE]
    mistyped = here[0][1] if here else 1
    for counter, _ in attempt.counts:
        if counter.scope == Scope.NAME_HERE:
            conn.execute(delete(FAILURES).where(_key_in([(counter.name, counter.client)])))
        else:
            _take_back(conn, counter, mistyped)


def forget(conn: Connection, name: str) -> None:
    """A new password: the name's failures from every client are forgotten, and its
    locks lifted."""
    conn.execute(delete(FAILURES).where(FAILURES.c.name == name[:PRINCIPAL_NAME_MAX]))


def _count(conn: Connection, counter: Counter, now: datetime) -> int:
    """One more on the row (a new window if its own has passed): its count now."""
    stale = FAILURES.c.first_failed_at <= now - WINDOW
    counted: int = conn.execute(
        insert_for(conn, FAILURES)
        .values(
            name=counter.name,
            client=counter.client,
            failures=1,
            first_failed_at=now,
            locked_until=None,
        )
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


def _take_back(conn: Connection, counter: Counter, n: int) -> None:
    fewer = case((FAILURES.c.failures > n, FAILURES.c.failures - n), else_=0)
    conn.execute(
        update(FAILURES).where(_key_in([(counter.name, counter.client)])).values(failures=fewer)
    )


def _key_in(keys: list[tuple[str, str]]) -> ColumnElement[bool]:
    return tuple_(FAILURES.c.name, FAILURES.c.client).in_(keys)


def _lock(conn: Connection, counter: Counter, now: datetime) -> Lock:
    """Lock the row for a window; its count starts again once the lock has ended
    (its window has passed by then)."""
    until = now + WINDOW
    conn.execute(
        update(FAILURES).where(_key_in([(counter.name, counter.client)])).values(locked_until=until)
    )
    return Lock(until, counter.scope)
