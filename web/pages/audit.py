"""The auditor's pages (auditors and admins): search every case, check one case's
ledger and replay its history, and its ledger as a spreadsheet. The quarter's
assessment is ``web.pages.assessment``.

Reads go through the API's own route functions (``list_cases``, ``show_case``) or,
where the page reads the ledger itself, behind the same check they make
(``api.access.require_reader_of_all``, through ``Page.require_reader``).
"""

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api import schemas
from api.deps import CaseIdPath
from api.responses import CaseDocument, EventDocument
from api.routes.cases import list_cases, show_case
from audit.archive import load_archive
from audit.replay import ReplayReport, fetch_history, replay_history
from audit.verify import Verdict, verify_case
from models.case import CaseStatus
from models.errors import CaseNotFound, EngineUnavailable, RuleViolation
from models.levels import LEVEL_NAMES
from models.limits import DEPARTMENT_CODE, LIST_LIMIT_DEFAULT
from models.text_rules import SHORT_MAX
from store.keyset import CURSOR_MAX
from store.reads import case_events, get_case
from web.deps import Page, PageDep
from web.export import ledger_workbook, xlsx_response
from web.forms import REFUSED, refusal_of
from web.lists import deadline_of
from web.pages.case import evidence_of

router = APIRouter(include_in_schema=False)


# --- the search -----------------------------------------------------------------


class SearchFilter(BaseModel):
    """The search's GET parameters, checked as ``list_cases`` checks its query."""

    model_config = ConfigDict(extra="ignore")

    status: CaseStatus | None = None
    level: Annotated[str | None, Field(pattern=schemas.LEVEL_NAME)] = None
    compound: Annotated[str | None, Field(max_length=SHORT_MAX)] = None
    department: Annotated[str | None, Field(pattern=DEPARTMENT_CODE)] = None
    overdue: bool | None = None
    text: Annotated[str | None, Field(max_length=SHORT_MAX)] = None
    after: Annotated[str | None, Field(max_length=CURSOR_MAX)] = None
    """The cursor of the page before (``store.keyset``): "more" pages by it."""
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    """Links of old paged by offset; they still work."""


SEARCH_FIELDS = ("status", "level", "compound", "department", "overdue", "text", "after", "offset")


@router.get("/audit", response_class=HTMLResponse)
def search(page: PageDep) -> Response:
    page.require_reader("search every case")
    values = {
        name: page.request.query_params.get(name, "").strip()[:2000] for name in SEARCH_FIELDS
    }
    given = {name: value for name, value in values.items() if value}
    context: dict[str, Any] = {
        "values": values,
        "statuses": [s.value for s in CaseStatus],
        "levels": LEVEL_NAMES,
        "errors": {},
        "rows": [],
        "more": None,
        "deadline_of": deadline_of,
    }
    try:
        where = SearchFilter.model_validate(given)
    except ValidationError as err:
        refusal = refusal_of(err, page.t, SEARCH_FIELDS)
        context["errors"] = refusal.errors
        return page.render(
            "audit.html",
            status_code=422,
            problem=refusal.problem or page.t("audit.fix_filters"),
            **context,
        )
    try:
        listed = list_cases(
            page.me,
            page.engine,
            status_=where.status,
            level=where.level,
            compound=where.compound,
            department=where.department,
            overdue=where.overdue,
            text=where.text,
            limit=LIST_LIMIT_DEFAULT,
            after=where.after,
            offset=0 if where.after else where.offset,
        )
    except RuleViolation as err:  # a cursor edited by hand: start the search again
        context["errors"] = {"after": str(err)}
        return page.render(
            "audit.html", status_code=422, problem=page.t("audit.fix_filters"), **context
        )
    context["rows"] = listed.cases
    if listed.next is not None:
        following = {name: value for name, value in given.items() if name != "offset"}
        context["more"] = "/audit?" + urlencode({**following, "after": listed.next})
    return page.render("audit.html", **context)


# --- one case -------------------------------------------------------------------

DEADLINE_KEYS = {
    "report_in_deadline": "deadline.report_in",
    "joint_meeting_deadline": "deadline.joint_meeting",
    "resolve_deadline": "deadline.resolve",
    "confirmation_deadline": "deadline.confirmation",
    "review_deadline": "audit.deadline.review",
    "deadline": "audit.deadline.deadline",
}
"""Where an event's detail records a deadline, and what to call it."""


@dataclass(frozen=True)
class AuditedEvent:
    event: EventDocument
    deadlines: list[tuple[str, str]]
    """(what the deadline is, the time): those the event's detail records."""


def audited(events: list[EventDocument]) -> list[AuditedEvent]:
    return [
        AuditedEvent(
            e, [(word, e.detail[key]) for key, word in DEADLINE_KEYS.items() if e.detail.get(key)]
        )
        for e in events
    ]


@dataclass(frozen=True)
class ReplayVerdict:
    report: ReplayReport | None
    """None: no replay (``missing`` says why)."""
    missing: str | None = None
    """``audit.replay.missing`` or ``audit.replay.unavailable``."""
    engine_down: bool = False
    """Temporal did not answer: the replay is the archive's."""


async def replay_verdict(page: Page, case_id: str) -> ReplayVerdict:
    """Replay the case's history through the current workflow code: Temporal's,
    or the archive's once Temporal no longer has it (or does not answer)."""
    try:
        history, source = await fetch_history(page.client, page.engine, case_id)
    except CaseNotFound:
        return ReplayVerdict(None, "audit.replay.missing")
    except EngineUnavailable:
        archived = await asyncio.to_thread(load_archive, page.engine, case_id)
        if archived is None:
            return ReplayVerdict(None, "audit.replay.unavailable")
        report = await replay_history(archived[1], source="archive", engine=page.engine)
        return ReplayVerdict(report, engine_down=True)
    return ReplayVerdict(await replay_history(history, source=source, engine=page.engine))


@router.get("/audit/case/{case_id}", response_class=HTMLResponse)
async def audit_case(case_id: CaseIdPath, page: PageDep) -> Response:
    page.require_reader("audit a case")
    try:
        case: CaseDocument = await show_case(case_id, page.me, page.client, page.engine)
    except REFUSED as err:
        refusal = refusal_of(err, page.t, ())
        return page.render("error.html", status_code=refusal.status, message=refusal.problem)
    verdict: Verdict = await asyncio.to_thread(verify_case, page.engine, case_id)
    replayed = await replay_verdict(page, case_id)
    return page.render(
        "audit_case.html",
        case=case,
        offers=[],
        evidence=evidence_of(case),
        errors={},
        values={},
        timeline=audited(case.events),
        verdict=verdict,
        replayed=replayed,
    )


@router.get("/audit/case/{case_id}/ledger.xlsx")
def ledger_download(case_id: CaseIdPath, page: PageDep) -> Response:
    page.require_reader("export a case's ledger")
    rows = case_events(page.engine, case_id)
    if not rows and get_case(page.engine, case_id) is None:
        return page.render("error.html", status_code=404, message=page.t("error.not_found"))
    data = ledger_workbook(case_id, rows, page.settings.zone())
    return xlsx_response(data, f"ledger-{case_id}.xlsx")
