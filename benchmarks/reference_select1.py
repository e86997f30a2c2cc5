"""Reference app: a minimal Litestar app running `SELECT 1` through an asyncpg pool per request.

Serve with `uvicorn reference_select1:app --app-dir benchmarks`; WLB_REF_DSN is the PostgreSQL DSN and
WLB_REF_POOL_SIZE the pool size (run.py passes the service's pool size).
"""

from __future__ import annotations

import os

import asyncpg
from litestar import Litestar, get
from litestar.datastructures import State


async def open_pool(app: Litestar) -> None:
    """Open the connection pool."""
    size = int(os.environ.get("WLB_REF_POOL_SIZE", "10"))
    app.state.pool = await asyncpg.create_pool(os.environ["WLB_REF_DSN"], min_size=size, max_size=size)


async def close_pool(app: Litestar) -> None:
    """Close the connection pool."""
    await app.state.pool.close()


@get("/select1")
async def select1(state: State) -> dict[str, int]:
    """One round trip to PostgreSQL."""
    pool: asyncpg.Pool = state.pool
    async with pool.acquire() as connection:
        value = await connection.fetchval("SELECT 1")
    return {"value": value}


@get("/ready", sync_to_thread=False)
def ready() -> dict[str, str]:
    """Readiness probe for run.py."""
    return {"status": "ready"}


app = Litestar(route_handlers=[select1, ready], on_startup=[open_pool], on_shutdown=[close_pool])
