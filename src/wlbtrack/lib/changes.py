"""Version counters that every write bumps, for caches and ETags shared by all workers."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from wlbtrack.domain.reporting.models import ChangeCounter

CATALOGUE = "catalogue"
DATA = "data"


async def bump(session: AsyncSession, name: str) -> None:
    """Increase the named counter (its row is created by the first migration) in the caller's transaction."""
    await session.execute(
        update(ChangeCounter).where(col(ChangeCounter.name) == name).values(version=ChangeCounter.version + 1)
    )


async def current(session: AsyncSession, name: str) -> int:
    """The named counter's value (0 before the first write)."""
    version = (
        await session.execute(select(ChangeCounter.version).where(ChangeCounter.name == name))
    ).scalar_one_or_none()
    return version or 0
