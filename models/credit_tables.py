"""SQL tables of the assessment's credits: what each case is charged to each group
(unit, compound, whistle), the same added up by UTC day, and the district's counts
by the hour (``store.credits`` keeps them). Never imported by workflows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, text
from sqlmodel import Field, SQLModel

from models.limits import CASE_ID_MAX
from models.text_rules import SHORT_MAX


class RateCounts(SQLModel):
    """The units counted and the hits of each measure of ``audit.charging.MEASURES``
    (the rates' numerators and denominators), as columns of the tables that keep them."""

    response_units: int = 0
    response_hits: int = 0
    resolution_units: int = 0
    resolution_hits: int = 0
    satisfaction_units: int = 0
    satisfaction_hits: int = 0
    return_units: int = 0
    return_hits: int = 0
    redo_units: int = 0
    redo_hits: int = 0
    on_time_completion_units: int = 0
    on_time_completion_hits: int = 0


class CreditSums(RateCounts):
    """Everything the assessment adds up about a group, besides its cases: the rates'
    counts, dispatches, escalations, and the count and sum of each kind of time."""

    dispatches: int = 0
    escalations: int = 0
    report_in_count: int = 0
    report_in_micros: int = Field(default=0, sa_type=BigInteger)
    resolve_count: int = 0
    resolve_micros: int = Field(default=0, sa_type=BigInteger)


class CaseCreditRecord(CreditSums, table=True):
    """What one case is charged to one group (a unit, its compound, a whistle), kept
    by the projection in the transaction that writes the case's events
    (``store.credits``), so the assessment adds up rows instead of replaying cases.
    Kept by group, then in period order: a group's quarter is one range of the key,
    and the groups come out in order (``CreditKeyRecord`` names them)."""

    __tablename__ = "case_credits"
    __table_args__ = (
        Index("ix_case_credits_case_id", "case_id"),
        # PostgreSQL keeps a row apart from its key: counting a period's compounds
        # from the index alone needs them in it. SQLite's rows are their key (WITHOUT
        # ROWID): there the index is kept empty.
        Index(
            "ix_case_credits_compounds",
            "grouping",
            "key",
            "raised_at",
            postgresql_include=["compound"],
            sqlite_where=text("0 = 1"),
        ),
        {"sqlite_with_rowid": False},
    )

    grouping: str = Field(primary_key=True, max_length=20)
    key: str = Field(primary_key=True, max_length=SHORT_MAX)
    raised_at: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    case_id: str = Field(primary_key=True, max_length=CASE_ID_MAX)
    compound: str = Field(max_length=SHORT_MAX)


class CreditDayRecord(CreditSums, table=True):
    """A group's credits of the cases raised in one UTC day, added up, kept with the
    credits (``store.credit_days``): a quarter's assessment adds up ~90 rows a group,
    and only the hours at its ends (a local quarter starts mid-way through a UTC day)
    from the cases' own credits."""

    __tablename__ = "credit_days"
    __table_args__ = {"sqlite_with_rowid": False}

    grouping: str = Field(primary_key=True, max_length=20)
    key: str = Field(primary_key=True, max_length=SHORT_MAX)
    day: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    """Midnight UTC."""
    cases: int = 0


class CreditKeyRecord(SQLModel, table=True):
    """Every group ever credited, by grouping: the assessment reads each group's range
    of ``case_credits`` in turn, instead of sorting the period's rows by group."""

    __tablename__ = "credit_keys"
    __table_args__ = {"sqlite_with_rowid": False}

    grouping: str = Field(primary_key=True, max_length=20)
    key: str = Field(primary_key=True, max_length=SHORT_MAX)


class CaseCreditTimeRecord(SQLModel, table=True):
    """One time a case is charged to a group (a unit's report-in, a resolution), in
    microseconds: the 90th percentile is a rank among these."""

    __tablename__ = "case_credit_times"
    __table_args__ = (
        Index("ix_case_credit_times_case_id", "case_id"),
        # A 90th percentile from the index alone on PostgreSQL (as ix_case_credits_compounds).
        Index(
            "ix_case_credit_times_micros",
            "grouping",
            "key",
            "measure",
            "raised_at",
            postgresql_include=["micros"],
            sqlite_where=text("0 = 1"),
        ),
        {"sqlite_with_rowid": False},
    )

    grouping: str = Field(primary_key=True, max_length=20)
    key: str = Field(primary_key=True, max_length=SHORT_MAX)
    measure: str = Field(primary_key=True, max_length=20)
    raised_at: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    case_id: str = Field(primary_key=True, max_length=CASE_ID_MAX)
    ordinal: int = Field(primary_key=True)
    """The time's place among the case's times of this group and measure."""
    micros: int = Field(sa_column=Column(BigInteger, nullable=False))


class DistrictHourRecord(RateCounts, table=True):
    """The whole district's counts of the cases raised in one hour (UTC), kept with
    the credits (``store.district_hours``): a year's rates add up 8,760 rows."""

    __tablename__ = "district_hours"

    hour: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    cases: int = 0
