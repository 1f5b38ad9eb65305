"""Keyset pagination of the case lists: an opaque cursor naming the last row shown.

The lists are ordered newest first: ``raised_at`` descending, then ``case_id``
ascending (the tie-break). A cursor is the last row's ``(raised_at, case_id)``,
as JSON, in URL-safe base64 without padding; the next page is every row after it
in that order. Unlike an offset, it costs the same on the thousandth page as on the
first (an index range from the cursor on), and a case raised between two pages
neither repeats a row nor hides one: new cases sort before the cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col

from models.errors import RuleViolation
from models.limits import CASE_ID_MAX
from models.tables import CaseRecord

CURSOR_MAX = 200
"""Characters of a cursor at most (an ISO time and a case id, encoded)."""


def encode_cursor(raised_at: datetime, case_id: str) -> str:
    moment = raised_at if raised_at.tzinfo else raised_at.replace(tzinfo=UTC)
    document = json.dumps([moment.astimezone(UTC).isoformat(), case_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


def cursor_of(row: CaseRecord) -> str:
    return encode_cursor(row.raised_at, row.case_id)


def decode_cursor(cursor: str, *, field: str = "after") -> tuple[datetime, str]:
    """The ``(raised_at, case_id)`` a cursor names; RuleViolation (422 naming
    ``field``) when it is not one this list gave."""
    refused = RuleViolation(f"{field}: not a cursor of this list (give the 'next' of a page)")
    if not cursor or len(cursor) > CURSOR_MAX:
        raise refused
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, case_id = json.loads(raw.decode())
        moment = datetime.fromisoformat(when)
        if moment.tzinfo is None:
            raise ValueError("a time without its zone")
        moment = moment.astimezone(UTC)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, OverflowError):
        raise refused from None
    if not isinstance(case_id, str) or not case_id or len(case_id) > CASE_ID_MAX:
        raise refused
    if not case_id.isprintable():  # no NUL for PostgreSQL, nothing a case id never holds
        raise refused
    return moment, case_id


def after_cursor(raised_at: datetime, case_id: str) -> ColumnElement[bool]:
    """Rows after ``(raised_at, case_id)`` in the lists' order.

    Written as ``raised_at <= t AND (raised_at < t OR case_id > id)`` so that
    both SQLite and PostgreSQL bound the index range by ``raised_at <= t``.
    """
    when = col(CaseRecord.raised_at)
    return and_(when <= raised_at, or_(when < raised_at, col(CaseRecord.case_id) > case_id))
