"""Version counters that every write bumps, for caches and ETags shared by all workers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Text, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import Field, SQLModel

from wlbtrack.lib.tables import table

CATALOGUE = "catalogue"
DATA = "data"
DATA_CHANNEL = "wlbtrack_data"  # PostgreSQL NOTIFY channel: the data version, sent on commit
BUMPED = "wlbtrack.data_version"  # session.info key: the data version this session's transaction wrote


class ChangeCounter(SQLModel, table=True):
    """A version number bumped by every write to an area, so caches and ETags know when data changed."""

    __tablename__ = "change_counter"

    name: str = Field(max_length=32, primary_key=True)
    version: int = 0


COUNTER = table(ChangeCounter)


async def bump(session: AsyncSession, name: str) -> None:
    """Increase the named counter (its row is created by the first migration) in the caller's transaction.

    The new data version is kept in `session.info[BUMPED]`; on PostgreSQL it is also sent on DATA_CHANNEL,
    which PostgreSQL delivers to listeners only when the transaction commits.
    """
    bumped = (
        update(COUNTER)
        .where(COUNTER.c.name == name)
        .values(version=COUNTER.c.version + 1)
        .returning(COUNTER.c.version)
    )
    if name == DATA and session.get_bind().dialect.name == "postgresql":
        step = bumped.cte("bumped")
        notify = select(step.c.version, func.pg_notify(DATA_CHANNEL, cast(step.c.version, Text)))
        version = (await session.execute(notify)).scalars().one()
    else:
        version = (await session.execute(bumped)).scalar_one()
    if name == DATA:
        session.info[BUMPED] = int(version)


def _version(name: str) -> Select[Any]:
    return select(COUNTER.c.version).where(COUNTER.c.name == name)


async def current(session: AsyncSession, name: str) -> int:
    """The named counter's value (0 before the first write)."""
    return (await session.execute(_version(name))).scalar_one_or_none() or 0


async def read(engine: AsyncEngine, name: str) -> int:
    """The named counter's value read on its own connection, without an ORM session (0 before any write)."""
    async with engine.connect() as connection:
        return (await connection.execute(_version(name))).scalar_one_or_none() or 0
