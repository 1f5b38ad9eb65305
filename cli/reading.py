"""Reading: one case (``show``), lists of cases (``cases``) and the policy (``policy``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import typer
from rich.table import Column, Table
from temporalio.client import Client

from casework.cases import read_case
from casework.views import case_document
from cli import output, support
from cli.options import ApiOpt, JsonFlag, TokenOpt
from models.case import CaseStatus
from models.clock import describe
from models.durations import format_duration
from models.errors import CaseNotFound, EngineUnavailable, PolicyError
from models.levels import WhistleLevel
from models.limits import LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, SATISFACTION_MAX
from models.policy import Policy
from policy.loader import load_policy, policy_document
from store.case_filters import CaseFilter, CaseScope
from store.engine import make_engine
from store.keyset import decode_cursor
from store.policies import activate_policy
from store.reads import (
    case_events,
    case_row_document,
    get_case,
    projected_case_document,
    search_page,
)


def show(
    case_id: str, api: ApiOpt = None, token: TokenOpt = None, as_json: JsonFlag = False
) -> None:
    """A case: level, status, departments, deadlines (local time, time left) and every event."""
    via = support.remote(api, token)
    if via is not None:
        document = via.call("GET", f"/cases/{case_id}")
    else:

        async def work(client: Client) -> dict[str, Any]:
            try:
                return case_document(await read_case(client, case_id))
            except (CaseNotFound, EngineUnavailable):
                # Past the server's retention, or no worker to answer the query:
                # the SQL projection still has the case and its events.
                found = _projected_case(case_id)
                if found is None:
                    raise
                return found

        document = support.run(work)
    if as_json:
        output.emit_json(document)
    else:
        output.print_case(document)


def _projected_case(case_id: str) -> dict[str, Any] | None:
    engine = make_engine(support.settings().sqlalchemy_url())
    try:
        row = get_case(engine, case_id)
        return None if row is None else projected_case_document(row, case_events(engine, case_id))
    finally:
        engine.dispose()


def cases(
    status: Annotated[
        CaseStatus | None, typer.Option("--status", help="Only cases in this status.")
    ] = None,
    level: Annotated[
        str | None, typer.Option("--level", help="Only cases at this whistle (name or 1-4).")
    ] = None,
    compound: Annotated[str | None, typer.Option("--compound", help="Only this compound.")] = None,
    department: Annotated[
        str | None, typer.Option("--department", "-d", help="Only cases with this department.")
    ] = None,
    overdue: Annotated[
        bool | None,
        typer.Option("--overdue/--on-time", help="Only cases past (or within) a deadline."),
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="Words in the title, category or compound.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=LIST_LIMIT_MAX)] = LIST_LIMIT_DEFAULT,
    after: Annotated[
        str | None,
        typer.Option("--after", help="The next page: the cursor the previous page ended with."),
    ] = None,
    api: ApiOpt = None,
    token: TokenOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """List cases from the SQL projection, newest first; say so when none match.

    A full page ends with its cursor (``next`` in JSON): ``--after`` it for the next."""
    if after is not None:
        support.checked(lambda: decode_cursor(after))
    where = CaseFilter(
        status=status.value if status else None,
        level=support.checked(lambda: WhistleLevel.parse(level)).label if level else None,
        compound=compound,
        department=department,
        overdue=overdue,
        text=text,
        limit=limit,
        after=after,
    )
    via = support.remote(api, token)
    if via is not None:
        query = {
            key: (str(value).lower() if isinstance(value, bool) else value)
            for key, value in vars(where).items()
            if value is not None and key != "offset"
        }
        page = via.call("GET", f"/cases?{urlencode(query)}")
        rows, following = page["cases"], page.get("next")
    else:
        engine = make_engine(support.settings().sqlalchemy_url())
        try:
            found, following = search_page(engine, where, CaseScope(), datetime.now(UTC))
            rows = [case_row_document(r) for r in found]
        finally:
            engine.dispose()
    if as_json:
        output.emit_json({"cases": rows, **({"next": following} if following else {})})
    else:
        output.print_cases(rows)
        if following:
            output.note(f"more: --after {following}")


def policy(
    apply: Annotated[
        Path | None, typer.Option("--apply", help="Check FILE and put it in force for new cases.")
    ] = None,
    check: Annotated[Path | None, typer.Option("--check", help="Only check FILE.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The merged policy in force: levels, rules, calendar, assessment, routing, departments."""
    path = support.apply_or_check(apply, check)
    settings = support.settings()
    if path is not None:
        try:
            chosen = load_policy(path)
        except PolicyError as err:
            output.fail_for(err)
        if apply is not None:
            engine = make_engine(settings.sqlalchemy_url())
            activate_policy(engine, chosen, source=str(apply))
            engine.dispose()
    else:
        chosen = support.policy_now(settings)
    if as_json:
        output.emit_json(policy_document(chosen))
    else:
        print_policy(chosen, timezone=settings.timezone)


def print_policy(chosen: Policy, *, timezone: str | None = None) -> None:
    """The policy for people: durations as 30m / 2d / 3wd, one table per part.

    ``timezone``: the district's (``Settings.timezone``), in which a working day
    is a local day; it is a setting, not part of the policy.
    """
    show_ = output.console.print
    show_(f"policy [bold]{chosen.version}[/]", highlight=False)
    levels = Table(
        Column("whistle", no_wrap=True),
        "report\nin",
        "resolve",
        "remind\nat",
        "extension\ncap",
        "on a miss",
        "supervise\nevery",
        title="levels",
        caption="wd: working days (工作日); a reminder (催办) at the share of each window shown",
    )
    for name, level in chosen.levels.items():
        levels.add_row(
            name,
            describe(level.report_in_seconds, level.report_in_working_days),
            describe(level.resolve_seconds, level.resolve_working_days),
            f"{level.remind_at:.0%}",
            format_duration(level.extension_cap_seconds),
            level.on_miss,
            format_duration(level.supervise_every_seconds)
            if level.supervise_every_seconds
            else "no cap",
        )
    show_(levels)
    show_("\n".join(["rules", *(f"  {line}" for line in _rule_lines(chosen))]), highlight=False)
    show_(
        "\n".join(["calendar", *(f"  {line}" for line in _calendar_lines(chosen, timezone))]),
        highlight=False,
    )
    show_(
        "\n".join(["assessment", *(f"  {line}" for line in _assessment_lines(chosen))]),
        highlight=False,
    )
    routing = Table("category", "departments (the first leads)", title="routing")
    for category, names in chosen.routing.items():
        routing.add_row(category, ", ".join(names))
    show_(routing)
    departments = Table("code", "department", title="departments")
    for code, name in chosen.departments.items():
        departments.add_row(code, name)
    show_(departments)
    reasons = Table("code", "meaning", title="return reasons (not-ours)")
    for code, meaning in chosen.return_reasons.items():
        reasons.add_row(code, meaning)
    show_(reasons)


def _rule_lines(chosen: Policy) -> list[str]:
    rules = chosen.rules
    lines = [
        "a department may return a case within"
        f" {describe(rules.return_window_seconds, rules.return_window_working_days)}"
        " of being dispatched",
        f"{rules.returns_to_joint} returns send a case to the joint task force",
    ]
    if rules.return_review_seconds or rules.return_review_working_days:
        review = describe(rules.return_review_seconds, rules.return_review_working_days)
        lines.append(
            f"the station reviews a return (退单审核) within {review}, else it is reminded"
        )
    else:
        lines.append("a return takes effect at once: no review by the station")
    lines.append(
        "the branch confirms within"
        f" {describe(rules.confirmation_seconds, rules.confirmation_working_days)},"
        " else the case closes unconfirmed"
    )
    if rules.redo_below > 0:
        lines.append(
            f"a score below {rules.redo_below} (of {SATISFACTION_MAX}) sends the case back for a redo (重办),"
        )
        lines.append(f"  at most {rules.redo_cap} times; then to the station's joint meeting")
    else:
        lines.append("every score closes the case: no redo")
    return lines


def _calendar_lines(chosen: Policy, timezone: str | None) -> list[str]:
    local = f" ({timezone})" if timezone else ""
    return [
        "working days skip China's official holidays and count 调休 make-up days",
        f"the last working day of a deadline ends at {chosen.closes_at} local time{local}",
        "the district's own days off: " + (", ".join(chosen.extra_holidays) or "none"),
        "the district's own days worked: " + (", ".join(chosen.extra_workdays) or "none"),
    ]


def _assessment_lines(chosen: Policy) -> list[str]:
    rules = chosen.assessment
    if rules is None:
        return ["not set in this policy"]
    return [
        f"a unit is ranked with at least {rules.min_dispatches} dispatches in the period",
        f"the red and the black list name {rules.list_size} units each",
    ]
