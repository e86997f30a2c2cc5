"""Version counters that every write bumps, for caches and ETags shared by all workers."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from wlbtrack.domain.reporting.models import ChangeCounter

CATALOGUE = "catalogue"
DATA = "data"


async def bump(session: AsyncSession, name: str) -> None:
    """Increase the named counter (its row is created by the first migration) in the caller's transaction."""
    await session.execute(
        update(ChangeCounter).where(col(ChangeCounter.name) == name).values(version=ChangeCounter.version + 1)
    )


def _version(name: str) -> SelectOfScalar[int]:
    return select(ChangeCounter.version).where(ChangeCounter.name == name)


async def current(session: AsyncSession, name: str) -> int:
    """The named counter's value (0 before the first write)."""
    return (await session.execute(_version(name))).scalar_one_or_none() or 0


async def read(engine: AsyncEngine, name: str) -> int:
    """The named counter's value read on its own connection, without an ORM session (0 before any write)."""
    async with engine.connect() as connection:
        return (await connection.execute(_version(name))).scalar_one_or_none() or 0
