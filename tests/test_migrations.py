"""Migrations build exactly the schema the models describe, and step down and up again."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, make_url

from wlbtrack.config import Settings
from wlbtrack.db import Database
from wlbtrack.migrate import alembic_config, is_at_head
from wlbtrack.models import metadata


def _compare(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def _differences(settings: Settings) -> list[object]:
    """How the database's schema differs from the models'."""
    database = Database(settings)
    try:
        async with database.engine.connect() as connection:
            return await connection.run_sync(_compare)
    finally:
        await database.dispose()


async def test_the_migrated_schema_matches_the_models(settings: Settings) -> None:
    assert await _differences(settings) == []


@pytest.fixture
async def empty_settings(settings: Settings, tmp_path: Path) -> AsyncIterator[Settings]:
    """Settings of a new empty database of the same kind as the run's."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        yield dataclasses.replace(settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        return
    name = f"wlbtrack_migrate_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database="postgres"
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield dataclasses.replace(settings, database_url=url.set(database=name).render_as_string(False))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_every_migration_steps_down_and_up_again(empty_settings: Settings) -> None:
    config = alembic_config(empty_settings)
    for target in ("head", "0001", "base", "head"):
        await asyncio.to_thread(command.upgrade if target == "head" else command.downgrade, config, target)
    assert await is_at_head(empty_settings)
    assert await _differences(empty_settings) == []
