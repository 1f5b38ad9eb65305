"""Wrong passwords and lockouts (store.sign_in, store.sign_in_failures), on SQLite
and PostgreSQL, with the clock passed in: a name locks for the client that guessed,
not for the person at another PC; an unknown name behaves exactly as a known one;
a client guessing across names is held off, and many clients guessing at one name
lock it everywhere; counts are atomic and forget."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.limits import (
    CLIENT_SIGN_IN_FAILURES_MAX,
    LOCKOUT_MINUTES,
    NAME_SIGN_IN_FAILURES_MAX,
    SIGN_IN_FAILURES_MAX,
)
from store.engine import make_engine
from store.principals import add_principal
from store.sign_in import SignIn, SignInRefusal, set_password, sign_in
from store.sign_in_failures import ANY_CLIENT, ANY_NAME, FAILURES, client_key

PASSWORD = "the right one 2026"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
GUESSER = "203.0.113.7"
DESK = "198.51.100.20"
LOCKOUT = timedelta(minutes=LOCKOUT_MINUTES)


@pytest.fixture(params=["sqlite", "postgresql"])
def people(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own with the auditors "lin" and "zhou", each with PASSWORD."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'people.db'}")
    else:
        engine = request.getfixturevalue("own_pg_engine")
    for name in ("lin", "zhou"):
        add_principal(engine, name=name, kind="auditor")
        set_password(engine, name, PASSWORD)
    yield engine
    engine.dispose()


def guess(engine: Engine, name: str, client: str, times: int, at: datetime = T0) -> SignIn:
    """``times`` wrong passwords for ``name`` from ``client``; the last answer."""
    answer = SignIn(None)
    for _ in range(times):
        answer = sign_in(engine, name, "a wrong guess!", client, at)
    return answer


def test_a_name_locks_for_the_guessing_client_only(people: Engine) -> None:
    answer = guess(people, "lin", GUESSER, SIGN_IN_FAILURES_MAX - 1)
    assert answer.refusal == SignInRefusal.WRONG
    answer = guess(people, "lin", GUESSER, 1)
    assert answer.refusal == SignInRefusal.LOCKED and answer.locked_until == T0 + LOCKOUT
    # Locked for the guesser, even with the right password...
    assert sign_in(people, "lin", PASSWORD, GUESSER, T0).refusal == SignInRefusal.LOCKED
    # ...while Lin at her own desk signs in, and the guesser may try other names.
    assert sign_in(people, "lin", PASSWORD, DESK, T0).principal is not None
    assert sign_in(people, "zhou", PASSWORD, GUESSER, T0).principal is not None
    # The lock ends after LOCKOUT_MINUTES, not a moment before.
    just_before = T0 + LOCKOUT - timedelta(seconds=1)
    assert sign_in(people, "lin", PASSWORD, GUESSER, just_before).refusal == SignInRefusal.LOCKED
    assert sign_in(people, "lin", PASSWORD, GUESSER, T0 + LOCKOUT).principal is not None


def test_an_unknown_name_is_answered_exactly_as_a_known_one(people: Engine) -> None:
    def answers(name: str) -> list[tuple[SignInRefusal | None, datetime | None]]:
        return [
            (found.refusal, found.locked_until)
            for found in (
                sign_in(people, name, "a wrong guess!", GUESSER, T0)
                for _ in range(SIGN_IN_FAILURES_MAX + 1)
            )
        ]

    known = answers("zhou")
    assert known[-2:] == [(SignInRefusal.LOCKED, T0 + LOCKOUT)] * 2
    assert answers("nobody-here") == known
    assert answers("x" * 300) == known  # longer than any name may be: counted all the same


def test_an_empty_name_counts_against_the_client_alone(people: Engine) -> None:
    for _ in range(SIGN_IN_FAILURES_MAX + 1):
        assert guess(people, "", GUESSER, 1).refusal == SignInRefusal.WRONG
    with people.connect() as conn:
        count = conn.execute(
            select(FAILURES.c.failures).where(FAILURES.c.name == ANY_NAME)
        ).scalar_one()
    assert count == SIGN_IN_FAILURES_MAX + 1


def test_a_client_guessing_across_names_is_held_off(people: Engine) -> None:
    for n in range(CLIENT_SIGN_IN_FAILURES_MAX - 1):
        assert guess(people, f"name-{n}", GUESSER, 1).refusal == SignInRefusal.WRONG
    answer = guess(people, "name-last", GUESSER, 1)
    assert answer.refusal == SignInRefusal.THROTTLED and answer.locked_until == T0 + LOCKOUT
    # Held off whatever the name, the right password too; another client is not.
    assert sign_in(people, "zhou", PASSWORD, GUESSER, T0).refusal == SignInRefusal.THROTTLED
    assert sign_in(people, "zhou", PASSWORD, DESK, T0).principal is not None
    assert sign_in(people, "zhou", PASSWORD, GUESSER, T0 + LOCKOUT).principal is not None


def test_many_clients_guessing_at_one_name_lock_it_everywhere(people: Engine) -> None:
    clients = [f"192.0.2.{n}" for n in range(NAME_SIGN_IN_FAILURES_MAX // SIGN_IN_FAILURES_MAX)]
    for client in clients[:-1]:
        assert guess(people, "lin", client, SIGN_IN_FAILURES_MAX).refusal == SignInRefusal.LOCKED
    assert sign_in(people, "lin", PASSWORD, DESK, T0).principal is not None  # not yet
    answer = guess(people, "lin", clients[-1], SIGN_IN_FAILURES_MAX)
    assert answer.refusal == SignInRefusal.NAME_LOCKED and answer.locked_until == T0 + LOCKOUT
    assert sign_in(people, "lin", PASSWORD, DESK, T0).refusal == SignInRefusal.NAME_LOCKED
    assert sign_in(people, "zhou", PASSWORD, clients[0], T0).principal is not None
    assert sign_in(people, "lin", PASSWORD, DESK, T0 + LOCKOUT).principal is not None


def test_failures_older_than_the_window_are_forgotten(people: Engine) -> None:
    # One short of the lock, then a quarter hour's pause: the count starts again.
    guess(people, "lin", GUESSER, SIGN_IN_FAILURES_MAX - 1)
    later = T0 + LOCKOUT + timedelta(seconds=1)
    assert guess(people, "lin", GUESSER, SIGN_IN_FAILURES_MAX - 1, later).refusal == (
        SignInRefusal.WRONG
    )
    assert guess(people, "lin", GUESSER, 1, later).refusal == SignInRefusal.LOCKED
    # Rows whose window and lock have both passed are deleted as new failures come.
    much_later = later + 2 * LOCKOUT
    guess(people, "zhou", DESK, 1, much_later)
    with people.connect() as conn:
        rows = {(r.name, r.client) for r in conn.execute(select(FAILURES))}
    assert rows == {("zhou", DESK), ("zhou", ANY_CLIENT), (ANY_NAME, DESK)}


def count_of(engine: Engine, name: str, client: str) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            select(FAILURES.c.failures).where(FAILURES.c.name == name, FAILURES.c.client == client)
        ).scalar()
    return int(found or 0)


def test_a_right_password_forgives_the_persons_own_typos(people: Engine) -> None:
    """Signed in at last, a person's wrong passwords count against no one: not the
    name here, not the client, not the name everywhere."""
    guess(people, "lin", GUESSER, SIGN_IN_FAILURES_MAX - 1)
    guess(people, "nobody-here", GUESSER, 2)  # someone else's, never signed in: stay
    assert sign_in(people, "lin", PASSWORD, GUESSER, T0).principal is not None
    assert count_of(people, "lin", GUESSER) == 0
    assert count_of(people, ANY_NAME, GUESSER) == 2
    assert count_of(people, "lin", ANY_CLIENT) == 0
    assert guess(people, "lin", GUESSER, SIGN_IN_FAILURES_MAX - 1).refusal == SignInRefusal.WRONG


def test_an_office_behind_one_address_never_locks_itself_out(people: Engine) -> None:
    """Twenty people behind one address each mistype twice, then sign in: more wrong
    passwords than the client's limit, and nobody is held off."""
    staff = [f"staff-{n}" for n in range(CLIENT_SIGN_IN_FAILURES_MAX)]
    for name in staff:
        add_principal(people, name=name, kind="auditor")
        set_password(people, name, PASSWORD)
    for name in staff:
        assert guess(people, name, DESK, 2).refusal == SignInRefusal.WRONG
        assert sign_in(people, name, PASSWORD, DESK, T0).principal is not None, name
    assert count_of(people, ANY_NAME, DESK) == 0


def test_a_burst_of_guesses_raises_no_count_past_its_limit(people: Engine) -> None:
    """Guesses sent at once past a limit are refused unchecked and not counted: one
    guesser's burst can never reach the name's lock everywhere."""
    tries = NAME_SIGN_IN_FAILURES_MAX + 10
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(
            pool.map(lambda _: sign_in(people, "lin", "a wrong guess!", GUESSER, T0), range(tries))
        )
    assert count_of(people, "lin", ANY_CLIENT) <= SIGN_IN_FAILURES_MAX
    assert count_of(people, ANY_NAME, GUESSER) <= CLIENT_SIGN_IN_FAILURES_MAX
    assert sign_in(people, "lin", PASSWORD, DESK, T0).principal is not None


def test_a_client_is_its_ipv4_address_or_its_ipv6_64(people: Engine) -> None:
    assert guess(people, "lin", "2001:db8::1", 2).refusal == SignInRefusal.WRONG
    answer = guess(people, "lin", "2001:db8::ffff:2", SIGN_IN_FAILURES_MAX - 2)
    assert answer.refusal == SignInRefusal.LOCKED  # one host's /64 is one client
    assert sign_in(people, "lin", PASSWORD, "2001:db8:0:1::1", T0).principal is not None
    guess(people, "zhou", f"::ffff:{DESK}", SIGN_IN_FAILURES_MAX)
    assert sign_in(people, "zhou", PASSWORD, DESK, T0).refusal == SignInRefusal.LOCKED
    assert client_key("not an address; --") == "notanaddress--"


def test_a_new_password_lifts_the_locks_from_every_client(people: Engine) -> None:
    for client in (GUESSER, DESK):
        assert guess(people, "lin", client, SIGN_IN_FAILURES_MAX).refusal == SignInRefusal.LOCKED
    set_password(people, "lin", "a brand new one 2026")
    for client in (GUESSER, DESK):
        assert sign_in(people, "lin", "a brand new one 2026", client, T0).principal is not None


def test_guesses_at_once_all_count(people: Engine) -> None:
    """Wrong passwords sent together are each counted: the lock comes on at once."""
    tries = 2 * SIGN_IN_FAILURES_MAX
    with ThreadPoolExecutor(max_workers=tries) as pool:
        answers = list(
            pool.map(lambda _: sign_in(people, "lin", "a wrong guess!", GUESSER, T0), range(tries))
        )
    wrong = sum(1 for a in answers if a.refusal == SignInRefusal.WRONG)
    assert wrong <= SIGN_IN_FAILURES_MAX - 1, [a.refusal for a in answers]
    assert sign_in(people, "lin", PASSWORD, GUESSER, T0).refusal == SignInRefusal.LOCKED
