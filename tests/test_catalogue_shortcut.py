"""Catalogue lists answered before routing are the same responses, limits, logs and metrics as routed ones."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx
import pytest
from litestar import Litestar
from litestar.types import Receive, Scope, Send

from apps import http_client, running_app
from wlbtrack.config import Settings
from wlbtrack.lib.logs import JsonFormatter

if TYPE_CHECKING:
    from conftest import MakeToken

LISTS = ("campaigns", "directions", "guidelines", "departments")
VARYING = {"x-request-id", "ratelimit-remaining", "ratelimit-reset", "date"}


@asynccontextmanager
async def cached_app(settings: Settings, **overrides: object) -> AsyncIterator[tuple[Litestar, list[str]]]:
    """An application whose token and catalogue caches hold for a minute, and the paths it routed."""
    async with running_app(settings, token_cache_ttl=60, catalogue_ttl=60, **overrides) as application:
        routed: list[str] = []
        observe = application.asgi_handler
        inner = observe.app  # type: ignore[attr-defined]

        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            routed.append(scope["path"])
            await inner(scope, receive, send)

        observe.app = counting  # type: ignore[attr-defined]
        yield application, routed


def _stable_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in VARYING}


async def test_cached_callers_get_exactly_what_routing_would_send(
    settings: Settings, make_token: MakeToken, viewer: httpx.AsyncClient
) -> None:
    token = await make_token("viewer")
    async with cached_app(settings) as (application, routed), http_client(application, token) as http:
        assert (await http.get("/api/v1/campaigns")).status_code == 200
        assert routed == ["/api/v1/campaigns"]  # the first request fills the token and catalogue caches
        for kind in LISTS:
            fast = await http.get(f"/api/v1/{kind}")
            slow = await viewer.get(f"/api/v1/{kind}")  # the session app caches nothing: always routed
            assert fast.status_code == slow.status_code == 200
            assert fast.content == slow.content
            assert _stable_headers(fast) == _stable_headers(slow)
            assert fast.headers["ratelimit-limit"] == slow.headers["ratelimit-limit"]
            assert fast.headers["x-request-id"] != slow.headers["x-request-id"]
        assert routed == ["/api/v1/campaigns"]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/guidelines?campaign=2", {}),
        ("/api/v1/guidelines/1.1.1", {}),
        ("/api/v1/guidelines", {"Origin": "https://dashboard.example"}),
    ],
)
async def test_filters_items_and_cross_origin_requests_are_still_routed(
    settings: Settings, make_token: MakeToken, path: str, headers: dict[str, str]
) -> None:
    token = await make_token("viewer")
    async with cached_app(settings) as (application, routed), http_client(application, token) as http:
        assert (await http.get("/api/v1/guidelines")).status_code == 200
        response = await http.get(path, headers=headers)
        assert response.status_code == 200
        assert routed == ["/api/v1/guidelines", path.split("?")[0]]
    if "campaign" in path:
        assert {g["campaign"] for g in response.json()["items"]} == {"2"}


async def test_unknown_and_malformed_tokens_are_refused_with_warm_caches(
    settings: Settings, make_token: MakeToken
) -> None:
    token = await make_token("viewer")
    async with cached_app(settings) as (application, _), http_client(application, token) as http:
        assert (await http.get("/api/v1/guidelines")).status_code == 200
        for authorization in ("Bearer not-a-token", "Basic abc", f"Bearer {token}x", ""):
            response = await http.get("/api/v1/guidelines", headers={"Authorization": authorization})
            assert response.status_code == 401, authorization
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["field"] == "Authorization"
        # two Authorization headers: the first counts, before routing as in it
        twice = [("Authorization", "Bearer not-a-token"), ("Authorization", f"Bearer {token}")]
        assert (await http.get("/api/v1/guidelines", headers=twice)).status_code == 401


async def test_a_token_revoked_here_is_refused_at_once(settings: Settings, make_token: MakeToken) -> None:
    admin_token, viewer_token = await make_token("admin"), await make_token("viewer", label="soon-revoked")
    async with (
        cached_app(settings) as (application, _),
        http_client(application, admin_token) as admin,
        http_client(application, viewer_token) as viewer,
    ):
        assert (await viewer.get("/api/v1/guidelines")).status_code == 200
        assert (await viewer.get("/api/v1/guidelines")).status_code == 200
        listed = (await admin.get("/api/v1/tokens")).json()["items"]
        token_id = next(t["id"] for t in listed if t["label"] == "soon-revoked")
        assert (await admin.delete(f"/api/v1/tokens/{token_id}")).status_code == 204
        assert (await viewer.get("/api/v1/guidelines")).status_code == 401


async def test_each_request_counts_once_against_the_rate_limit(
    settings: Settings, make_token: MakeToken
) -> None:
    token = await make_token("viewer")
    async with (
        cached_app(settings, rate_limit="4/day", redis_url=None) as (application, routed),
        http_client(application, token) as http,
    ):
        responses = [await http.get("/api/v1/guidelines") for _ in range(4)]
        assert [r.status_code for r in responses] == [200] * 4
        assert [r.headers["ratelimit-remaining"] for r in responses] == ["3", "2", "1", "0"]
        refused = await http.get("/api/v1/guidelines")
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.headers["ratelimit-remaining"] == "0"
        assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"]
        assert routed == ["/api/v1/guidelines", "/api/v1/guidelines"]  # the first and the refused one


@pytest.fixture
def access_lines() -> Iterator[io.StringIO]:
    """The access log while the test runs, formatted as the service formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("wlbtrack.access")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


async def test_answers_before_routing_are_logged_and_counted_like_routed_ones(
    settings: Settings, make_token: MakeToken, client: httpx.AsyncClient, access_lines: io.StringIO
) -> None:
    token = await make_token("viewer", label="dashboard")
    counter = 'wlbtrack_http_requests_total{method="GET",route="/api/v1/departments",status="200"}'

    def count(metrics: str) -> float:
        return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(counter))

    before = count((await client.get("/metrics")).text)
    async with cached_app(settings) as (application, routed), http_client(application, token) as http:
        for _ in range(3):
            assert (await http.get("/api/v1/departments")).status_code == 200
        assert len(routed) == 1
    assert count((await client.get("/metrics")).text) - before == 3
    entries = [json.loads(line) for line in access_lines.getvalue().splitlines()]
    entries = [e for e in entries if e["route"] != "/metrics"]
    assert [(e["token"], e["route"], e["status"]) for e in entries] == [
        ("dashboard", "/api/v1/departments", 200)
    ] * 3
    assert token not in access_lines.getvalue()
