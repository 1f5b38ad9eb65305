"""Acting on cases: a branch raises, escalates, confirms, reopens and withdraws;
a department reports in and signs off. The joint meeting and extensions are in
``cli.plans``."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Annotated

import typer

from casework.cases import raise_whistle
from casework.routing import compound_code, route_units
from casework.views import raised_document
from cli import output, support
from cli.acting import Acting, acting
from cli.options import (
    ApiOpt,
    DepartmentOpt,
    EvidenceOpt,
    JsonFlag,
    ReasonOpt,
    TokenOpt,
    branch_actor,
    department_actor,
)
from models.case import (
    Confirm,
    Escalate,
    Outcome,
    RaiseWhistle,
    Reopen,
    ReportIn,
    SignOff,
    Withdraw,
)
from models.levels import WhistleLevel
from models.limits import SATISFACTION_MAX, SATISFACTION_MIN
from models.rules import check_raise
from settings import Settings
from store.engine import make_engine
from store.org import org_in_force

OUTCOMES = " | ".join(o.value for o in Outcome)
LEVELS = "|".join(level.label for level in WhistleLevel)
SATISFACTION = f"{SATISFACTION_MIN} (worst) to {SATISFACTION_MAX} (best)."

# --- branch ------------------------------------------------------------------


def _routed(request: RaiseWhistle, settings: Settings) -> RaiseWhistle:
    """The request with the compound's code and the units routing chose, when an
    organisation is in force (read now); unchanged without one."""
    engine = make_engine(settings.sqlalchemy_url())
    try:
        org = org_in_force(engine)
    finally:
        engine.dispose()
    units = route_units(
        org, request.policy, request.compound, request.category, request.departments
    )
    return replace(request, compound=compound_code(org, request.compound), units=units)


def raise_(
    compound: Annotated[str, typer.Option("--compound", help="The compound (小区).")],
    level: Annotated[str, typer.Option("--level", help=f"{LEVELS} or 1-4.")],
    category: Annotated[
        str, typer.Option("--category", help="Problem category; routes the departments.")
    ],
    title: Annotated[str, typer.Option("--title")],
    description: Annotated[str, typer.Option("--description")] = "",
    location: Annotated[str, typer.Option("--location")] = "",
    department: Annotated[
        list[str] | None,
        typer.Option("--department", "-d", help="Name departments instead of routing."),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", "--raised-by", help="Who blows the whistle. Default: branch."),
    ] = None,
    evidence: EvidenceOpt = None,
    case_id: Annotated[
        str | None,
        typer.Option(
            "--case-id",
            help="Choose the case id (a repeat is refused); with --api, an idempotency key.",
        ),
    ] = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Blow a whistle: start a case."""
    parsed_level = support.checked(lambda: WhistleLevel.parse(level))
    references = support.evidence(evidence)
    via = support.remote(api, token)
    if via is not None:  # the API records the acting branch as the raiser
        body = {
            "compound": compound,
            "level": parsed_level.label,
            "category": category,
            "title": title,
            "description": description,
            "location": location,
            "departments": list(department or []),
            "evidence": [asdict(item) for item in references],
        }
        document = via.call("POST", "/cases", body, key=case_id)
    else:
        settings = support.settings()
        request = RaiseWhistle(
            compound=compound,
            level=parsed_level.label,
            category=category,
            title=title,
            description=description,
            location=location,
            raised_by=branch_actor(actor),
            departments=list(department or []),
            policy=support.policy_now(settings),
            evidence=references,
        )
        support.checked(lambda: check_raise(request))  # bad input needs no server to be told
        request = support.checked(lambda: _routed(request, settings))
        new_id = support.run(
            lambda client: raise_whistle(
                client,
                request,
                task_queue=settings.task_queue,
                case_id=case_id,
                timezone=settings.timezone,
            )
        )
        document = raised_document(new_id, request.level, request.policy.version)
    if as_json:
        output.emit_json(document)
    else:
        output.console.print(
            f"raised [bold]{document['case_id']}[/] ({parsed_level.label} whistle)",
            highlight=False,
        )


@acting
def escalate(case_id: str, reason: ReasonOpt, *, on: Acting) -> None:
    """Escalate a case by hand, one whistle up."""
    on.deliver(
        case_id, Escalate(action_id=on.action_id, actor=branch_actor(on.actor), reason=reason)
    )


@acting
def confirm(
    case_id: str,
    satisfaction: Annotated[
        int,
        typer.Option(
            "--satisfaction", min=SATISFACTION_MIN, max=SATISFACTION_MAX, help=SATISFACTION
        ),
    ],
    note: Annotated[str, typer.Option("--note")] = "",
    *,
    on: Acting,
) -> None:
    """Confirm the result with a satisfaction score: closes the case."""
    action = Confirm(
        action_id=on.action_id,
        actor=branch_actor(on.actor),
        satisfaction=satisfaction,
        note=note,
    )
    on.deliver(case_id, action)


@acting
def reopen(case_id: str, reason: ReasonOpt, *, on: Acting) -> None:
    """Reject the result (重办): the case goes back to be handled again."""
    on.deliver(case_id, Reopen(action_id=on.action_id, actor=branch_actor(on.actor), reason=reason))


@acting
def withdraw(case_id: str, reason: ReasonOpt, *, on: Acting) -> None:
    """Withdraw the whistle while the case is open."""
    on.deliver(
        case_id, Withdraw(action_id=on.action_id, actor=branch_actor(on.actor), reason=reason)
    )


# --- departments ---------------------------------------------------------------


@acting
def report_in(case_id: str, department: DepartmentOpt, *, on: Acting) -> None:
    """A department reports in (报到) on a case."""
    action = ReportIn(
        action_id=on.action_id,
        actor=department_actor(on.actor, department),
        department=department,
    )
    on.deliver(case_id, action)


@acting
def sign_off(
    case_id: str,
    department: DepartmentOpt,
    outcome: Annotated[str, typer.Option("--outcome", help=OUTCOMES)],
    reason: Annotated[str, typer.Option("--reason", help="For not-ours: a reason code.")] = "",
    note: Annotated[str, typer.Option("--note")] = "",
    evidence: EvidenceOpt = None,
    *,
    on: Acting,
) -> None:
    """A department signs off with its outcome."""
    action = SignOff(
        action_id=on.action_id,
        actor=department_actor(on.actor, department),
        department=department,
        outcome=outcome,
        reason=reason,
        note=note,
        evidence=support.evidence(evidence),
    )
    on.deliver(case_id, action)
