"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from sqlalchemy import literal, select

from wlbtrack.db import Database
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.responses import problem


class HealthStatus(msgspec.Struct):
    """Probe result."""

    status: str


@get("/health", summary="Liveness: the process is up", tags=["operations"], include_in_schema=True)
async def health() -> HealthStatus:
    """Always 200 while the process serves requests, whatever the database does."""
    return HealthStatus(status="ok")


@get(
    "/ready",
    summary="Readiness: the database is reachable",
    tags=["operations"],
    responses={503: problem("The database is unreachable")},
)
async def ready(
    request: Request[Any, Any, Any], database: NamedDependency[Database]
) -> Response[HealthStatus]:
    """200 when a query against the database succeeds within the timeout, 503 otherwise."""
    try:
        async with asyncio.timeout(database.settings.db_timeout + 1):
            async with database.read_sessions() as session:
                await session.execute(select(literal(1)))
    except Exception:
        return ProblemError(503, Msg("unreachable"), field="database").to_response(request)  # type: ignore[return-value]
    return Response(HealthStatus(status="ready"))
