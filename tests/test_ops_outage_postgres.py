"""PostgreSQL outages: 503 problem documents within 5 s, /ready 503, /health 200, recovery without restart.

The application under test reaches PostgreSQL through a TCP proxy that each test stops, black-holes or cuts,
so the real server (and every other test) is never disturbed. Runs only when WLBTRACK_TEST_DATABASE_URL
points the suite at PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from apps import http_client, running
from tcp_proxy import TcpProxy
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeToken


PERIOD = "2025-Q2"
REPORT = {"period": PERIOD, "status": "delayed", "summary": "停電中に送った報告"}
OUTAGE_DEADLINE = 5.0


@pytest.fixture
async def proxy(settings: Settings) -> AsyncIterator[TcpProxy]:
    """A proxy in front of this run's PostgreSQL server."""
    url = make_url(settings.database_url)
    forwarder = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await forwarder.start()
    yield forwarder
    await forwarder.stop()


@asynccontextmanager
async def _through(
    settings: Settings, proxy: TcpProxy, token: str, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the application reaching this run's database through the proxy."""
    url = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    database_url = url.render_as_string(hide_password=False)
    async with (
        running(settings, database_url=database_url, **overrides) as application,
        http_client(application, token) as http,
    ):
        yield http


async def _within_deadline(request: Any) -> httpx.Response:
    async with asyncio.timeout(OUTAGE_DEADLINE):
        return await request  # type: ignore[no-any-return]


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 503
    assert "Traceback" not in response.text
    assert "asyncpg" not in response.text.lower()
    assert "x-request-id" in response.headers


async def _reports(admin: httpx.AsyncClient, guideline: str) -> list[Any]:
    response = await admin.get(
        f"/api/v1/guidelines/{guideline}/reports/history", params={"period": PERIOD, "department": "children"}
    )
    assert response.status_code == 200
    return response.json()["items"]  # type: ignore[no-any-return]


async def test_a_stopped_database_gives_503_and_the_service_recovers_by_itself(
    settings: Settings, proxy: TcpProxy, make_token: MakeToken, admin: httpx.AsyncClient
) -> None:
    token = await make_token("department", department="children")
    async with _through(settings, proxy, token) as http:
        assert (await http.get("/api/v1/campaigns")).status_code == 200
        assert (await http.get("/ready")).status_code == 200

        await proxy.stop()
        for _ in range(2):  # the pooled connections are dead, then new ones are refused
            _assert_unavailable(await _within_deadline(http.get("/api/v1/campaigns")))
            _assert_unavailable(
                await _within_deadline(http.post("/api/v1/guidelines/1.1.1/reports", json=REPORT))
            )
            ready = await _within_deadline(http.get("/ready"))
            assert ready.status_code == 503
            assert ready.headers["content-type"].startswith("application/problem+json")
            assert (await _within_deadline(http.get("/health"))).status_code == 200

        await proxy.start()
        assert (await http.get("/ready")).status_code == 200
        assert (await http.get("/api/v1/campaigns")).status_code == 200
        assert await _reports(admin, "1.1.1") == []  # the refused write left nothing
        stored = await http.post("/api/v1/guidelines/1.1.1/reports", json=REPORT)
        assert stored.status_code == 201
        assert stored.json()["revision"] == 1


async def test_an_unreachable_network_gives_503_within_the_timeouts(
    settings: Settings, proxy: TcpProxy, make_token: MakeToken
) -> None:
    token = await make_token("viewer")
    async with _through(settings, proxy, token, db_timeout=1.0, db_statement_timeout=1.0) as http:
        assert (await http.get("/api/v1/campaigns")).status_code == 200

        proxy.blackhole()  # packets vanish: only the timeouts end the wait
        _assert_unavailable(await _within_deadline(http.get("/api/v1/campaigns")))
        assert (await _within_deadline(http.get("/ready"))).status_code == 503
        assert (await _within_deadline(http.get("/health"))).status_code == 200

        await proxy.start()
        assert (await http.get("/api/v1/campaigns")).status_code == 200
        assert (await http.get("/ready")).status_code == 200


async def test_a_write_cut_off_mid_transaction_is_not_half_stored(
    settings: Settings, proxy: TcpProxy, make_token: MakeToken, admin: httpx.AsyncClient
) -> None:
    token = await make_token("department", department="children")
    async with _through(settings, proxy, token) as http:
        # the head row is upserted first; the connection dies as the revision row is sent
        proxy.cut_on(b"INSERT INTO report_revision")
        _assert_unavailable(
            await _within_deadline(http.post("/api/v1/guidelines/1.3.1/reports", json=REPORT))
        )

        assert await _reports(admin, "1.3.1") == []
        current = await admin.get("/api/v1/guidelines/1.3.1/reports", params={"period": PERIOD})
        assert current.json()["total"] == 0

        stored = await http.post("/api/v1/guidelines/1.3.1/reports", json=REPORT)
        assert stored.status_code == 201
        assert stored.json()["revision"] == 1
        assert [item["revision"] for item in await _reports(admin, "1.3.1")] == [1]
