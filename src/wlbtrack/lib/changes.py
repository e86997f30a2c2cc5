"""Version counters that every write bumps, for caches and ETags shared by all workers."""

from __future__ import annotations

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from wlbtrack.domain.reporting.models import ChangeCounter

CATALOGUE = "catalogue"
DATA = "data"
DATA_CHANNEL = "wlbtrack_data"  # PostgreSQL NOTIFY channel: the data version, sent on commit
BUMPED = "wlbtrack.data_version"  # session.info key: the data version this session's transaction wrote

_BUMP_AND_NOTIFY = text(
    "WITH bumped AS (UPDATE change_counter SET version = version + 1 WHERE name = :name RETURNING version) "
    f"SELECT version, pg_notify('{DATA_CHANNEL}', version::text) FROM bumped"
)


async def bump(session: AsyncSession, name: str) -> None:
    """Increase the named counter (its row is created by the first migration) in the caller's transaction.

    The new data version is kept in `session.info[BUMPED]`; on PostgreSQL it is also sent on DATA_CHANNEL,
    which PostgreSQL delivers to listeners only when the transaction commits.
    """
    if name == DATA and session.get_bind().dialect.name == "postgresql":
        version = (await session.execute(_BUMP_AND_NOTIFY, {"name": name})).scalars().one()
    else:
        version = (
            await session.execute(
                update(ChangeCounter)
                .where(col(ChangeCounter.name) == name)
                .values(version=ChangeCounter.version + 1)
                .returning(col(ChangeCounter.version))
            )
        ).scalar_one()
    if name == DATA:
        session.info[BUMPED] = int(version)


def _version(name: str) -> SelectOfScalar[int]:
    return select(ChangeCounter.version).where(ChangeCounter.name == name)


async def current(session: AsyncSession, name: str) -> int:
    """The named counter's value (0 before the first write)."""
    return (await session.execute(_version(name))).scalar_one_or_none() or 0


async def read(engine: AsyncEngine, name: str) -> int:
    """The named counter's value read on its own connection, without an ORM session (0 before any write)."""
    async with engine.connect() as connection:
        return (await connection.execute(_version(name))).scalar_one_or_none() or 0
