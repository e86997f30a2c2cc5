"""This worker's data version, kept current by PostgreSQL LISTEN/NOTIFY instead of a query per request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from wlbtrack.db import Database
from wlbtrack.lib import changes

logger = logging.getLogger(__name__)

RETRY_FIRST_S = 0.5
RETRY_MAX_S = 5.0
CHECK_EVERY_S = 5.0  # a live listener also re-reads the version this often, which notices a silent dead link
_READ = "SELECT version FROM change_counter WHERE name = 'data'"


class DataVersion:
    """The data version: local and pushed by NOTIFY while the listener is live, else read per call."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.connection: asyncpg.Connection[Any] | None = None
        self._version = 0
        self._live = False
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        session_class = type("DataVersionSession", (Session,), {})  # events of this instance only
        event.listen(session_class, "after_commit", self._committed)
        event.listen(session_class, "after_rollback", self._rolled_back)
        database.write_sessions.configure(sync_session_class=session_class)

    @property
    def live(self) -> bool:
        """Whether the listener is connected and listening."""
        return self._live and self.connection is not None and not self.connection.is_closed()

    async def current(self) -> int:
        """The data version: this worker's copy while the listener is live, else read from the database."""
        if self.live:
            return self._version
        return await changes.read(self.database.single_reads, changes.DATA)

    def advance(self, version: int) -> None:
        """Move the local version forward (never back)."""
        self._version = max(self._version, version)

    def start(self) -> None:
        """Keep a listener connected in the background (PostgreSQL only)."""
        if self.database.engine.dialect.name == "postgresql":
            self._task = asyncio.create_task(self._keep_listening())

    async def stop(self) -> None:
        """Stop reconnecting and close the listener."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()

    def _committed(self, session: Session) -> None:
        version = session.info.pop(changes.BUMPED, None)
        if version is not None:
            self.advance(version)  # read-your-writes: known before the writing request responds

    def _rolled_back(self, session: Session) -> None:
        session.info.pop(changes.BUMPED, None)

    async def _keep_listening(self) -> None:
        delay = RETRY_FIRST_S
        while True:
            try:
                await self._listen()
                delay = RETRY_FIRST_S
                while True:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._lost.wait(), CHECK_EVERY_S)
                    if self._lost.is_set():
                        break
                    await self._read_on_listener()
            except Exception as exc:  # whatever broke the link, fall back and reconnect
                logger.warning("data version listener unavailable: %s", type(exc).__name__)
            await self._close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    async def _listen(self) -> None:
        """Connect, LISTEN, then read the version: a write committed after the read is notified."""
        url = make_url(self.database.settings.database_url)
        self._lost.clear()
        self.connection = await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
            timeout=self.database.settings.db_timeout,
        )
        self.connection.add_termination_listener(self._terminated)
        await self.connection.add_listener(changes.DATA_CHANNEL, self._notified)
        await self._read_on_listener()
        self._live = True

    async def _read_on_listener(self) -> None:
        assert self.connection is not None
        self.advance(await self.connection.fetchval(_READ, timeout=self.database.settings.db_timeout) or 0)

    async def _close(self) -> None:
        self._live = False
        connection, self.connection = self.connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self.advance(int(payload))

    def _terminated(self, connection: Any) -> None:
        if connection is self.connection:
            self._live = False
            self._lost.set()
