"""Test harness: one fresh database per run (SQLite, or PostgreSQL when WLBTRACK_TEST_DATABASE_URL is set),
created by a session fixture, and one application whose lifespan runs for the whole session."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import asyncpg
import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from apps import Instance, http_client, running
from wlbtrack.config import Settings
from wlbtrack.domain.auth.services import create_token
from wlbtrack.lib import changes
from wlbtrack.migrate import seed, upgrade
from wlbtrack.models import metadata

TEST_SERVER_URL = os.environ.get("WLBTRACK_TEST_DATABASE_URL")

# Tests that need PostgreSQL, or a service beyond the database under test, are collected only where it is
# configured.
collect_ignore = [
    *(
        []
        if TEST_SERVER_URL
        else ["test_ops_outage_postgres.py", "test_progress_etag_instances.py", "test_export_postgres.py"]
    ),
    *([] if os.environ.get("WLBTRACK_TEST_REDIS_URL") else ["test_ops_ratelimit_redis.py"]),
]
CATALOGUE_TABLES = {
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


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A new empty database for this run, dropped at its end."""
    if not TEST_SERVER_URL:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('database') / 'test.db'}"
        return
    name = f"wlbtrack_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(TEST_SERVER_URL)
            .set(drivername="postgresql+asyncpg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Iterator[Settings]:
    """Settings of this run's database, migrated and seeded; the CLI run by tests sees the same."""
    environment = {
        "WLBTRACK_DATABASE_URL": database_url,
        "WLBTRACK_CATALOGUE_TTL": "0",
        "WLBTRACK_TOKEN_CACHE_TTL": "0",
        "WLBTRACK_WEBHOOK_DELIVERY": "off",  # webhook tests run their own deliverers
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        configured = dataclasses.replace(
            Settings.from_env(),
            database_url=database_url,
            catalogue_ttl=0,
            token_cache_ttl=0,
            webhook_delivery=False,
        )
        upgrade(configured)
        asyncio.run(seed(configured))
        yield configured


@pytest.fixture(scope="session")
async def instance(settings: Settings) -> AsyncIterator[Instance]:
    """The application and its services, its lifespan running for the whole session."""
    async with running(settings) as started:
        yield started


@pytest.fixture(autouse=True)
async def _clean_tables(instance: Instance) -> AsyncIterator[None]:
    """Leave the catalogue and remove everything tests write, after each test."""
    yield
    async with instance.services.database.write_sessions() as session, session.begin():
        for table in reversed(metadata.sorted_tables):
            if table.name not in CATALOGUE_TABLES:
                await session.execute(delete(table))
        await changes.bump(session, changes.DATA)


@pytest.fixture
async def client(instance: Instance) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client without credentials."""
    async with http_client(instance) as http:
        yield http


MakeToken = Callable[..., Awaitable[str]]


@pytest.fixture
def make_token(instance: Instance) -> MakeToken:
    """Create a token directly in the database: make_token("department", department="children")."""

    async def _make(role: str, department: str | None = None, label: str | None = None) -> str:
        async with instance.services.database.write_sessions() as session, session.begin():
            token, _ = await create_token(
                session, role=role, department=department, label=label or f"test-{role}"
            )
        return token

    return _make


MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_client(instance: Instance, make_token: MakeToken) -> AsyncIterator[MakeClient]:
    """Clients authenticated with a fresh token: await make_client("department", department="children")."""
    opened: list[httpx.AsyncClient] = []

    async def _make(role: str, department: str | None = None, label: str | None = None) -> httpx.AsyncClient:
        http = http_client(instance, await make_token(role, department=department, label=label))
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
