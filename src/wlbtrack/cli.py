"""The `wlbtrack` command line."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from sqlalchemy.exc import DBAPIError

from wlbtrack.config import SettingsError, get_settings
from wlbtrack.domain.catalogue.seed import SeedError

if TYPE_CHECKING:
    from wlbtrack.db import WriteSession

T = TypeVar("T")


class BadSettings(click.ClickException):
    """WLBTRACK_* variables that cannot be used: one line naming each, exit status 2 (a usage error)."""

    exit_code = 2


def _first_line(error: BaseException) -> str:
    """The error's kind and the first line of its message."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    kind = type(error).__name__
    return text if kind == "Error" else f"{kind}: {text}"


class Commands(click.Group):
    """The `wlbtrack` group: a database or file that cannot be used ends a command with one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            cause = exc.orig or exc
            if "no such table" in str(cause) or type(cause).__name__ == "UndefinedTableError":
                raise click.ClickException(
                    "the database has no wlbtrack tables yet: run `wlbtrack db upgrade` and `wlbtrack seed`"
                ) from None
            raise click.ClickException(f"WLBTRACK_DATABASE_URL: {_first_line(cause)}") from None
        except (ConnectionError, TimeoutError, socket.gaierror) as exc:
            raise click.ClickException(f"WLBTRACK_DATABASE_URL: cannot connect: {_first_line(exc)}") from None
        except OSError as exc:
            raise click.ClickException(_first_line(exc)) from None


@click.group(cls=Commands)
def main() -> None:
    """wlbtrack: progress tracking for Setagaya Ward's work-life-balance plan."""
    try:
        get_settings()
    except SettingsError as exc:
        raise BadSettings(str(exc)) from None


def _not_blank(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """The option's value without surrounding spaces; a blank one is a usage error, as in WLBTRACK_HOST."""
    if value is not None and not value.strip():
        raise click.BadParameter("is blank")
    return value.strip() if value is not None else None


@main.command()
@click.option(
    "--host",
    default=None,
    callback=_not_blank,
    help="Interface to bind (default WLBTRACK_HOST or 127.0.0.1).",
)
@click.option(
    "--port",
    default=None,
    type=click.IntRange(0, 65535),
    help="Port; 0 picks a free one (default WLBTRACK_PORT or 8000).",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1),
    help="Worker processes (default WLBTRACK_WORKERS or 1).",
)
@click.option("--no-migrate", is_flag=True, help="Do not migrate or seed before starting.")
def serve(host: str | None, port: int | None, workers: int | None, no_migrate: bool) -> None:
    """Serve the API; on an empty database, migrate and load the seed first."""
    import logging
    import logging.config
    from contextlib import nullcontext

    import uvicorn

    from wlbtrack.lib.logs import logging_config
    from wlbtrack.lib.metrics import shared_between_workers
    from wlbtrack.lib.ratelimit import RateLimit

    if not no_migrate:
        # Alembic (about 10 MB) stays out of a --no-migrate server; imported before logging is set up, as
        # importing it logs its plugins' set-up at INFO
        from wlbtrack.migrate import prepare

    settings = get_settings()
    rate = RateLimit.parse(settings.rate_limit)
    log_config = logging_config(settings.log_level)
    logging.config.dictConfig(log_config)
    # An option given on the command line wins, even when it is falsy (--port 0 asks for a free port).
    workers = settings.workers if workers is None else workers
    if workers > 1 and rate is not None and settings.redis_url is None:
        logging.getLogger("wlbtrack.serve").warning(
            "WLBTRACK_REDIS_URL is not set: with %d workers each keeps its own rate-limit count, so a token "
            "may make up to %d times WLBTRACK_RATE_LIMIT; set WLBTRACK_REDIS_URL to share one count",
            workers,
            workers,
        )
    if not no_migrate:
        prepare(settings)
    with shared_between_workers() if workers > 1 and settings.metrics else nullcontext():
        uvicorn.run(
            "wlbtrack.app:create_app",
            factory=True,
            host=settings.host if host is None else host,
            port=settings.port if port is None else port,
            workers=workers,
            timeout_graceful_shutdown=settings.shutdown_timeout,
            log_config=log_config,
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips=settings.trusted_proxies,
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

    schema = json.loads(encode_json(create_app().app.openapi_schema.to_schema()))
    document = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")


def _in_write_transaction(work: Callable[[WriteSession], Awaitable[T]]) -> T:
    """Run `work` in one write transaction on the configured database."""
    from wlbtrack.db import Database

    async def run() -> T:
        database = Database(get_settings())
        try:
            async with database.write_sessions() as session, session.begin():
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(run())


@main.group()
def token() -> None:
    """API token commands (tokens are stored only as hashes)."""


@token.command("create")
@click.option("--role", type=click.Choice(["admin", "department", "viewer"]), required=True)
@click.option("--department", default=None, help="Department code; required for --role department.")
@click.option(
    "--name", "label", default=None, help="Label recorded with every write (default: role-department)."
)
def token_create(role: str, department: str | None, label: str | None) -> None:
    """Create a token and print it alone on standard output (it is shown only once)."""
    from wlbtrack.domain.auth.services import TokenError, create_token

    if label is not None and (not label.strip() or len(label) > 200 or "\x00" in label):
        raise click.BadParameter("must be 1–200 characters, not blank", param_hint="--name")
    try:
        secret, created = _in_write_transaction(
            lambda session: create_token(session, role, department, label)
        )
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(secret)
    click.echo(f"created token {created.id} ({created.role}, label {created.label!r})", err=True)


@token.command("list")
def token_list() -> None:
    """List tokens: id, role, department, label, created, and revoked (or 'active')."""
    from wlbtrack.domain.auth.services import list_tokens

    rows = _in_write_transaction(list_tokens)  # before any output: a database error prints no header
    click.echo("id\trole\tdepartment\tlabel\tcreated_at\trevoked_at")
    for row in rows:
        revoked = row.revoked_at.isoformat() if row.revoked_at else "active"
        fields = (row.id, row.role, row.department or "-", row.label, row.created_at.isoformat(), revoked)
        click.echo("\t".join(str(field) for field in fields))


@token.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
def token_revoke(token_id: int) -> None:
    """Revoke a token by id: it gets 401 from then on."""
    from wlbtrack.domain.auth.services import revoke_token

    if not _in_write_transaction(lambda session: revoke_token(session, token_id)):
        raise click.ClickException(f"no token with id {token_id}")
    click.echo(f"token {token_id} revoked", err=True)
