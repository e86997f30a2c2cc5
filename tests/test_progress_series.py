"""Progress over time: one item per period, oldest first, on the fixture of test_progress."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from test_progress import build_fixture, pairs, plan
from wlbtrack.domain.periods.services import Period, periods_between

if TYPE_CHECKING:
    from conftest import MakeClient

RANGE = {"from": "2024-Q4", "to": "2026-Q2"}
PERIODS = ["2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]


@pytest.fixture
async def fixture_data(admin: httpx.AsyncClient, make_client: MakeClient) -> dict[str, int]:
    """The hand-computed fixture of test_progress."""
    return await build_fixture(admin, make_client)


async def series(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/progress/series", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def approx(values: list[float | None]) -> list[Any]:
    return [None if v is None else pytest.approx(v) for v in values]


async def test_campaign_series_oldest_first_with_carry_forward(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    guidelines = await plan(viewer)
    items = await series(viewer, campaign="1", **RANGE)
    assert [item["period"] for item in items] == PERIODS
    assert [item["progress"] for item in items] == approx([None, 0.25, 0.125, 0.375, 0.375, 0.375, 0.375])
    assert [item["guidelines_with_data"] for item in items] == [0, 2, 2, 2, 2, 2, 2]
    expected = pairs(guidelines, "1")
    assert [item["completeness"]["received"] for item in items] == [0, 4, 0, 0, 0, 0, 0]
    assert {item["completeness"]["expected"] for item in items} == {expected}
    assert items[1]["completeness"]["rate"] == pytest.approx(4 / expected)


async def test_direction_and_whole_plan_series(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    direction = await series(viewer, direction="1.1", **RANGE)
    # 1.1.1 alone: 0.5, then (0.5 + 0) / 2, then (1 + 0.5) / 2
    assert [item["progress"] for item in direction] == approx([None, 0.5, 0.25, 0.75, 0.75, 0.75, 0.75])
    assert {item["guidelines_total"] for item in direction} == {4}
    whole = await series(viewer, **RANGE)
    # 2025-Q2: 1.1.1 0.25, 1.2.2 0.0, 2.2.2 0.25 (only the current revision of its value)
    assert whole[2]["progress"] == pytest.approx(0.5 / 3)
    assert [item["guidelines_with_data"] for item in whole] == [0, 2, 3, 3, 3, 3, 3]


async def test_series_matches_the_overview_at_each_period(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    items = await series(viewer, campaign="2", **RANGE)
    for item in items:
        body = (await viewer.get("/api/v1/progress", params={"period": item["period"]})).json()
        campaign = body["campaigns"][1]
        assert campaign["code"] == "2"
        assert item["progress"] == campaign["progress"]
        assert item["completeness"] == campaign["completeness"]


async def test_default_range_is_eight_quarters_ending_now(viewer: httpx.AsyncClient) -> None:
    current = Period.containing(datetime.now(ZoneInfo("Asia/Tokyo")).date())
    items = await series(viewer)
    assert len(items) == 8
    assert items[-1]["period"] == current.code
    assert [item["period"] for item in items] == sorted(item["period"] for item in items)
    assert all(item["progress"] is None for item in items)
    ending = await series(viewer, to="2025-Q4")
    assert ending[0]["period"] == "2024-Q1"
    assert len(ending) == 8


async def test_forty_periods_at_most(viewer: httpx.AsyncClient) -> None:
    forty = await series(viewer, **{"from": "2016-Q2", "to": "2026-Q1"})
    assert len(forty) == 40
    expected = [p.code for p in periods_between(Period.parse("2016-Q2"), Period.parse("2026-Q1"))]
    assert [item["period"] for item in forty] == expected
    response = await viewer.get("/api/v1/progress/series", params={"from": "2016-Q1", "to": "2026-Q1"})
    assert response.status_code == 422
    assert "40" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"from": "2026-Q1", "to": "2025-Q1"}, 422, "from"),
        ({"from": "2025-Q9"}, 400, "from"),
        ({"to": "soon"}, 400, "to"),
        ({"campaign": "9"}, 422, "campaign"),
        ({"direction": "9.9"}, 422, "direction"),
        ({"campaign": "2", "direction": "1.1"}, 422, "direction"),
    ],
)
async def test_bad_series_parameters(
    viewer: httpx.AsyncClient, params: dict[str, str], status: int, field: str
) -> None:
    response = await viewer.get("/api/v1/progress/series", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith(field)
