"""What the commands share: settings, running against Temporal, parsing options."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from temporalio.client import Client

from casework.cases import act
from casework.connection import connect
from casework.views import action_document
from cli import output
from cli.remote import Remote, action_request
from logs import configure_logging
from models.case import Action
from models.durations import Span, parse_deadline_spec, parse_duration
from models.errors import PolicyError, RuleViolation, WhistleError
from models.evidence import Evidence, check_evidence, parse_evidence_option
from models.policy import Policy
from settings import Settings, get_settings
from store.engine import make_engine
from store.policies import policy_for_new_cases

T = TypeVar("T")


def settings() -> Settings:
    """The settings, with quiet logs: a command prints its result, not INFO lines."""
    found = get_settings()
    configure_logging("WARNING" if found.log_level.upper() == "INFO" else found.log_level)
    return found


def run(work: Callable[[Client], Awaitable[T]]) -> T:
    """Connect, run ``work``; an error of ``models.errors`` leaves with its exit code."""
    chosen = settings()

    async def go() -> T:
        return await work(await connect(chosen))

    try:
        return asyncio.run(go())
    except WhistleError as err:
        output.fail_for(err)


def checked(parse: Callable[[], T]) -> T:
    """``parse()``; a broken rule leaves with exit 2 before anything is sent."""
    try:
        return parse()
    except (RuleViolation, ValueError) as err:
        output.fail(str(err), output.EXIT_BAD_INPUT)


def duration(text: str, field: str) -> int:
    return checked(lambda: parse_duration(text, field=field))


def span(text: str, field: str) -> Span:
    """A duration or working days (``3wd``); exit 2 naming ``field`` otherwise."""
    return checked(lambda: parse_deadline_spec(text, field=field))


def evidence(values: list[str] | None) -> list[Evidence]:
    def parse() -> list[Evidence]:
        items = [parse_evidence_option(value) for value in values or []]
        check_evidence(items)
        return items

    return checked(parse)


def policy_now(chosen: Settings) -> Policy:
    """The policy last put in force (by ``whistle dev`` or ``whistle policy --apply``)."""
    engine = make_engine(chosen.sqlalchemy_url())
    try:
        return policy_for_new_cases(engine, chosen)
    except PolicyError as err:
        output.fail_for(err)
    finally:
        engine.dispose()


def apply_or_check(apply: Path | None, check: Path | None) -> Path | None:
    """The FILE of ``--apply FILE`` or ``--check FILE``; both at once leave with exit 2."""
    if apply is not None and check is not None:
        output.fail("--apply, --check: give one of them", output.EXIT_BAD_INPUT)
    return apply or check


def remote(api: str | None, token: str | None) -> Remote | None:
    if api is None:
        return None
    if not token:
        output.fail("token: --api needs --token (or WHISTLE_API_TOKEN)", output.EXIT_BAD_INPUT)
    return Remote(api, token)


def act_and_print(case_id: str, action: Action, as_json: bool, via: Remote | None) -> None:
    """Deliver ``action`` straight to Temporal or through the API, and print the result."""
    if via is not None:
        path, body = action_request(action)
        document = via.call("POST", f"/cases/{case_id}{path}", body, key=action.action_id)
    else:
        document = action_document(run(lambda client: act(client, case_id, action)))
    if as_json:
        output.emit_json(document)
    else:
        output.print_action(document)
