"""Request IDs, security headers, caching policy and CORS on every kind of response."""

from __future__ import annotations

import re

import httpx
import pytest

from apps import http_client, running
from wlbtrack.config import Settings

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/health", 200),
        ("GET", "/api/v1/campaigns", 200),
        ("GET", "/api/v1/campaigns/9", 404),
        ("GET", "/no/such/route", 404),
        ("DELETE", "/health", 405),
    ],
)
async def test_every_response_has_a_request_id_and_security_headers(
    viewer: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await viewer.request(method, path)
    assert response.status_code == status
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers


async def test_errors_raised_before_the_handler_carry_the_headers_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/campaigns", headers={"Authorization": "Bearer wlb_unknown"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "x-request-id" in response.headers
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


async def test_request_ids_differ_between_requests(viewer: httpx.AsyncClient) -> None:
    ids = {(await viewer.get("/health")).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize("sent", ["abc-123", "3f2b9c1e-8d4a-4e6b-9a7f-1c2d3e4f5a6b", "trace:42/7.x"])
async def test_a_sane_client_request_id_is_echoed(viewer: httpx.AsyncClient, sent: str) -> None:
    response = await viewer.get("/api/v1/campaigns", headers={"X-Request-ID": sent})
    assert response.headers["x-request-id"] == sent


@pytest.mark.parametrize("sent", ["", "a" * 129, "has space", "<script>", "-leading-dash", "ä"])
async def test_an_unsafe_client_request_id_is_replaced(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get("/health", headers=[(b"X-Request-ID", sent.encode("utf-8"))])
    assert response.headers["x-request-id"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_the_swagger_page_loads_its_own_files_only_and_is_not_framed(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/swagger")
    assert response.status_code == 200
    assert response.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self';")
    assert response.headers["content-security-policy"].endswith("frame-ancestors 'none'")
    assert response.headers["x-frame-options"] == "DENY"


async def test_hsts_is_sent_when_configured(settings: Settings) -> None:
    async with running(settings, hsts_seconds=31536000) as application, http_client(application) as http:
        response = await http.get("/health")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_cors_is_off_by_default(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/api/v1/campaigns",
        headers={"Origin": "https://bi.example.jp", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    response = await client.get("/health", headers={"Origin": "https://bi.example.jp"})
    assert "access-control-allow-origin" not in response.headers


async def test_cors_allows_only_the_configured_origins(settings: Settings, make_token: object) -> None:
    token = await make_token("viewer")  # type: ignore[operator]
    origins = ["https://bi.example.jp", "https://dash.example.jp"]
    async with running(settings, cors_origins=origins) as application, http_client(application) as http:
        preflight = await http.options(
            "/api/v1/campaigns",
            headers={
                "Origin": "https://bi.example.jp",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "Authorization",
            },
        )
        assert preflight.status_code in (200, 204)
        assert preflight.headers["access-control-allow-origin"] == "https://bi.example.jp"
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        assert "x-request-id" in preflight.headers

        response = await http.get(
            "/api/v1/campaigns",
            headers={"Origin": "https://dash.example.jp", "Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://dash.example.jp"
        assert "x-request-id" in response.headers["access-control-expose-headers"].lower()

        foreign = await http.options(
            "/api/v1/campaigns",
            headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"},
        )
        assert foreign.status_code == 400
        assert "access-control-allow-origin" not in foreign.headers


async def test_responses_with_an_etag_may_be_cached_but_are_revalidated(viewer: httpx.AsyncClient) -> None:
    response = await viewer.get("/api/v1/export/values")
    assert response.status_code == 200
    assert response.headers["etag"]
    assert response.headers["cache-control"] == "private, no-cache"
    again = await viewer.get("/api/v1/export/values", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "private, no-cache"
    assert again.headers["x-request-id"] != response.headers["x-request-id"]
