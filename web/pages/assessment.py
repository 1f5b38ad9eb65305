"""The quarter's assessment for auditors and admins: the three rates by unit and
by quarter, whistles per compound and escalations by level as server-drawn SVG
charts, the red and black lists, and the same as a spreadsheet. Every figure
comes from the functions the API's ``/stats`` reads (``audit.stats``,
``audit.ranking``), behind the check it makes (``Page.require_reader``).
"""

import re
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.responses import RedBlack, Stats
from audit.ranking import RANKED_RATES, quarter_lists
from audit.stats import district_rates, escalations_by_level, stats
from models.errors import RuleViolation
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


def trend_of(page: Page, quarter: str) -> list[tuple[str, tuple[float | None, ...]]]:
    """The district's three rates in this quarter and the three before it."""
    zone = page.settings.zone()
    quarters = [quarter]
    while len(quarters) < 4:
        earlier = quarter_before(quarters[0])
        try:
            quarter_bounds(earlier, zone)
        except RuleViolation:  # before the first year a quarter may name
            break
        quarters.insert(0, earlier)
    rows = district_rates(page.engine, [quarter_bounds(q, zone) for q in quarters])
    return [
        (named, tuple(row[rate] for rate in RANKED_RATES))
        for named, row in zip(quarters, rows, strict=True)
    ]


@dataclass(frozen=True)
class Assessment:
    quarter: str
    units: Stats
    compounds: Stats
    trend: list[tuple[str, tuple[float | None, ...]]]
    escalations: dict[str, int]
    lists: RedBlack


def assess(page: Page, quarter: str) -> Assessment:
    """Everything the page and the spreadsheet show, from the functions the API reads."""
    policy = policy_for_new_cases(page.engine, page.settings)
    zone = page.settings.zone()
    first, last = quarter_bounds(quarter, zone)
    units = stats(page.engine, start=first, end=last, by="department", counts_only=True)
    compounds = stats(page.engine, start=first, end=last, by="compound", counts_only=True)
    lists = quarter_lists(page.engine, policy, quarter=quarter, zone=zone, table=units["groups"])
    return Assessment(
        quarter=quarter,
        units=Stats.model_validate(units),
        compounds=Stats.model_validate(compounds),
        trend=trend_of(page, quarter),
        escalations=escalations_by_level(page.engine, first, last),
        lists=RedBlack.model_validate(lists),
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
