"""Extra application instances with their own settings (limits, metrics, CORS, a database behind a proxy)."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar

from wlbtrack.app import create_app
from wlbtrack.config import Settings
from wlbtrack.db import Database
from wlbtrack.domain.auth.service import create_token
from wlbtrack.migrate import seed, upgrade


@asynccontextmanager
async def running_app(settings: Settings, **overrides: Any) -> AsyncIterator[Litestar]:
    """An application for these settings (with overrides), its lifespan running."""
    application = create_app(dataclasses.replace(settings, **overrides))
    for hook in application.on_startup:
        await hook(application)  # type: ignore[call-arg,misc]
    try:
        yield application
    finally:
        for hook in application.on_shutdown:
            await hook(application)  # type: ignore[call-arg,misc]


def http_client(application: Litestar, token: str | None = None) -> httpx.AsyncClient:
    """A client for an application, with a bearer token when one is given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver", headers=headers
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def prepare_database(settings: Settings, role: str = "viewer", department: str | None = None) -> str:
    """Migrate and seed the settings' database, and return a new token for it."""
    await asyncio.to_thread(upgrade, settings)
    await seed(settings)
    database = Database(settings)
    try:
        async with database.write_sessions() as session, session.begin():
            token, _ = await create_token(session, role=role, department=department, label=f"{role}-script")
    finally:
        await database.dispose()
    return token
