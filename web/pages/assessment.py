"""The quarter's assessment for auditors and admins: the three rates by unit and
by quarter, whistles per compound and escalations by level as server-drawn SVG
charts, the red and black lists, and the same as a spreadsheet. Every figure
comes through the API's own functions (``get_stats``, ``get_red_black``) or
behind the check they make (``Page.require_reader``).
"""

import re
from collections import Counter
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.responses import RedBlack, Stats
from api.routes.assessment import get_red_black, get_stats
from audit.ranking import RANKED_RATES
from audit.stats import load_cases
from models.case import EventKind
from models.errors import RuleViolation
from models.levels import LEVEL_NAMES
from models.periods import QUARTER, current_quarter, quarter_bounds
from store.policies import policy_for_new_cases
from web.audit_words import left_out_why
from web.charts import Chart, bar_chart, grouped_chart
from web.deps import Page, PageDep
from web.export import assessment_workbook, xlsx_response
from web.forms import refusal_of

router = APIRouter(include_in_schema=False)

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
    page.require_reader("read the assessment")
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
    page.require_reader("read the assessment")
    quarter, wrong = asked_quarter(page)
    if wrong is not None:
        message = page.t("error.field", field=page.t("audit.quarter"), message=wrong)
        return page.render("error.html", status_code=422, message=message)
    found = assess(page, quarter)
    data = assessment_workbook(quarter, found.units.groups, found.lists, page.t.names)
    return xlsx_response(data, f"assessment-{quarter}.xlsx")
