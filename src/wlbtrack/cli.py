"""The `wlbtrack` command line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from wlbtrack.config import get_settings
from wlbtrack.domain.catalogue.seed import SeedError


@click.group()
def main() -> None:
    """wlbtrack: progress tracking for Setagaya Ward's work-life-balance plan."""


@main.command()
@click.option("--host", default=None, help="Interface to bind (default WLBTRACK_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default WLBTRACK_PORT or 8000).")
@click.option("--workers", default=None, type=int, help="Worker processes (default WLBTRACK_WORKERS or 1).")
@click.option("--no-migrate", is_flag=True, help="Do not migrate or seed before starting.")
def serve(host: str | None, port: int | None, workers: int | None, no_migrate: bool) -> None:
    """Serve the API; on an empty database, migrate and load the seed first."""
    import uvicorn

    from wlbtrack.migrate import prepare

    settings = get_settings()
    if not no_migrate:
        prepare(settings)
    uvicorn.run(
        "wlbtrack.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        timeout_graceful_shutdown=30,
        access_log=False,
        proxy_headers=True,
    )


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database to the newest migration."""
    from wlbtrack.migrate import upgrade

    upgrade(get_settings())
    click.echo("database is at the newest migration", err=True)


@main.command()
def seed() -> None:
    """Load seed/catalogue.yaml: idempotent, and updates edited names and texts in place."""
    from wlbtrack.migrate import seed as run_seed

    try:
        result = asyncio.run(run_seed(get_settings()))
    except SeedError as exc:
        raise click.ClickException(str(exc)) from exc
    assert result is not None
    if not result.changed:
        click.echo("catalogue unchanged", err=True)
        return
    click.echo(f"catalogue loaded: created {result.created or {}}, updated {result.updated or {}}", err=True)


@main.command()
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File to write."
)
def openapi(output: Path | None) -> None:
    """Write the OpenAPI document (to stdout, or to --output)."""
    from litestar.serialization import encode_json

    from wlbtrack.app import create_app

    schema = json.loads(encode_json(create_app().openapi_schema.to_schema()))
    document = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")
