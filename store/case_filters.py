"""What a list of cases asks for (``CaseFilter``), what its reader may see
(``CaseScope``), and the SQL predicates both become: a scope's compounds, the
deadlines in force and past, the searched text, a unit on the case. Read by
``store.reads`` (the lists), ``store.worklist`` and ``store.board``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, literal_column, or_
from sqlmodel import col

from models.case import CaseStatus
from models.limits import LIST_LIMIT_DEFAULT
from models.tables import SEARCHED_TEXT_SQL, CaseRecord


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    level: str | None = None
    compound: str | None = None
    department: str | None = None
    overdue: bool | None = None
    text: str | None = None
    limit: int = LIST_LIMIT_DEFAULT
    offset: int = 0
    after: str | None = None
    """A cursor (``store.keyset``): the rows after the one it names. The way to page;
    ``offset`` is kept for old links and costs a scan of the rows it skips."""


@dataclass(frozen=True)
class CaseScope:
    """Which cases a reader may see; None on a field means no restriction.

    ``compounds`` match whatever their case (``compound_in``): a case raised
    before an organisation was put in force records the compound as the branch
    wrote it (``Anningyuan``), the organisation knows it by its code
    (``anningyuan``).
    """

    compounds: frozenset[str] | None = None
    department: str | None = None


def compound_in(compounds: frozenset[str]) -> ColumnElement[bool]:
    """The case's compound is one of ``compounds``, case-insensitively.

    ``lower()`` on both sides, in SQL on the column (SQLite and PostgreSQL
    alike). SQLite's ``lower`` folds ASCII letters only: compound codes are
    ASCII, and names in Chinese characters have no case to fold.

    One compound (a branch's) reads its index, ``lower(compound)`` in the list's
    order (migration 0012). Several (a station's street) are matched on an
    expression that index does not hold: read from it, a street's cases (a sixth
    of a district's) would all be sorted for one page, while the list's own order
    meets a page of them within a few hundred rows.
    """
    wanted = folded(compounds)
    lowered = func.lower(col(CaseRecord.compound))
    if len(wanted) == 1:
        return lowered == wanted[0]
    return lowered.concat("").in_(wanted)


def folded(compounds: frozenset[str]) -> list[str]:
    return sorted({compound.lower() for compound in compounds})


DEADLINES_IN_FORCE: dict[str, tuple[CaseStatus, ...]] = {
    "report_in_deadline": (CaseStatus.AWAITING_REPORT_IN, CaseStatus.JOINT_MEETING),
    "resolve_deadline": (CaseStatus.AWAITING_REPORT_IN, CaseStatus.IN_PROGRESS),
    "confirmation_deadline": (CaseStatus.AWAITING_CONFIRMATION,),
}
"""Each deadline column of the projection and the statuses in which it runs (as in
the workflow): a deadline counts only there. ``report_in_deadline`` holds the joint
meeting's while the case awaits it."""


def past_deadline(now: datetime) -> ColumnElement[bool]:
    """The case is past a deadline in force at ``now``: overdue."""
    return or_(
        *(
            and_(
                col(CaseRecord.status).in_([s.value for s in statuses]),
                func.coalesce(getattr(CaseRecord, column) < now, False),
            )
            for column, statuses in DEADLINES_IN_FORCE.items()
        )
    )


SEARCHED_TEXT: ColumnElement[str] = literal_column(SEARCHED_TEXT_SQL)
"""What a text search reads: the title, category and compound, a line each; the very
expression of PostgreSQL's trigram index (models.tables), so that it is used."""


def text_matches(words: str) -> ColumnElement[bool]:
    """``words`` occur in the title, category or compound, in any letter case."""
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return SEARCHED_TEXT.ilike(pattern, escape="\\")


def lists_department(department: str) -> ColumnElement[bool]:
    """The comma-separated department list contains ``department`` exactly.

    Four patterns on the column itself rather than one on ``',' || departments || ','``:
    PostgreSQL estimates a pattern on a column from its statistics (one in fifteen
    cases, say), and on an expression it has none of as two rows in all, which made
    it read every case and sort them instead of walking the list's order.
    """
    listed = col(CaseRecord.departments)
    return or_(
        listed == department,
        listed.startswith(f"{department},", autoescape=True),
        listed.endswith(f",{department}", autoescape=True),
        listed.contains(f",{department},", autoescape=True),
    )
