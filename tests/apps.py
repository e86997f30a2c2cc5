"""Application instances for tests: their services, their lifespan, HTTP clients, a clock to move, and
`wlbtrack serve` as a real process."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from litestar.types import ASGIApp

from wlbtrack.app import build_app
from wlbtrack.config import Settings
from wlbtrack.db import Database
from wlbtrack.domain.auth.services import create_token
from wlbtrack.lib.clock import TOKYO, Clock
from wlbtrack.lib.logs import JsonFormatter
from wlbtrack.lib.pipeline import RequestPipeline
from wlbtrack.migrate import seed, upgrade
from wlbtrack.services import Services


class FakeClock:
    """A clock the test moves by hand: monotonic seconds and wall time advance together."""

    def __init__(self, now: datetime | None = None) -> None:
        self.seconds = 1000.0
        self.wall = now or datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        self.seconds += seconds
        self.wall += timedelta(seconds=seconds)

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return self.wall

    def today(self) -> date:
        return self.wall.astimezone(TOKYO).date()


@dataclass
class Instance:
    """An application and the services it runs on."""

    services: Services
    app: RequestPipeline


@asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Run an ASGI application's lifespan in a task of its own, with the messages a server sends.

    Litestar's AsyncTestClient would do this, but in Litestar 2 it runs the application in another thread's
    event loop (litestar-org/litestar#1920, fixed only in 3.x), which the database pool shared with the
    tests cannot follow and which serialises concurrent requests.
    """
    to_app: asyncio.Queue[Any] = asyncio.Queue()
    from_app: asyncio.Queue[Any] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    task: asyncio.Task[None] = asyncio.create_task(app(scope, to_app.get, from_app.put))  # type: ignore[arg-type]
    await to_app.put({"type": "lifespan.startup"})
    started = await from_app.get()
    if started["type"] != "lifespan.startup.complete":
        await task
        raise RuntimeError(f"the application did not start: {started}")
    try:
        yield
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        stopped = await from_app.get()
        await task
        assert stopped["type"] == "lifespan.shutdown.complete", stopped


@asynccontextmanager
async def running(
    settings: Settings, *, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[Instance]:
    """An application for these settings (with overrides), its lifespan running as under a server."""
    services = Services.build(dataclasses.replace(settings, **overrides), clock=clock)
    application = build_app(services)
    async with lifespan(application):
        yield Instance(services, application)


@asynccontextmanager
async def clocked(
    settings: Settings, token: str, now: datetime
) -> AsyncIterator[tuple[httpx.AsyncClient, FakeClock]]:
    """A client (with this token) of an application whose clock starts at `now`, and the clock to move."""
    clock = FakeClock(now)
    async with running(settings, clock=clock) as instance, http_client(instance, token) as http:
        yield http, clock


@contextmanager
def captured_logs(name: str = "") -> Iterator[io.StringIO]:
    """What is logged at INFO and above to `name` (default: the root logger) while the block runs, formatted
    as the service formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(name or None)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def http_client(instance: Instance, token: str | None = None) -> httpx.AsyncClient:
    """A client for an application, with a bearer token when one is given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=instance.app),  # type: ignore[arg-type]  # httpx types scopes as dicts
        base_url="http://testserver",
        headers=headers,
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


@contextmanager
def server_process(
    database_url: str, port: int, log: Path, *args: str, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`wlbtrack serve` on a port, stderr appended to a file; killed if the test leaves it running."""
    environment = {
        **os.environ,
        "WLBTRACK_DATABASE_URL": database_url,
        "WLBTRACK_SHUTDOWN_TIMEOUT": "10",
        **env,
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "wlbtrack", "serve", "--port", str(port), "--no-migrate", *args],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    """Return once the server answers /ready with 200 (fail if it exits or takes over 20 s)."""
    deadline = time.monotonic() + 20
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the server exited while starting"
            try:
                if (await http.get(f"http://127.0.0.1:{port}/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise AssertionError("the server did not become ready")
