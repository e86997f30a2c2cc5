"""Test harness: one fresh database per run (SQLite, or PostgreSQL when WLBTRACK_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.engine import make_url

TEST_SERVER_URL = os.environ.get("WLBTRACK_TEST_DATABASE_URL")

# Tests that need a service beyond the database under test are collected only where it is configured.
collect_ignore = [
    *([] if TEST_SERVER_URL else ["test_ops_outage_postgres.py", "test_progress_etag_instances.py"]),
    *([] if os.environ.get("WLBTRACK_TEST_REDIS_URL") else ["test_ops_ratelimit_redis.py"]),
]


async def _admin_execute(sql: str) -> None:
    assert TEST_SERVER_URL is not None
    url = make_url(TEST_SERVER_URL)
    connection = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database="postgres"
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _create_database() -> tuple[str, Callable[[], None]]:
    """A new empty database for this run, and a function that drops it."""
    if not TEST_SERVER_URL:
        path = Path(tempfile.mkdtemp(prefix="wlbtrack-test-")) / "test.db"
        return f"sqlite+aiosqlite:///{path}", lambda: None
    name = f"wlbtrack_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    url = make_url(TEST_SERVER_URL).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False), lambda: asyncio.run(
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    )


DATABASE_URL, _drop_database = _create_database()
os.environ["WLBTRACK_DATABASE_URL"] = DATABASE_URL
os.environ["WLBTRACK_CATALOGUE_TTL"] = "0"
os.environ["WLBTRACK_TOKEN_CACHE_TTL"] = "0"

from wlbtrack.config import Settings, get_settings  # noqa: E402  (settings must see the test database)
from wlbtrack.migrate import seed, upgrade  # noqa: E402

get_settings.cache_clear()
upgrade(get_settings())
asyncio.run(seed(get_settings()))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _drop_database()


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Settings of this run's database, migrated and seeded."""
    return get_settings()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[object]:
    """The application, with its lifespan running for the whole session."""
    from wlbtrack.app import create_app

    application = create_app(settings)
    for hook in application.on_startup:
        await hook(application)  # type: ignore[call-arg,misc]
    yield application
    for hook in application.on_shutdown:
        await hook(application)  # type: ignore[call-arg,misc]


@pytest.fixture(autouse=True)
async def _clean_tables(app: object) -> AsyncIterator[None]:
    """Leave the catalogue and remove everything tests write, after each test."""
    yield
    from wlbtrack.db import Database
    from wlbtrack.lib import changes
    from wlbtrack.models import metadata

    database: Database = app.state.database  # type: ignore[attr-defined]
    keep = {
        "campaign",
        "direction",
        "guideline",
        "initiative_group",
        "initiative",
        "initiative_group_department",
        "responsibility",
        "department",
        "change_counter",
        "alembic_version",
    }
    async with database.write_sessions() as session, session.begin():
        for table in reversed(metadata.sorted_tables):
            if table.name not in keep:
                await session.execute(delete(table))
        await changes.bump(session, changes.DATA)


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client without credentials."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


MakeToken = Callable[..., Awaitable[str]]


@pytest.fixture
def make_token(app: object) -> MakeToken:
    """Create a token directly in the database: make_token("department", department="children")."""

    async def _make(role: str, department: str | None = None, label: str | None = None) -> str:
        from wlbtrack.db import Database
        from wlbtrack.domain.auth.service import create_token

        database: Database = app.state.database  # type: ignore[attr-defined]
        async with database.write_sessions() as session, session.begin():
            token, _ = await create_token(
                session, role=role, department=department, label=label or f"test-{role}"
            )
        return token

    return _make


MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_client(app: object, make_token: MakeToken) -> AsyncIterator[MakeClient]:
    """Clients authenticated with a fresh token: await make_client("department", department="children")."""
    opened: list[httpx.AsyncClient] = []

    async def _make(role: str, department: str | None = None, label: str | None = None) -> httpx.AsyncClient:
        token = await make_token(role, department=department, label=label)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {token}"},
        )
        opened.append(http)
        return http

    yield _make
    for http in opened:
        await http.aclose()


@pytest.fixture
async def viewer(make_client: MakeClient) -> httpx.AsyncClient:
    """A client with a viewer token."""
    return await make_client("viewer")


@pytest.fixture
async def admin(make_client: MakeClient) -> httpx.AsyncClient:
    """A client with an admin token."""
    return await make_client("admin")
