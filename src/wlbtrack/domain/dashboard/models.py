"""Table model of dashboard sessions (the server side of the session cookie)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from wlbtrack.lib.types import UTCDateTime


class DashboardSession(SQLModel, table=True):
    """A session's data under its random id, until it expires."""

    __tablename__ = "dashboard_session"

    key: str = Field(primary_key=True, max_length=200)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True, index=True)
    )
