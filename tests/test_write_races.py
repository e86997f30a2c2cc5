"""Writes racing a close, and many writers of one department's quarter at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from apps import http_client, running

if TYPE_CHECKING:
    from conftest import MakeToken
    from wlbtrack.config import Settings

PERIOD = "2025-Q2"
ROUNDS = 30


async def _indicators(admin: httpx.AsyncClient, count: int) -> list[int]:
    """`count` new indicators on guideline 1.3.1 (children's)."""
    ids = []
    for n in range(count):
        created = await admin.post(
            "/api/v1/guidelines/1.3.1/indicators",
            json={"name": f"指標 {n}", "unit": "件", "baseline": 0, "target": 10},
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


def _batch(indicators: list[int], n: int) -> dict[str, Any]:
    return {
        "period": PERIOD,
        "reports": [
            {"guideline": "1.1.1", "status": "on_track", "summary": f"第{n}回"},
            {"guideline": "1.3.1", "status": "at_risk", "summary": f"第{n}回"},
        ],
        "values": [{"indicator": i, "value": n} for i in indicators],
    }


async def _history(admin: httpx.AsyncClient) -> list[int]:
    body = (await admin.get("/api/v1/guidelines/1.1.1/reports/history", params={"period": PERIOD})).json()
    return [item["revision"] for item in body["items"]]


async def test_no_write_commits_after_a_close_was_acknowledged(
    admin: httpx.AsyncClient, make_token: MakeToken, settings: Settings
) -> None:
    indicators = await _indicators(admin, 100)
    clerk = await make_token("department", department="children")
    office = await make_token("admin")
    outcomes: dict[int, int] = {}
    async with (
        running(settings, rate_limit="100000/minute") as application,
        http_client(application, clerk) as children,
        http_client(application, office) as admin_here,
    ):
        for n in range(ROUNDS):
            assert (await admin_here.post(f"/api/v1/periods/{PERIOD}/reopen")).status_code == 200
            batch = asyncio.ensure_future(children.post("/api/v1/submissions", json=_batch(indicators, n)))
            await asyncio.sleep(random.uniform(0, 0.02))
            closed = await admin_here.post(f"/api/v1/periods/{PERIOD}/close")
            assert closed.status_code == 200, closed.text
            # what the period holds once the close was acknowledged: nothing may be added to it later
            seen = await _history(admin_here)
            answer = await batch
            outcomes[answer.status_code] = outcomes.get(answer.status_code, 0) + 1
            assert answer.status_code in (201, 409), answer.text
            if answer.status_code == 201:
                revision = answer.json()["reports"][0]["revision"]
                assert revision in seen, f"round {n}: revision {revision} was written after the close"
            else:
                assert answer.json()["detail"] == f"period: {PERIOD} is closed; an admin must reopen it first"
            assert await _history(admin_here) == seen
    assert sum(outcomes.values()) == ROUNDS


async def test_racing_batches_of_one_quarter_all_succeed_as_consecutive_revisions(
    admin: httpx.AsyncClient, make_token: MakeToken, settings: Settings
) -> None:
    # a short statement timeout makes every row-lock wait of the old code longer than it
    indicators = await _indicators(admin, 50)
    clerk = await make_token("department", department="children")
    racers = 40
    async with running(settings, db_statement_timeout=0.2, rate_limit="100000/minute") as application:
        clients = [http_client(application, clerk) for _ in range(racers)]
        try:
            answers = await asyncio.gather(
                *(
                    client.post("/api/v1/submissions", json=_batch(indicators, n))
                    for n, client in enumerate(clients)
                )
            )
        finally:
            for client in clients:
                await client.aclose()
    assert [a.status_code for a in answers] == [201] * racers, [
        a.text for a in answers if a.status_code != 201
    ]
    assert sorted(a.json()["reports"][0]["revision"] for a in answers) == list(range(1, racers + 1))
    assert await _history(admin) == list(range(1, racers + 1))
    values = (await admin.get(f"/api/v1/indicators/{indicators[-1]}/values/history")).json()
    assert [v["revision"] for v in values["items"]] == list(range(1, racers + 1))


@contextlib.asynccontextmanager
async def _another_writer_holds(settings: Settings) -> AsyncIterator[None]:
    """Another transaction holds the lock children's 2025-Q2 writers wait for (SQLite: the write lock)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database or "", isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    raw = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
    )
    try:
        async with raw.transaction():
            await raw.execute(
                f"SELECT pg_advisory_xact_lock(hashtextextended('quarter:{PERIOD}:children', 0))"
            )
            yield
    finally:
        await raw.close()


async def test_a_lock_wait_past_its_bound_is_a_retryable_409_not_an_outage(
    admin: httpx.AsyncClient, make_token: MakeToken, settings: Settings
) -> None:
    indicators = await _indicators(admin, 3)
    clerk = await make_token("department", department="children")
    async with (
        running(settings, db_lock_wait=0.3) as application,
        http_client(application, clerk) as children,
    ):
        async with _another_writer_holds(settings):
            refused = await children.post("/api/v1/submissions", json=_batch(indicators, 1))
            assert refused.status_code == 409, refused.text
            assert refused.headers["retry-after"] == "1"
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert "unavailable" not in refused.json()["detail"]
            assert refused.json()["detail"].endswith("nothing was written, retry shortly")
            assert await _history(admin) == []
            ready = await children.get("/ready")
            assert ready.status_code == 200  # a lock wait is not an outage
        stored = await children.post("/api/v1/submissions", json=_batch(indicators, 2))
        assert stored.status_code == 201, stored.text
    assert await _history(admin) == [1]
