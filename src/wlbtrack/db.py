"""Database engine, sessions and the SQLite settings that make concurrent writers safe."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from wlbtrack.config import Settings
from wlbtrack.lib.locks import LOCK_WAIT

PING_AFTER_IDLE_S = 2.0


def async_url(database_url: str) -> URL:
    """The URL with an async driver, whatever driver the user named."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+asyncpg")
    return url


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine; errors never carry bound values, and PostgreSQL calls give up after the timeouts."""
    url = async_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        # a writer waits for the write lock as long as a PostgreSQL writer waits for its locks
        engine = create_async_engine(
            url, connect_args={"timeout": settings.db_lock_wait}, hide_parameters=True
        )
        _configure_sqlite(engine, busy_timeout_ms=round(settings.db_lock_wait * 1000))
        return engine
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_timeout,
        hide_parameters=True,
        connect_args={"timeout": settings.db_timeout, "command_timeout": settings.db_statement_timeout},
    )
    _check_on_checkout(engine)
    return engine


def _check_on_checkout(engine: AsyncEngine) -> None:
    """Replace a pooled connection that is closed, or that idled a while and fails a ping.

    A full pre-ping (BEGIN, `;`, ROLLBACK) on every checkout would triple the round trips of a one-query
    request; a connection used within the last PING_AFTER_IDLE_S seconds is only checked for a closed socket.
    """

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if record.driver_connection is None or record.driver_connection.is_closed():
            raise DisconnectionError("connection closed")
        if time.monotonic() - record.info.get("idle_since", float("inf")) > PING_AFTER_IDLE_S:
            try:
                dbapi_connection.ping()
            except Exception as exc:
                raise DisconnectionError("connection failed a ping") from exc


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE for write transactions."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = "IMMEDIATE" if connection.get_execution_options().get("write") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")


class ReadSession(AsyncSession):
    """A session for reads; on SQLite its transactions begin DEFERRED (no write lock)."""


class WriteSession(AsyncSession):
    """A session for writes; on SQLite its transactions begin IMMEDIATE, taking the write lock first.

    Functions that write take a WriteSession, so that a read session cannot be handed to them.
    """


class Database:
    """The engine plus session factories for reads and for writes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        self.read_sessions = async_sessionmaker(self.engine, class_=ReadSession, expire_on_commit=False)
        self.write_sessions = async_sessionmaker(
            self.engine.execution_options(write=True),
            class_=WriteSession,
            expire_on_commit=False,
            info={LOCK_WAIT: settings.db_lock_wait},
        )
        # what the database is, for cache keys: the URL without its password
        self.identity = self.engine.url.render_as_string(hide_password=True)
        # one-statement reads (version counters): on PostgreSQL no BEGIN/ROLLBACK around the statement
        self.single_reads = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "postgresql"
            else self.engine
        )

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
