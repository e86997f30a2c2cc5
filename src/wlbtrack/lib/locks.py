"""Named locks held by the database until the transaction ends, so they hold across workers and instances.

On PostgreSQL these are transaction-level advisory locks. Waiting for one is not bounded by the statement
timeout (that bound tells an outage from a slow answer; a lock wait is neither): it is bounded by
WLBTRACK_DB_LOCK_WAIT, and a wait past it is a 409 with Retry-After. On SQLite a write transaction begins
IMMEDIATE and so already holds the only write lock; these calls do nothing there.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.lib.errors import busy
from wlbtrack.lib.i18n import Msg

LOCK_WAIT = "lock_wait"  # the key in a write session's `info` holding WLBTRACK_DB_LOCK_WAIT (seconds)


async def hold(session: AsyncSession, key: str, *, shared: bool, name: str, what: Msg) -> None:
    """Hold the lock `key` (shared or exclusive) until the session's transaction ends."""
    wait: float = session.info[LOCK_WAIT]
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return
    # through SQLAlchemy first: asyncpg's transaction starts with the first statement it is given
    await connection.exec_driver_sql(f"SET LOCAL lock_timeout = {round(wait * 1000)}")
    # then on the driver's connection, the only way to give one statement its own client timeout: the
    # server gives up after lock_timeout (55P03); the client allows a little more, so that only a database
    # that stopped answering ends in the client's timeout (an outage)
    raw: Any = (await connection.get_raw_connection()).driver_connection
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    try:
        await raw.execute(f"SELECT {function}(hashtextextended($1, 0))", key, timeout=wait + 5)
    except asyncpg.exceptions.LockNotAvailableError:
        raise busy(name, what) from None
