"""What the tests of bad input share: the indicator they write to and the problem document they expect."""

from __future__ import annotations

from typing import Any

import httpx

INDICATOR: dict[str, Any] = {"name": "件数", "unit": "件", "baseline": 0, "target": 10}


def assert_problem(response: httpx.Response, field: str, status: int | None = None) -> None:
    """A problem document naming `field` in its detail, with `status` (without one: any 4xx)."""
    if status is None:
        assert 400 <= response.status_code < 500, response.text
    else:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.json()["detail"], response.json()


async def create_indicator(admin: httpx.AsyncClient) -> int:
    """The id of a new INDICATOR on guideline 1.3.1."""
    response = await admin.post("/api/v1/guidelines/1.3.1/indicators", json=INDICATOR)
    assert response.status_code == 201, response.text
    created: int = response.json()["id"]
    return created
