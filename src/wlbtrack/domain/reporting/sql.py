"""Dialect-specific INSERT (for ON CONFLICT) and the tables behind the table models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel


def table(model: type[SQLModel]) -> Table:
    """The Core table of a table model."""
    result = model.__table__  # type: ignore[attr-defined]
    assert isinstance(result, Table)
    return result


def insert(session: AsyncSession, model: type[SQLModel]) -> Any:
    """An INSERT with on_conflict_* support for the session's database (PostgreSQL or SQLite)."""
    assert session.bind is not None
    if session.bind.dialect.name == "postgresql":
        return postgresql.insert(table(model))
    return sqlite.insert(table(model))
