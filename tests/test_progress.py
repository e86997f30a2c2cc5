"""Progress per campaign, direction, guideline and department, checked against hand-computed fixtures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import MakeClient

EMPTY_COUNTS = {"not_started": 0, "on_track": 0, "at_risk": 0, "delayed": 0, "completed": 0}


async def indicator(
    admin: httpx.AsyncClient, guideline: str, department: str, baseline: float, target: float
) -> int:
    """Create an indicator through the API; its id."""
    body = {"name": f"{guideline} KPI", "unit": "件", "baseline": baseline, "target": target}
    response = await admin.post(
        f"/api/v1/guidelines/{guideline}/indicators", json={**body, "department": department}
    )
    assert response.status_code == 201, response.text
    identifier: int = response.json()["id"]
    return identifier


async def value(client: httpx.AsyncClient, indicator_id: int, period: str, number: float) -> None:
    """Post an indicator value through the API."""
    response = await client.post(
        f"/api/v1/indicators/{indicator_id}/values", json={"period": period, "value": number}
    )
    assert response.status_code == 201, response.text


async def report(
    client: httpx.AsyncClient, guideline: str, department: str, period: str, status: str
) -> None:
    """Post a status report through the API, as an admin on behalf of the department."""
    body = {"period": period, "status": status, "summary": f"{guideline} {status}", "department": department}
    response = await client.post(f"/api/v1/guidelines/{guideline}/reports", json=body)
    assert response.status_code == 201, response.text


async def plan(client: httpx.AsyncClient) -> dict[str, Any]:
    """The catalogue's guidelines by code, to derive the expected totals."""
    response = await client.get("/api/v1/guidelines")
    return {g["code"]: g for g in response.json()["items"]}


def pairs(guidelines: dict[str, Any], campaign: str | None = None) -> int:
    """Number of (guideline, responsible department) pairs of a campaign or the whole plan."""
    return sum(len(g["departments"]) for g in guidelines.values() if campaign in (None, g["campaign"]))


async def build_fixture(admin: httpx.AsyncClient, make_client: MakeClient) -> dict[str, int]:
    """Write the hand-computed fixture through the API; the indicator ids by name.

    Indicators (baseline → target) and values:
      i1  1.1.1 children        100 → 200   2025-Q1: 150 (0.5)      2025-Q3: 250 (clamped to 1)
      i2  1.1.1 health-center    50 →  10   2025-Q2: 60 (−0.25 → 0)  2025-Q3: 30 (0.5)   decreasing
      i3  1.2.2 health-center     0 →  10   2025-Q1: 0 (at baseline: 0.0)
      i4  1.3.1 children         20 →  40   no value (guideline progress null)
      i5  2.2.2 industrial-policy 0 →   4   2025-Q2: 3, then revised to 1 (0.25)
    Reports for 2025-Q1: 1.1.1 children on_track, branch-offices completed, health-center at_risk
    revised to delayed; 1.2.2 health-center not_started; 2.2.2 industrial-policy on_track.
    """
    children = await make_client("department", department="children")
    ids = {
        "i1": await indicator(admin, "1.1.1", "children", 100, 200),
        "i2": await indicator(admin, "1.1.1", "health-center", 50, 10),
        "i3": await indicator(admin, "1.2.2", "health-center", 0, 10),
        "i4": await indicator(admin, "1.3.1", "children", 20, 40),
        "i5": await indicator(admin, "2.2.2", "industrial-policy", 0, 4),
    }
    await value(children, ids["i1"], "2025-Q1", 150)
    await value(children, ids["i1"], "2025-Q3", 250)
    await value(admin, ids["i2"], "2025-Q2", 60)
    await value(admin, ids["i2"], "2025-Q3", 30)
    await value(admin, ids["i3"], "2025-Q1", 0)
    await value(admin, ids["i5"], "2025-Q2", 3)
    await value(admin, ids["i5"], "2025-Q2", 1)
    await report(admin, "1.1.1", "children", "2025-Q1", "on_track")
    await report(admin, "1.1.1", "branch-offices", "2025-Q1", "completed")
    await report(admin, "1.1.1", "health-center", "2025-Q1", "at_risk")
    await report(admin, "1.1.1", "health-center", "2025-Q1", "delayed")
    await report(admin, "1.2.2", "health-center", "2025-Q1", "not_started")
    await report(admin, "2.2.2", "industrial-policy", "2025-Q1", "on_track")
    return ids


@pytest.fixture
async def fixture_data(admin: httpx.AsyncClient, make_client: MakeClient) -> dict[str, int]:
    """The hand-computed fixture (see build_fixture)."""
    return await build_fixture(admin, make_client)


async def overview(client: httpx.AsyncClient, period: str) -> dict[str, Any]:
    response = await client.get("/api/v1/progress", params={"period": period})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["period"] == period
    return body


async def test_overview_carries_values_forward_and_clamps(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    guidelines = await plan(viewer)
    in_campaign_1 = sum(1 for g in guidelines.values() if g["campaign"] == "1")
    expected_progress = {
        # 1.1.1: i1 0.5, i2 no value yet → 0.5; 1.2.2: 0.0 → campaign 1 = (0.5 + 0.0) / 2
        "2025-Q1": (0.25, 2),
        # 1.1.1: i1 carried 150 → 0.5, i2 60 → 0 → 0.25; 1.2.2 carried 0.0 → (0.25 + 0.0) / 2
        "2025-Q2": (0.125, 2),
        # 1.1.1: i1 250 → 1 (clamped), i2 30 → 0.5 → 0.75; 1.2.2 0.0 → (0.75 + 0.0) / 2
        "2025-Q3": (0.375, 2),
        # nothing newer: everything carried from 2025-Q3
        "2026-Q2": (0.375, 2),
    }
    for period, (progress, with_data) in expected_progress.items():
        body = await overview(viewer, period)
        first = body["campaigns"][0]
        assert first["code"] == "1"
        assert first["progress"] == pytest.approx(progress)
        assert first["guidelines_with_data"] == with_data
        assert first["guidelines_total"] == in_campaign_1
        assert body["overall"]["guidelines_total"] == len(guidelines)


async def test_whole_plan_is_the_mean_of_guidelines_not_of_campaigns(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    body = await overview(viewer, "2025-Q2")
    campaigns = {c["code"]: c for c in body["campaigns"]}
    # only the current revision of i5's value (1 of 0 → 4) counts: 0.25, not 0.75
    assert campaigns["2"]["progress"] == pytest.approx(0.25)
    assert campaigns["2"]["guidelines_with_data"] == 1
    assert campaigns["3"]["progress"] is None
    assert campaigns["3"]["guidelines_with_data"] == 0
    # guidelines 1.1.1 (0.25), 1.2.2 (0.0) and 2.2.2 (0.25)
    assert body["overall"]["progress"] == pytest.approx(0.5 / 3)
    assert body["overall"]["guidelines_with_data"] == 3


async def test_no_data_is_null_not_zero(viewer: httpx.AsyncClient) -> None:
    guidelines = await plan(viewer)
    body = await overview(viewer, "2025-Q1")
    for aggregate in [*body["campaigns"], body["overall"]]:
        assert aggregate["progress"] is None
        assert aggregate["guidelines_with_data"] == 0
        assert aggregate["status_counts"] == EMPTY_COUNTS
        assert aggregate["completeness"]["received"] == 0
        assert aggregate["completeness"]["rate"] == 0.0
    assert body["overall"]["completeness"]["expected"] == pairs(guidelines)


async def test_before_the_first_value_progress_is_null(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    body = await overview(viewer, "2024-Q4")
    assert body["overall"]["progress"] is None
    assert body["overall"]["guidelines_with_data"] == 0


async def test_status_counts_and_completeness_count_current_reports(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    guidelines = await plan(viewer)
    body = await overview(viewer, "2025-Q1")
    first = body["campaigns"][0]
    # health-center's at_risk was revised to delayed: only the current revision counts
    assert first["status_counts"] == {
        **EMPTY_COUNTS,
        "on_track": 1,
        "completed": 1,
        "delayed": 1,
        "not_started": 1,
    }
    assert first["completeness"] == {
        "expected": pairs(guidelines, "1"),
        "received": 4,
        "rate": pytest.approx(4 / pairs(guidelines, "1")),
    }
    overall = body["overall"]
    assert overall["status_counts"] == {
        **EMPTY_COUNTS,
        "on_track": 2,
        "completed": 1,
        "delayed": 1,
        "not_started": 1,
    }
    assert overall["completeness"]["expected"] == pairs(guidelines)
    assert overall["completeness"]["received"] == 5
    # reports are not carried forward
    later = await overview(viewer, "2025-Q2")
    assert later["overall"]["completeness"]["received"] == 0
    assert later["overall"]["status_counts"] == EMPTY_COUNTS


async def test_a_closed_period_still_aggregates(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    before = await overview(viewer, "2025-Q1")
    closed = await admin.post("/api/v1/periods/2025-Q1/close")
    assert closed.status_code == 200, closed.text
    after = await overview(viewer, "2025-Q1")
    assert after == before
    assert after["overall"]["completeness"]["received"] == 5
    assert after["campaigns"][0]["progress"] == pytest.approx(0.25)


async def test_period_defaults_to_the_current_quarter(viewer: httpx.AsyncClient) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from wlbtrack.domain.periods.services import Period

    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    response = await viewer.get("/api/v1/progress")
    assert response.status_code == 200
    assert response.json()["period"] == Period.containing(today).code


@pytest.mark.parametrize("period", ["2025-Q5", "2025Q1", "1999-Q4", "２０２５-Q1"])
async def test_malformed_period_is_rejected_naming_it(viewer: httpx.AsyncClient, period: str) -> None:
    for path in ("/api/v1/progress", "/api/v1/progress/campaigns/1", "/api/v1/progress/departments"):
        response = await viewer.get(path, params={"period": period})
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "period" in response.json()["detail"]


async def test_campaign_detail_by_direction_guideline_and_indicator(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    guidelines = await plan(viewer)
    response = await viewer.get("/api/v1/progress/campaigns/1", params={"period": "2025-Q2"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["code"], body["period"]) == ("1", "2025-Q2")
    assert body["progress"] == pytest.approx(0.125)
    directions = {d["code"]: d for d in body["directions"]}
    assert list(directions) == ["1.1", "1.2", "1.3"]
    found = {g["code"]: g for d in body["directions"] for g in d["guidelines"]}
    assert list(found) == [code for code, g in guidelines.items() if g["campaign"] == "1"]

    shared = found["1.1.1"]
    assert shared["progress"] == pytest.approx(0.25)
    assert (shared["guidelines_total"], shared["guidelines_with_data"]) == (1, 1)
    assert shared["indicators"] == [
        {"id": fixture_data["i1"], "name": "1.1.1 KPI", "value": 150.0, "attainment": 0.5},
        {"id": fixture_data["i2"], "name": "1.1.1 KPI", "value": 60.0, "attainment": 0.0},
    ]
    # at baseline: progress 0.0, a number; without any value: null
    assert found["1.2.2"]["progress"] == 0.0
    assert found["1.2.2"]["guidelines_with_data"] == 1
    assert found["1.3.1"]["progress"] is None
    assert found["1.3.1"]["guidelines_with_data"] == 0
    assert found["1.3.1"]["indicators"] == [
        {"id": fixture_data["i4"], "name": "1.3.1 KPI", "value": None, "attainment": None}
    ]
    assert found["1.1.2"]["indicators"] == []
    assert directions["1.1"]["progress"] == pytest.approx(0.25)
    assert directions["1.1"]["guidelines_with_data"] == 1
    assert directions["1.2"]["progress"] == 0.0
    assert directions["1.3"]["progress"] is None
    assert directions["1.3"]["guidelines_total"] == 3


async def test_campaign_detail_lists_each_departments_report(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    guidelines = await plan(viewer)
    body = (await viewer.get("/api/v1/progress/campaigns/1", params={"period": "2025-Q1"})).json()
    shared = next(g for d in body["directions"] for g in d["guidelines"] if g["code"] == "1.1.1")
    reported = {"children": "on_track", "branch-offices": "completed", "health-center": "delayed"}
    departments = [d["code"] for d in guidelines["1.1.1"]["departments"]]
    assert shared["reports"] == [{"department": d, "status": reported.get(d)} for d in departments]
    assert shared["completeness"] == {
        "expected": len(departments),
        "received": 3,
        "rate": 3 / len(departments),
    }
    assert shared["status_counts"] == {**EMPTY_COUNTS, "on_track": 1, "completed": 1, "delayed": 1}
    assert shared["progress"] == pytest.approx(0.5)


async def test_unknown_campaign_is_404(viewer: httpx.AsyncClient) -> None:
    response = await viewer.get("/api/v1/progress/campaigns/9")
    assert response.status_code == 404
    assert "code" in response.json()["detail"]


async def test_departments_completeness_and_missing(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    guidelines = await plan(viewer)
    response = await viewer.get("/api/v1/progress/departments", params={"period": "2025-Q1"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"] == "2025-Q1"
    items = {item["code"]: item for item in body["items"]}
    departments = (await viewer.get("/api/v1/departments")).json()["items"]
    assert list(items) == [d["code"] for d in departments]

    def owed(code: str) -> list[str]:
        return [g for g, data in guidelines.items() if any(d["code"] == code for d in data["departments"])]

    health = items["health-center"]
    assert health["expected"] == len(owed("health-center"))
    assert health["received"] == 2
    assert health["rate"] == pytest.approx(2 / len(owed("health-center")))
    assert health["status_counts"] == {**EMPTY_COUNTS, "delayed": 1, "not_started": 1}
    assert health["missing"] == [g for g in owed("health-center") if g not in ("1.1.1", "1.2.2")]

    children = items["children"]
    assert children["received"] == 1
    assert children["missing"] == [g for g in owed("children") if g != "1.1.1"]
    welfare = items["health-welfare"]
    assert welfare["received"] == 0
    assert welfare["rate"] == 0.0
    assert welfare["missing"] == owed("health-welfare")
    assert sum(item["expected"] for item in body["items"]) == pairs(guidelines)
    assert sum(item["received"] for item in body["items"]) == 5


async def test_extreme_finite_numbers_aggregate_without_errors(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient
) -> None:
    cases = [
        # guideline, baseline, target, value, attainment
        ("3.1.1", -1.5e308, 1.5e308, 1e308, 2.5 / 3),
        ("3.1.2", 0.0, 1e300, 1e-300, 0.0),
        ("3.2.1", 5e-324, 0.0, 0.0, 1.0),
        ("3.3.1", 1e-310, 3e-310, 2e-310, 0.5),
    ]
    for guideline, baseline, target, number, _ in cases:
        indicator_id = await indicator(admin, guideline, "industrial-policy", baseline, target)
        await value(admin, indicator_id, "2025-Q1", number)
    body = (await viewer.get("/api/v1/progress/campaigns/3", params={"period": "2025-Q1"})).json()
    found = {g["code"]: g for d in body["directions"] for g in d["guidelines"]}
    for guideline, _, _, _, expected in cases:
        assert found[guideline]["indicators"][0]["attainment"] == pytest.approx(expected, abs=1e-12)
    assert body["progress"] == pytest.approx((2.5 / 3 + 0.0 + 1.0 + 0.5) / 4)
    rows = (await viewer.get("/api/v1/export/values")).json()["items"]
    assert [r["attainment"] for r in rows] == pytest.approx([c[4] for c in cases], abs=1e-12)
