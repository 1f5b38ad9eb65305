"""Actions racing a deadline, on a real dev server with real time: whichever
wins, each case has one consistent history, the client's answer agrees with
it, and the ledger chains without a gap."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from temporalio.client import Client

from audit.verify import verify_case
from casework.cases import ActionRejected, act, read_case
from models.case import Action, ActionResult, CaseState, ReportIn, SignOff
from policy.loader import parse_policy
from store.reads import case_events
from tests.casekit import aid, raise_case, report_in, until

RACE = parse_policy('[levels.publicity]\nreport_in = "2s"\nresolve = "5s"\n', source="races")
EVERY = timedelta(seconds=RACE.levels["publicity"].supervise_every_seconds)
"""A late unit's next deadline is at most this after the one it missed."""
CASES = 16
SPREAD = 0.8
"""Actions land from SPREAD seconds before the deadline to SPREAD after it."""


@dataclass
class Attempt:
    case_id: str
    action: Action
    result: ActionResult | None
    refusal: str | None


async def _at(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


async def _race(
    client: Client, deadline_seconds: float, make: type[Action], **fields: str
) -> list[Attempt]:
    """Raise CASES publicity cases; send one action to each around its deadline."""
    cases = []
    for _ in range(CASES):
        cases.append(await raise_case(client, RACE, level="publicity", category="fire_safety"))
        if make is SignOff:  # at once: the report-in deadline is 2 s away
            await report_in(client, cases[-1], "fire_rescue", "police")

    async def attempt(case_id: str, offset: float) -> Attempt:
        state = await read_case(client, case_id)
        await _at(state.raised_at + timedelta(seconds=deadline_seconds + offset))
        action = make(action_id=aid(), **fields)
        try:
            return Attempt(case_id, action, await act(client, case_id, action), None)
        except ActionRejected as err:
            return Attempt(case_id, action, None, str(err))

    offsets = [-SPREAD + 2 * SPREAD * i / (CASES - 1) for i in range(CASES)]
    return await asyncio.gather(*(attempt(c, o) for c, o in zip(cases, offsets, strict=True)))


async def _settled(client: Client, engine: Engine, case_id: str) -> CaseState:
    """The case once it has left publicity, with its projection caught up and verified."""
    state = await until(
        client, case_id, lambda s: s.level != "publicity" or s.status == "awaiting_confirmation"
    )
    for _ in range(200):
        if len(await asyncio.to_thread(case_events, engine, case_id)) == len(state.events):
            break
        await asyncio.sleep(0.05)
    assert [e.seq for e in state.events] == list(range(1, len(state.events) + 1))
    verdict = verify_case(engine, case_id)
    assert verdict.ok, verdict.problem
    return state


def _at_publicity(state: CaseState, kind: str, department: str) -> bool:
    return any(
        e.kind == kind and e.department == department and e.level == "publicity"
        for e in state.events
    )


async def test_report_ins_racing_their_deadline(dev_client: Client, engine: Engine) -> None:
    # fire_rescue never reports in, so every case escalates at 2 s; police races it.
    attempts = await _race(dev_client, 2, ReportIn, department="police")
    won = lost = 0
    for attempt in attempts:
        assert attempt.refusal is None and attempt.result is not None  # re-dispatched if late
        state = await _settled(dev_client, engine, attempt.case_id)
        (recorded,) = attempt.result.events
        assert state.events[recorded.seq - 1] == recorded  # the answer is the history's event
        reported = _at_publicity(state, "reported_in", "police")
        missed = _at_publicity(state, "report_in_missed", "police")
        assert reported != missed, [e.kind for e in state.events]
        escalated = next(e for e in state.events if e.kind == "escalated")
        if reported:
            won += 1  # on time: it stays reported in at the next whistle
            assert recorded.level == "publicity" and recorded.seq < escalated.seq
        else:
            lost += 1
            assert recorded.level == "emergency" and recorded.seq > escalated.seq
        assert sum(e.kind == "reported_in" and e.department == "police" for e in state.events) == 1
        police = state.assignment("police")
        assert police is not None and police.reported_in_at == recorded.at
        # a miss never buys time: the late unit's next deadline is capped
        (miss,) = [
            e
            for e in state.events
            if e.kind == "report_in_missed" and e.department == "fire_rescue"
        ]
        cap = datetime.fromisoformat(miss.detail["deadline"]) + EVERY
        dispatched = next(
            e for e in state.events if e.kind == "dispatched" and e.level == "emergency"
        )
        assert datetime.fromisoformat(dispatched.detail["report_in_deadline"]) <= cap
    assert won and lost, (won, lost)  # the spread straddles the deadline


async def test_sign_offs_racing_the_resolve_deadline(dev_client: Client, engine: Engine) -> None:
    attempts = await _race(dev_client, 5, SignOff, department="fire_rescue", outcome="resolved")
    won = lost = 0
    for attempt in attempts:
        state = await _settled(dev_client, engine, attempt.case_id)
        signed = _at_publicity(state, "signed_off", "fire_rescue")
        missed = _at_publicity(state, "resolve_missed", "fire_rescue")
        assert signed != missed, [e.kind for e in state.events]
        if signed:
            won += 1
            assert attempt.result is not None and attempt.refusal is None
            assert state.status == "awaiting_confirmation" and state.level == "publicity"
            assert [e.seq for e in attempt.result.events] == [
                e.seq for e in state.events if e.kind in ("signed_off", "resolved")
            ]
        else:
            # The whistle went up first. Both units had reported in on time, so
            # they stay reported in: the late sign-off lands at the next whistle,
            # whose resolve deadline is capped by the missed one.
            lost += 1
            assert attempt.result is not None and attempt.refusal is None, attempt.refusal
            escalated = next(e for e in state.events if e.kind == "escalated")
            signed_off, resolved = attempt.result.events
            assert (signed_off.kind, resolved.kind) == ("signed_off", "resolved")
            assert signed_off.level == "emergency" and signed_off.seq > escalated.seq
            assert state.events[signed_off.seq - 1] == signed_off
            assert state.status == "awaiting_confirmation" and state.level == "emergency"
            (miss,) = [e for e in state.events if e.kind == "resolve_missed"]
            cap = datetime.fromisoformat(miss.detail["deadline"]) + EVERY
            dispatched = next(
                e for e in state.events if e.kind == "dispatched" and e.level == "emergency"
            )
            assert datetime.fromisoformat(dispatched.detail["resolve_deadline"]) <= cap
    assert won and lost, (won, lost)
