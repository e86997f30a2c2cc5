"""Table model of closed periods."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from wlbtrack.lib.types import UTCDateTime, utcnow


class ClosedPeriod(SQLModel, table=True):
    """A fiscal quarter an admin has closed to writes."""

    __tablename__ = "closed_period"

    period: str = Field(max_length=7, primary_key=True)
    closed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    closed_by: str = Field(max_length=200)
