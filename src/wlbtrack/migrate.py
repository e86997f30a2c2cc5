"""Alembic upgrades and the one-command bootstrap of an empty database."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from wlbtrack.config import Settings
from wlbtrack.db import Database
from wlbtrack.domain.catalogue.seed import SeedResult, catalogue_is_empty, load_seed, read_seed
from wlbtrack.lib import changes


def alembic_config(settings: Settings) -> Config:
    """Alembic configuration pointing at migrations/ and the configured database."""
    config = Config()
    config.set_main_option("script_location", str(settings.migrations_path))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings) -> None:
    """Upgrade the database schema to the newest migration (call outside an event loop)."""
    command.upgrade(alembic_config(settings), "head")


async def is_at_head(settings: Settings) -> bool:
    """Whether the database schema is at the newest migration."""
    heads = set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())
    database = Database(settings)

    def _current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    try:
        async with database.engine.connect() as connection:
            return await connection.run_sync(_current) == heads
    finally:
        await database.dispose()


async def seed(settings: Settings, only_if_empty: bool = False) -> SeedResult | None:
    """Load seed/catalogue.yaml; with `only_if_empty`, only into a database without a catalogue."""
    catalogue = read_seed(settings.seed_path)
    database = Database(settings)
    try:
        async with database.write_sessions() as session, session.begin():
            if only_if_empty and not await catalogue_is_empty(session):
                return None
            result = await load_seed(session, catalogue)
            if result.changed:
                await changes.bump(session, changes.CATALOGUE)
            return result
    finally:
        await database.dispose()


def prepare(settings: Settings) -> None:
    """Migrate if behind and load the seed if the catalogue is empty: what `serve` does first."""
    if not asyncio.run(is_at_head(settings)):
        upgrade(settings)
    asyncio.run(seed(settings, only_if_empty=True))
