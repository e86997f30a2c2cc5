"""Extra application instances with their own settings (limits, metrics, CORS, a database behind a proxy)."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar

from wlbtrack.app import create_app
from wlbtrack.config import Settings


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
