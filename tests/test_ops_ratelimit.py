"""Per-token rate limits with RateLimit-* headers and 429 problem documents (in-process store)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
import pytest

from apps import FakeClock, free_port, http_client, running
from wlbtrack.config import Settings
from wlbtrack.lib.ratelimit import RateLimit

if TYPE_CHECKING:
    from conftest import MakeToken

# A day-long window, so that a window boundary never falls inside a test.
LIMIT = "3/day"


async def test_each_token_gets_its_own_allowance(settings: Settings, make_token: MakeToken) -> None:
    first, second = await make_token("viewer"), await make_token("viewer")
    async with (
        running(settings, rate_limit=LIMIT, redis_url=None) as application,
        http_client(application, first) as one,
        http_client(application, second) as two,
    ):
        responses = [await one.get("/api/v1/campaigns") for _ in range(3)]
        assert [r.status_code for r in responses] == [200, 200, 200]
        assert [r.headers["ratelimit-remaining"] for r in responses] == ["2", "1", "0"]
        assert responses[0].headers["ratelimit-limit"] == "3"
        assert responses[0].headers["ratelimit-policy"] == "3;w=86400"
        assert 0 < int(responses[0].headers["ratelimit-reset"]) <= 86400

        refused = await one.get("/api/v1/campaigns")
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["status"] == 429
        assert refused.json()["detail"].startswith("Authorization:")
        assert refused.headers["ratelimit-remaining"] == "0"
        assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"]
        assert "x-request-id" in refused.headers

        # same client address, another token: its own allowance
        assert (await two.get("/api/v1/campaigns")).status_code == 200


async def test_probes_metrics_and_unauthenticated_requests_are_not_limited(
    settings: Settings, make_token: MakeToken
) -> None:
    token = await make_token("viewer")
    async with (
        running(settings, rate_limit="1/day", redis_url=None) as application,
        http_client(application) as anonymous,
        http_client(application, token) as viewer,
    ):
        for path in ("/health", "/ready", "/metrics") * 3:
            response = await anonymous.get(path)
            assert response.status_code == 200
            assert "ratelimit-limit" not in response.headers
        for _ in range(3):
            assert (await anonymous.get("/api/v1/campaigns")).status_code == 401
        assert (await viewer.get("/api/v1/campaigns")).status_code == 200
        assert (await viewer.get("/api/v1/campaigns")).status_code == 429


async def test_rate_limiting_can_be_turned_off(settings: Settings, make_token: MakeToken) -> None:
    token = await make_token("viewer")
    async with running(settings, rate_limit="off") as application, http_client(application, token) as h:
        response = await h.get("/api/v1/campaigns")
        assert response.status_code == 200
        assert "ratelimit-limit" not in response.headers


async def test_an_unreachable_redis_lets_requests_through(settings: Settings, make_token: MakeToken) -> None:
    token = await make_token("viewer")
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    async with (
        running(settings, rate_limit="1/day", redis_url=nowhere) as application,
        http_client(application, token) as http,
    ):
        for _ in range(3):
            response = await http.get("/api/v1/campaigns")
            assert response.status_code == 200
            assert "ratelimit-limit" not in response.headers


async def test_the_default_allows_a_quarterly_batch_and_reads(viewer: httpx.AsyncClient) -> None:
    response = await viewer.get("/api/v1/campaigns")
    assert int(response.headers["ratelimit-limit"]) >= 300
    assert response.headers["ratelimit-policy"].endswith(";w=60")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("600/minute", RateLimit(600, 60)),
        ("10/second", RateLimit(10, 1)),
        ("5000 / hours", RateLimit(5000, 3600)),
        ("100000/day", RateLimit(100000, 86400)),
        ("off", None),
        ("0", None),
    ],
)
def test_rate_limit_settings_are_parsed(spec: str, expected: RateLimit | None) -> None:
    assert RateLimit.parse(spec) == expected


@pytest.mark.parametrize("spec", ["600", "600/fortnight", "-1/minute", "0/minute", "many/minute"])
def test_malformed_rate_limit_settings_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError, match="WLBTRACK_RATE_LIMIT"):
        RateLimit.parse(spec)


async def test_windows_follow_the_clock(settings: Settings, make_token: MakeToken) -> None:
    token = await make_token("viewer")
    clock = FakeClock(datetime(2026, 5, 20, 3, 0, 50, tzinfo=UTC))  # 10 s before the minute ends
    async with (
        running(settings, clock=clock, rate_limit="2/minute", redis_url=None) as instance,
        http_client(instance, token) as http,
    ):
        first = await http.get("/api/v1/campaigns")
        assert first.headers["ratelimit-reset"] == "10"
        assert (await http.get("/api/v1/campaigns")).status_code == 200
        assert (await http.get("/api/v1/campaigns")).status_code == 429
        clock.advance(10)  # the next window: a fresh allowance
        again = await http.get("/api/v1/campaigns")
        assert again.status_code == 200
        assert (again.headers["ratelimit-remaining"], again.headers["ratelimit-reset"]) == ("1", "60")
