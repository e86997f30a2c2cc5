"""A Litestar Store in the database, so every worker (and every host) sees the same dashboard sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar.stores.base import Store
from sqlalchemy import bindparam, delete, or_, select, update

from wlbtrack.db import Database
from wlbtrack.domain.dashboard.models import DashboardSession
from wlbtrack.lib.clock import Clock
from wlbtrack.lib.tables import insert, table

SESSION = table(DashboardSession)
READ = select(SESSION.c.data).where(
    SESSION.c.key == bindparam("key"),
    or_(
        SESSION.c.expires_at.is_(None),
        SESSION.c.expires_at > bindparam("now", type_=SESSION.c.expires_at.type),
    ),
)


class DatabaseStore(Store):
    """Key → bytes with an expiry, in the dashboard_session table; expired rows read as absent."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def _expiry(self, expires_in: int | timedelta | None) -> datetime | None:
        if expires_in is None:
            return None
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
        return self.clock.now() + timedelta(seconds=seconds)

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode("utf-8") if isinstance(value, str) else value
        async with self.database.write_sessions() as session, session.begin():
            # one upsert: a delete then an insert lets two requests of one session (a page's parallel
            # loads) both delete, then collide on the key (a 500 after the response started)
            statement = insert(session, SESSION).values(
                key=key, data=data, expires_at=self._expiry(expires_in)
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["key"],
                    set_={"data": statement.excluded.data, "expires_at": statement.excluded.expires_at},
                )
            )

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        # read each time a worker's copy is older than its TTL (lib.caching.RecentlyReadStore): one statement,
        # built once, without an ORM session or (PostgreSQL) a transaction
        async with self.database.single_reads.connect() as connection:
            row = (await connection.execute(READ, {"key": key, "now": self.clock.now()})).first()
        if row is None:
            return None
        if renew_for is not None:
            async with self.database.write_sessions() as writer, writer.begin():
                await writer.execute(
                    update(SESSION).where(SESSION.c.key == key).values(expires_at=self._expiry(renew_for))
                )
        data: bytes = row[0]
        return data

    async def delete(self, key: str) -> None:
        async with self.database.write_sessions() as session, session.begin():
            await session.execute(delete(SESSION).where(SESSION.c.key == key))

    async def delete_all(self) -> None:
        async with self.database.write_sessions() as session, session.begin():
            await session.execute(delete(SESSION))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self.database.read_sessions() as session:
            row = (await session.execute(select(SESSION.c.expires_at).where(SESSION.c.key == key))).first()
        if row is None or row[0] is None:
            return None
        return max(0, int((row[0] - self.clock.now()).total_seconds()))
