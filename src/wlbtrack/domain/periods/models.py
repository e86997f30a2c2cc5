"""Table models of closed periods, deadlines set by admins, and each department's quarter state."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from wlbtrack.lib.types import UTCDateTime, utcnow


class ClosedPeriod(SQLModel, table=True):
    """A fiscal quarter an admin has closed to writes."""

    __tablename__ = "closed_period"

    period: str = Field(max_length=7, primary_key=True)
    closed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    closed_by: str = Field(max_length=200)


class PeriodDeadline(SQLModel, table=True):
    """A due date an admin set for a quarter, replacing the default (quarter end + WLBTRACK_DEADLINE_DAYS)."""

    __tablename__ = "period_deadline"

    period: str = Field(max_length=7, primary_key=True)
    due: date = Field(sa_column=Column(Date, nullable=False))
    set_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    set_by: str = Field(max_length=200)


class DepartmentQuarter(SQLModel, table=True):
    """One department's quarter in the cycle: open, submitted, approved or returned (no row: open)."""

    __tablename__ = "department_quarter"
    __table_args__ = (UniqueConstraint("period", "department_id", name="uq_department_quarter_key"),)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=7)
    department_id: int = Field(foreign_key="department.id")
    state: str = Field(max_length=16)
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    decided_by: str | None = Field(default=None, max_length=200)
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class QuarterTransition(SQLModel, table=True):
    """One transition of a department's quarter; never changed after it is written."""

    __tablename__ = "quarter_transition"
    __table_args__ = (Index("ix_quarter_transition_key", "period", "department_id"),)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=7)
    department_id: int = Field(foreign_key="department.id")
    action: str = Field(max_length=16)
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    by: str = Field(max_length=200)
    token_id: int | None = Field(default=None, foreign_key="api_token.id")
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
