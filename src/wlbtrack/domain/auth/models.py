"""Table model of API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from wlbtrack.lib.types import UTCDateTime, utcnow


class Role(StrEnum):
    """What a token may do."""

    ADMIN = "admin"
    DEPARTMENT = "department"
    VIEWER = "viewer"


class ApiToken(SQLModel, table=True):
    """A bearer token, stored only as its SHA-256 hash."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    label: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
