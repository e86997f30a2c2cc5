"""The catalogue lists with warm token and catalogue caches: routed like every request, so tokens, guards,
logs and metrics apply exactly as on a cold cache (rate limits: test_ops_ratelimit.py)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from apps import Instance, captured_logs, http_client, running
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeToken

LISTS = ("campaigns", "directions", "guidelines", "departments")
VARYING = {"x-request-id", "ratelimit-remaining", "ratelimit-reset", "date"}


@asynccontextmanager
async def cached_app(settings: Settings, **overrides: Any) -> AsyncIterator[Instance]:
    """An application whose token and catalogue caches hold for a minute."""
    async with running(settings, token_cache_ttl=60, catalogue_ttl=60, **overrides) as instance:
        yield instance


def _stable_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in VARYING}


async def test_warm_caches_answer_exactly_what_cold_ones_do(
    settings: Settings, make_token: MakeToken, viewer: httpx.AsyncClient
) -> None:
    token = await make_token("viewer")
    async with cached_app(settings) as instance, http_client(instance, token) as http:
        assert (
            await http.get("/api/v1/campaigns")
        ).status_code == 200  # fills the token and catalogue caches
        for kind in LISTS:
            warm = await http.get(f"/api/v1/{kind}")
            cold = await viewer.get(f"/api/v1/{kind}")  # the session app caches nothing
            assert warm.status_code == cold.status_code == 200
            assert warm.content == cold.content
            assert _stable_headers(warm) == _stable_headers(cold)
            assert warm.headers["ratelimit-limit"] == cold.headers["ratelimit-limit"]
            assert warm.headers["x-request-id"] != cold.headers["x-request-id"]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/guidelines?campaign=2", {}),
        ("/api/v1/guidelines/1.1.1", {}),
        ("/api/v1/guidelines", {"Origin": "https://dashboard.example"}),
    ],
)
async def test_filters_items_and_cross_origin_requests_with_warm_caches(
    settings: Settings, make_token: MakeToken, path: str, headers: dict[str, str]
) -> None:
    token = await make_token("viewer")
    async with cached_app(settings) as instance, http_client(instance, token) as http:
        assert (await http.get("/api/v1/guidelines")).status_code == 200
        response = await http.get(path, headers=headers)
        assert response.status_code == 200
    if "campaign" in path:
        assert {g["campaign"] for g in response.json()["items"]} == {"2"}


async def test_unknown_and_malformed_tokens_are_refused_with_warm_caches(
    settings: Settings, make_token: MakeToken
) -> None:
    token = await make_token("viewer")
    async with cached_app(settings) as instance, http_client(instance, token) as http:
        assert (await http.get("/api/v1/guidelines")).status_code == 200
        for authorization in ("Bearer not-a-token", "Basic abc", f"Bearer {token}x", ""):
            response = await http.get("/api/v1/guidelines", headers={"Authorization": authorization})
            assert response.status_code == 401, authorization
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["field"] == "Authorization"
        # two Authorization headers: the first counts, as Litestar reads it
        twice = [("Authorization", "Bearer not-a-token"), ("Authorization", f"Bearer {token}")]
        assert (await http.get("/api/v1/guidelines", headers=twice)).status_code == 401


async def test_a_token_revoked_here_is_refused_at_once(settings: Settings, make_token: MakeToken) -> None:
    admin_token, viewer_token = await make_token("admin"), await make_token("viewer", label="soon-revoked")
    async with (
        cached_app(settings) as instance,
        http_client(instance, admin_token) as admin,
        http_client(instance, viewer_token) as viewer,
    ):
        assert (await viewer.get("/api/v1/guidelines")).status_code == 200
        assert (await viewer.get("/api/v1/guidelines")).status_code == 200
        listed = (await admin.get("/api/v1/tokens")).json()["items"]
        token_id = next(t["id"] for t in listed if t["label"] == "soon-revoked")
        assert (await admin.delete(f"/api/v1/tokens/{token_id}")).status_code == 204
        assert (await viewer.get("/api/v1/guidelines")).status_code == 401


async def test_guards_hold_with_warm_caches(settings: Settings, make_token: MakeToken) -> None:
    token = await make_token("viewer")
    async with cached_app(settings) as instance, http_client(instance, token) as viewer:
        for _ in range(3):  # cold, then warm: the admin-only list is refused every time
            assert (await viewer.get("/api/v1/guidelines")).status_code == 200
            response = await viewer.get("/api/v1/tokens")
            assert response.status_code == 403
            assert response.json()["field"] == "Authorization"


@pytest.fixture
def access_lines() -> Iterator[io.StringIO]:
    """The access log while the test runs, formatted as the service formats it."""
    with captured_logs("wlbtrack.access") as stream:
        yield stream


async def test_answers_with_warm_caches_are_logged_and_counted(
    settings: Settings, make_token: MakeToken, client: httpx.AsyncClient, access_lines: io.StringIO
) -> None:
    token = await make_token("viewer", label="dashboard")
    counter = 'wlbtrack_http_requests_total{method="GET",route="/api/v1/departments",status="200"}'

    def count(metrics: str) -> float:
        return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(counter))

    before = count((await client.get("/metrics")).text)
    async with cached_app(settings) as instance, http_client(instance, token) as http:
        for _ in range(3):
            assert (await http.get("/api/v1/departments")).status_code == 200
    assert count((await client.get("/metrics")).text) - before == 3
    entries = [json.loads(line) for line in access_lines.getvalue().splitlines()]
    entries = [e for e in entries if e["route"] != "/metrics"]
    assert [(e["token"], e["route"], e["status"]) for e in entries] == [
        ("dashboard", "/api/v1/departments", 200)
    ] * 3
    assert token not in access_lines.getvalue()
