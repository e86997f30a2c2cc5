"""Table models of reports, indicators and values.

Each revisioned thing has a head row (the current revision, one per key) and an
append-only revision table, so reading the current state never scans history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from wlbtrack.lib.tables import table
from wlbtrack.lib.types import UTCDateTime


class Report(SQLModel, table=True):
    """The current status report of one department on one guideline for one period."""

    __table_args__ = (
        UniqueConstraint("guideline_id", "department_id", "period", name="uq_report_key"),
        Index("ix_report_period_guideline", "period", "guideline_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guideline_id: int = Field(foreign_key="guideline.id")
    department_id: int = Field(foreign_key="department.id", index=True)
    period: str = Field(max_length=7)
    revision: int
    status: str = Field(max_length=16)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_by: str = Field(max_length=200)


class ReportRevision(SQLModel, table=True):
    """One stored revision of a report; never changed after it is written."""

    __tablename__ = "report_revision"
    __table_args__ = (UniqueConstraint("report_id", "revision", name="uq_report_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id")
    revision: int
    status: str = Field(max_length=16)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(max_length=200)
    token_id: int | None = Field(default=None, foreign_key="api_token.id")


class Indicator(SQLModel, table=True):
    """A KPI a department tracks against a guideline."""

    id: int | None = Field(default=None, primary_key=True)
    guideline_id: int = Field(foreign_key="guideline.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    name: str = Field(max_length=200)
    unit: str = Field(max_length=50)
    baseline: float
    target: float
    revision: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(max_length=200)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_by: str = Field(max_length=200)


class IndicatorRevision(SQLModel, table=True):
    """The definition of an indicator as it stood after each change."""

    __tablename__ = "indicator_revision"
    __table_args__ = (UniqueConstraint("indicator_id", "revision", name="uq_indicator_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id")
    revision: int
    name: str = Field(max_length=200)
    unit: str = Field(max_length=50)
    baseline: float
    target: float
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(max_length=200)
    token_id: int | None = Field(default=None, foreign_key="api_token.id")


class IndicatorValue(SQLModel, table=True):
    """The current value of an indicator for one period."""

    __tablename__ = "indicator_value"
    __table_args__ = (UniqueConstraint("indicator_id", "period", name="uq_indicator_value_key"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id")
    period: str = Field(max_length=7, index=True)
    revision: int
    value: float
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_by: str = Field(max_length=200)
    department_id: int = Field(foreign_key="department.id")


class IndicatorValueRevision(SQLModel, table=True):
    """One stored revision of an indicator value; never changed after it is written."""

    __tablename__ = "indicator_value_revision"
    __table_args__ = (UniqueConstraint("value_id", "revision", name="uq_indicator_value_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    value_id: int = Field(foreign_key="indicator_value.id")
    revision: int
    value: float
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(max_length=200)
    token_id: int | None = Field(default=None, foreign_key="api_token.id")


# Their Core tables, for queries
REPORT, REPORT_REVISION = table(Report), table(ReportRevision)
VALUE, VALUE_REVISION = table(IndicatorValue), table(IndicatorValueRevision)
INDICATOR, INDICATOR_REVISION = table(Indicator), table(IndicatorRevision)
