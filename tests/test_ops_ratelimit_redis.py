"""With Redis as the store, every worker and instance shares one count per token.

Collected only when WLBTRACK_TEST_REDIS_URL names a Redis server (tests/conftest.py); CI sets it.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from apps import http_client, running
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeToken

REDIS_URL = os.environ["WLBTRACK_TEST_REDIS_URL"]


async def test_two_instances_share_one_allowance_per_token(settings: Settings, make_token: MakeToken) -> None:
    token, other = await make_token("viewer"), await make_token("viewer")
    shared: dict[str, Any] = {"rate_limit": "4/day", "redis_url": REDIS_URL}
    async with running(settings, **shared) as first, running(settings, **shared) as second:
        async with http_client(first, token) as a, http_client(second, token) as b:
            statuses = [(await http.get("/api/v1/campaigns")).status_code for http in (a, b, a, b)]
            assert statuses == [200, 200, 200, 200]
            refused = await a.get("/api/v1/campaigns")
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"]
            assert (await b.get("/api/v1/campaigns")).status_code == 429
        async with http_client(second, other) as c:
            response = await c.get("/api/v1/campaigns")
            assert response.status_code == 200
            assert response.headers["ratelimit-remaining"] == "3"


async def test_concurrent_requests_through_several_instances_are_all_counted(
    settings: Settings, make_token: MakeToken
) -> None:
    token = await make_token("viewer")
    shared: dict[str, Any] = {"rate_limit": "10/day", "redis_url": REDIS_URL}
    async with (
        running(settings, **shared) as one,
        running(settings, **shared) as two,
        running(settings, **shared) as three,
    ):
        clients = [http_client(application, token) for application in (one, two, three)]
        try:
            responses = await asyncio.gather(*(clients[i % 3].get("/api/v1/campaigns") for i in range(30)))
        finally:
            for http in clients:
                await http.aclose()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [429] * 20
    assert sorted(r.headers["ratelimit-remaining"] for r in responses if r.status_code == 200) == sorted(
        str(n) for n in range(10)
    )
