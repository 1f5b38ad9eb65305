"""A group's totals over a period, and the row the assessment reports for it.

The totals are sums (and a nearest-rank 90th percentile) of the credits that
``audit.charging`` gives each case, added up either in Python (``of_tally``, the
full recomputation) or in SQL (``store.assessment``); both give the same row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from audit.charging import MEASURES, RATES, TIMED, Tally

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

MICROS = 1_000_000


@overload
def p90_rank(count: int) -> int: ...
@overload
def p90_rank(count: ColumnElement[Any]) -> ColumnElement[Any]: ...
def p90_rank(count: Any) -> Any:
    """The nearest rank of the 90th percentile among ``count`` values: ceil(0.9 n),
    exactly; ``count`` is a number, or a SQL expression (``store.assessment``)."""
    return (9 * count + 9) // 10


@dataclass
class Totals:
    cases: int = 0
    compounds: int = 0
    dispatches: int = 0
    escalations: int = 0
    units: dict[str, int] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    timed: dict[str, int] = field(default_factory=dict)
    """How many times of each kind."""
    time_sums: dict[str, int] = field(default_factory=dict)
    """Microseconds."""
    p90s: dict[str, int] = field(default_factory=dict)
    """Microseconds; none without a time."""


def of_tally(tally: Tally) -> Totals:
    """The totals of a group charged in Python."""
    p90s: dict[str, int] = {}
    for measure, values in tally.times.items():
        if values:
            p90s[measure] = sorted(values)[p90_rank(len(values)) - 1]
    return Totals(
        cases=len(tally.cases),
        compounds=len(tally.compounds),
        dispatches=tally.dispatches,
        escalations=tally.escalations,
        units=dict(tally.units),
        hits=dict(tally.hits),
        timed={measure: len(values) for measure, values in tally.times.items()},
        time_sums={measure: sum(values) for measure, values in tally.times.items()},
        p90s=p90s,
    )


def document(totals: Totals, kind: str | None) -> dict[str, Any]:
    """The row of a group as the API, the CLI and the pages give it."""
    result: dict[str, Any] = {"cases": totals.cases, "kind": kind, "dispatches": totals.dispatches}
    for name, measure in zip(RATES, MEASURES, strict=True):
        units = totals.units.get(measure, 0)
        hits = totals.hits.get(measure, 0)
        result[name] = round(hits / units, 4) if units else None
        result[f"{measure}_units"] = units
    for measure in TIMED:
        count = totals.timed.get(measure, 0)
        mean = totals.time_sums.get(measure, 0) / count / MICROS if count else None
        result[f"mean_{measure}_seconds"] = round(mean, 1) if mean is not None else None
        p90 = totals.p90s.get(measure)
        result[f"p90_{measure}_seconds"] = round(p90 / MICROS, 1) if p90 is not None else None
    result["whistles_per_compound"] = (
        round(totals.cases / totals.compounds, 4) if totals.compounds else None
    )
    return result
