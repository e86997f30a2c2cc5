"""Core tables of the table models (the one query style: `sqlalchemy.select` on table columns) and upserts."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Column, Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

Rows = Select[*tuple[Any, ...]]
RowsT = TypeVar("RowsT", bound=Rows)


def table(model: type[SQLModel]) -> Table:
    """The Core table of a table model."""
    result = model.__table__  # type: ignore[attr-defined]
    assert isinstance(result, Table)
    return result


def foreign_key_to(child: Table, parent: Table) -> Column[Any]:
    """The column of `child` that refers to `parent`."""
    return next(column for column in child.c if any(fk.column.table is parent for fk in column.foreign_keys))


def insert(session: AsyncSession, target: Table) -> Any:
    """An INSERT with on_conflict_* support for the session's database (PostgreSQL or SQLite)."""
    assert session.bind is not None
    if session.bind.dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)
