"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import literal, select

from wlbtrack.db import Database
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
async def ready(database: NamedDependency[Database]) -> Response[HealthStatus]:
    """200 when a query against the database succeeds within the timeout, 503 otherwise."""
    try:
        async with asyncio.timeout(database.settings.db_timeout + 1):
            async with database.read_sessions() as session:
                await session.execute(select(literal(1)))
    except Exception:
        return Response(
            {"status": 503, "title": "Service Unavailable", "detail": "database: unreachable"},  # type: ignore[arg-type]
            status_code=503,
            media_type="application/problem+json",
        )
    return Response(HealthStatus(status="ready"))
