"""The auditor's pages (auditors and admins): search every case, check one case's
ledger and replay its history, the quarter's assessment in charts, and both as
spreadsheets.

Reads go through the API's own route functions (``list_cases``, ``show_case``,
``get_stats``, ``get_red_black``) or, where the page reads the ledger itself,
behind the same check they make (``api.access.require_reader_of_all``).
"""

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api import schemas
from api.access import require_reader_of_all
from api.deps import CaseIdPath
from api.responses import CaseDocument, EventDocument, RedBlack, Stats
from api.routes.assessment import get_red_black, get_stats
from api.routes.cases import list_cases, show_case
from audit.archive import load_archive
from audit.ranking import RANKED_RATES
from audit.replay import ReplayReport, fetch_history, replay_history
from audit.stats import load_cases
from audit.verify import Verdict, verify_case
from models.case import CaseStatus, EventKind
from models.errors import CaseNotFound, EngineUnavailable, RuleViolation
from models.evidence import STORE_PATH
from models.levels import LEVEL_NAMES
from models.limits import DEPARTMENT_CODE, LIST_LIMIT_DEFAULT
from models.periods import QUARTER, current_quarter, quarter_bounds
from models.text_rules import SHORT_MAX
from store.policies import policy_for_new_cases
from store.reads import case_events, get_case
from web.audit_words import left_out_why
from web.charts import Chart, bar_chart, grouped_chart
from web.deps import Page, PageDep, PageRefused
from web.export import assessment_workbook, ledger_workbook, xlsx_response
from web.forms import REFUSED, refusal_of
from web.lists import deadline_of
from web.pages.case import evidence_of

router = APIRouter(include_in_schema=False)


def require_auditor(page: Page, doing: str) -> None:
    """The API's check for auditors and admins, answered as a page (403)."""
    try:
        require_reader_of_all(page.me, doing)
    except HTTPException as err:
        raise PageRefused(str(err.detail)) from None


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
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


SEARCH_FIELDS = ("status", "level", "compound", "department", "overdue", "text", "offset")


@router.get("/audit", response_class=HTMLResponse)
def search(page: PageDep) -> Response:
    require_auditor(page, "search every case")
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
        offset=where.offset,
    )
    context["rows"] = listed.cases
    if len(listed.cases) == LIST_LIMIT_DEFAULT:
        following = {**given, "offset": str(where.offset + LIST_LIMIT_DEFAULT)}
        context["more"] = "/audit?" + urlencode(following)
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
    require_auditor(page, "audit a case")
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
        store_path=STORE_PATH,
        errors={},
        values={},
        timeline=audited(case.events),
        verdict=verdict,
        replayed=replayed,
    )


@router.get("/audit/case/{case_id}/ledger.xlsx")
def ledger_download(case_id: CaseIdPath, page: PageDep) -> Response:
    require_auditor(page, "export a case's ledger")
    rows = case_events(page.engine, case_id)
    if not rows and get_case(page.engine, case_id) is None:
        return page.render("error.html", status_code=404, message=page.t("error.not_found"))
    data = ledger_workbook(case_id, rows, page.settings.zone())
    return xlsx_response(data, f"ledger-{case_id}.xlsx")


# --- the assessment -------------------------------------------------------------

_QUARTER_RE = re.compile(QUARTER)


def quarter_before(quarter: str) -> str:
    year, number = int(quarter[:4]), int(quarter[5])
    return f"{year - 1}Q4" if number == 1 else f"{year}Q{number - 1}"


def pooled(stats: Stats) -> tuple[float | None, ...]:
    """The district's three rates from rows that split its cases (by compound)."""
    rates: list[float | None] = []
    for rate in RANKED_RATES:
        units = hits = 0
        for row in stats.groups.values():
            share = getattr(row, rate)
            counted = int(getattr(row, rate.removesuffix("_rate") + "_units"))
            if share is not None and counted:
                units += counted
                hits += round(share * counted)
        rates.append(round(hits / units, 4) if units else None)
    return tuple(rates)


def escalations_by_level(page: Page, quarter: str) -> dict[str, int]:
    """Escalations of the quarter's cases, by the whistle they reached."""
    first, last = quarter_bounds(quarter, page.settings.zone())
    reached: Counter[str] = Counter()
    for _, events in load_cases(page.engine, first, last):
        for event in events:
            if event.kind == EventKind.ESCALATED and event.to_level:
                reached[event.to_level] += 1
    return {level: reached.get(level, 0) for level in LEVEL_NAMES[1:]}


@dataclass(frozen=True)
class Assessment:
    quarter: str
    units: Stats
    compounds: Stats
    trend: list[tuple[str, tuple[float | None, ...]]]
    escalations: dict[str, int]
    lists: RedBlack


def assess(page: Page, quarter: str) -> Assessment:
    """Everything the page and the spreadsheet show, through the API's functions."""
    policy = policy_for_new_cases(page.engine, page.settings)

    def stats(of: str, by: str) -> Stats:
        return get_stats(page.me, page.engine, page.settings, policy, quarter=of, by=by)

    compounds = stats(quarter, "compound")
    trend = [(quarter, pooled(compounds))]
    while len(trend) < 4:
        earlier = quarter_before(trend[0][0])
        try:
            trend.insert(0, (earlier, pooled(stats(earlier, "compound"))))
        except RuleViolation:  # before the first year a quarter may name
            break
    return Assessment(
        quarter=quarter,
        units=stats(quarter, "department"),
        compounds=compounds,
        trend=trend,
        escalations=escalations_by_level(page, quarter),
        lists=get_red_black(page.me, page.engine, page.settings, policy, quarter=quarter),
    )


def charts_of(page: Page, found: Assessment) -> list[Chart]:
    t = page.t
    three = [t(f"audit.rate.{rate.removesuffix('_rate')}") for rate in RANKED_RATES]
    quarter = found.quarter
    by_unit = [
        (page.t.name(name), tuple(getattr(row, rate) for rate in RANKED_RATES))
        for name, row in found.units.groups.items()
    ]
    return [
        grouped_chart(
            "rates-by-unit",
            t("audit.rates_by_unit", quarter=quarter),
            t("audit.unit"),
            three,
            by_unit,
            percent=True,
        ),
        grouped_chart(
            "rates-by-quarter",
            t("audit.rates_by_quarter"),
            t("audit.quarter_col"),
            three,
            found.trend,
            percent=True,
        ),
        bar_chart(
            "whistles-by-compound",
            t("audit.whistles_by_compound", quarter=quarter),
            page.t("case.compound"),
            t("audit.cases"),
            [(page.t.name(name), float(row.cases)) for name, row in found.compounds.groups.items()],
        ),
        bar_chart(
            "escalations-by-level",
            t("audit.escalations_by_level", quarter=quarter),
            page.t("case.level"),
            t("audit.escalations"),
            [(page.t.level(level), float(n)) for level, n in found.escalations.items()],
        ),
    ]


def asked_quarter(page: Page) -> tuple[str, str | None]:
    """The quarter asked for (default: this one), and what is wrong with it if anything."""
    asked = page.request.query_params.get("quarter", "").strip().upper()[:40]
    if not asked:
        return current_quarter(page.settings.zone()), None
    if not _QUARTER_RE.match(asked):
        return asked, page.t("audit.bad_quarter")
    try:
        quarter_bounds(asked, page.settings.zone())
    except RuleViolation as err:
        return asked, refusal_of(err, page.t, ("quarter",)).errors.get("quarter", str(err))
    return asked, None


@router.get("/audit/assessment", response_class=HTMLResponse)
def assessment(page: PageDep) -> Response:
    require_auditor(page, "read the assessment")
    quarter, wrong = asked_quarter(page)
    if wrong is not None:
        return page.render(
            "assessment.html",
            status_code=422,
            quarter=quarter,
            errors={"quarter": wrong},
            found=None,
            charts=[],
        )
    found = assess(page, quarter)
    overall = found.compounds.groups.values()
    cases = sum(row.cases for row in overall)
    return page.render(
        "assessment.html",
        quarter=quarter,
        errors={},
        found=found,
        charts=charts_of(page, found),
        per_compound=round(cases / len(overall), 2) if overall else None,
        rates=RANKED_RATES,
        why=left_out_why,
    )


@router.get("/audit/assessment.xlsx")
def assessment_download(page: PageDep) -> Response:
    require_auditor(page, "read the assessment")
    quarter, wrong = asked_quarter(page)
    if wrong is not None:
        message = page.t("error.field", field=page.t("audit.quarter"), message=wrong)
        return page.render("error.html", status_code=422, message=message)
    found = assess(page, quarter)
    data = assessment_workbook(quarter, found.units.groups, found.lists, page.t.names)
    return xlsx_response(data, f"assessment-{quarter}.xlsx")
