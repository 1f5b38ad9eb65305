"""The red and black lists (红黑榜): units ranked by the three rates, like with like.

A unit is ranked only with enough dispatches in the period (the policy's
``[assessment] min_dispatches``); the others are named with their counts, so a
list states its sample. Ranked against every unit, or only against units of one
department kind (police stations with police stations), or each kind on its
own. Each list names ``[assessment] list_size`` units, or half the units ranked
when there are fewer than twice that. The rates are those of ``audit.stats``;
``audit.charging`` says who is charged with what.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from sqlalchemy.engine import Engine

from audit.stats import stats
from models.errors import PolicyError, RuleViolation
from models.periods import quarter_bounds
from models.policy import AssessmentRules, Policy
from policy.loader import load_policy

RANKED_RATES = ("response_rate", "resolution_rate", "satisfaction_rate")
"""The rates the lists rank by (响应率, 解决率, 满意率)."""

SCORE_FORMULA = (
    "score = the mean of the unit's response rate (响应率: report-ins on time / report-ins"
    " due), resolution rate (解决率: cases the branch confirmed / ended cases) and"
    " satisfaction rate (满意率: scores of 4 or 5 / scores); a rate with nothing to count"
    " is left out of the mean; equal scores are ordered by unit code"
)
"""The score in words, as the API and the CLI state it; :func:`_score` computes it."""


def assessment_rules(policy: Policy) -> AssessmentRules:
    """The policy's ranking rules; a policy stored before they existed takes the default's."""
    rules = policy.assessment or load_policy().assessment
    if rules is None:
        raise PolicyError("assessment: the default policy has no [assessment] section")
    return rules


def check_kind(kind: str | None, policy: Policy) -> None:
    """A kind to rank or filter by must be a department of the policy."""
    if kind is not None and kind not in policy.departments:
        known = ", ".join(sorted(policy.departments))
        raise RuleViolation(f"kind: unknown department kind {kind!r}; known: {known}")


def _score(row: dict[str, Any]) -> float | None:
    known = [row[rate] for rate in RANKED_RATES if row[rate] is not None]
    return round(sum(known) / len(known), 4) if known else None


def red_black(
    table: dict[str, dict[str, Any]],
    rules: AssessmentRules,
    *,
    kind: str | None = None,
    each_kind: bool = False,
) -> dict[str, Any]:
    """The lists of the units in ``table`` (rows by department from ``audit.stats``).

    One pair of lists over every unit, or over the units of ``kind``; with
    ``each_kind``, a pair per kind present in the table."""
    if kind is not None and each_kind:
        raise RuleViolation("kind: give one kind or ask for each kind, not both")
    kinds = sorted({row["kind"] for row in table.values()}) if each_kind else [kind]
    return {
        "formula": SCORE_FORMULA,
        "min_dispatches": rules.min_dispatches,
        "list_size": rules.list_size,
        "lists": [_lists(table, rules, chosen) for chosen in kinds],
    }


def _lists(
    table: dict[str, dict[str, Any]], rules: AssessmentRules, kind: str | None
) -> dict[str, Any]:
    ranked: list[dict[str, Any]] = []
    left_out: list[dict[str, Any]] = []
    for name, row in sorted(table.items()):
        if kind is not None and row["kind"] != kind:
            continue
        sample = {"unit": name, "kind": row["kind"], "dispatches": row["dispatches"]}
        score = _score(row)
        if row["dispatches"] < rules.min_dispatches:
            left_out.append({**sample, "why": f"fewer than {rules.min_dispatches} dispatches"})
        elif score is None:
            left_out.append({**sample, "why": "no rate to score yet"})
        else:
            ranked.append({"unit": name, "score": score, **row})
    ranked.sort(key=lambda r: (-r["score"], r["unit"]))
    # Fewer than two lists' worth: each takes half, so nobody is on both and the
    # worst is never on the red list (the middle of an odd count is on neither).
    size = min(rules.list_size, len(ranked) // 2)
    red = ranked[:size]
    black = ranked[::-1][:size]  # worst first
    return {
        "kind": kind,
        "ranked": [
            {"unit": r["unit"], "kind": r["kind"], "dispatches": r["dispatches"]} for r in ranked
        ],
        "left_out": left_out,
        "red": red,
        "black": black,
    }


def quarter_lists(
    engine: Engine,
    policy: Policy,
    *,
    quarter: str,
    zone: tzinfo,
    kind: str | None = None,
    each_kind: bool = False,
    table: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A quarter's lists as the API and the CLI give them: period, rules, sample, lists.

    ``table``: the quarter's rows by department, when the caller has them already."""
    check_kind(kind, policy)
    first, last = quarter_bounds(quarter, zone)
    if table is None:
        table = stats(engine, start=first, end=last)["groups"]
    return {
        "quarter": quarter,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "zone": str(zone),
        **red_black(table, assessment_rules(policy), kind=kind, each_kind=each_kind),
    }
