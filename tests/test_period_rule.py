"""The period status rule, wherever a period is read or written: a malformed code is a 400 naming the
parameter or field (404 in a path), a code before the plan's first fiscal year or after the current quarter
in Tokyo is a 422 naming it, and a write into a closed period is a 409."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from apps import FakeClock, clocked, http_client, running
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeToken

# 2026-05-20 in Tokyo: FY2026 Q1 is the current quarter, 2026-Q2 has not started
TODAY = datetime(2026, 5, 20, 3, 0, tzinfo=UTC)
REPORT = {"status": "on_track", "summary": "順調です。"}


@pytest.fixture
async def at_today(settings: Settings, make_token: MakeToken) -> Any:
    """Admin and viewer clients of an application whose clock says TODAY."""
    admin_token, viewer_token = await make_token("admin"), await make_token("viewer")
    async with (
        running(settings, clock=FakeClock(TODAY)) as instance,
        http_client(instance, admin_token) as admin,
        http_client(instance, viewer_token) as viewer,
    ):
        yield admin, viewer


READS = [
    ("/api/v1/progress", "period"),
    ("/api/v1/progress/campaigns/1", "period"),
    ("/api/v1/progress/departments", "period"),
    ("/api/v1/progress/series", "from"),
    ("/api/v1/progress/series", "to"),
    ("/api/v1/export/values", "from"),
    ("/api/v1/export/reports", "to"),
    ("/api/v1/guidelines/1.3.1/reports", "period"),
    ("/api/v1/guidelines/1.3.1/reports/history", "period"),
    ("/api/v1/templates/children", "period"),
]


@pytest.mark.parametrize(("path", "parameter"), READS)
@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("2026-Q2", 422),  # after the current quarter
        ("2099-Q1", 422),
        ("2009-Q4", 422),  # before the first fiscal year
        ("9999-Q4", 400),  # outside 2000–2100: the pattern the OpenAPI document states
        ("0000-Q1", 400),
        ("2026-Q5", 400),  # malformed
        ("2026Q1", 400),
        ("26-Q1", 400),
    ],
)
async def test_periods_in_a_query_follow_the_rule(
    at_today: Any, path: str, parameter: str, code: str, status: int
) -> None:
    _, viewer = at_today
    response = await viewer.get(path, params={parameter: code})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith(f"{parameter}")
    if status == 422:
        assert response.json()["field"] == parameter
        assert response.json()["detail"].startswith(f"{parameter}: {code}")


async def test_the_current_quarter_and_the_first_are_fine(at_today: Any) -> None:
    _, viewer = at_today
    for code in ("2026-Q1", "2010-Q1"):
        response = await viewer.get("/api/v1/progress", params={"period": code})
        assert response.status_code == 200, response.text
        assert response.json()["period"] == code
    assert (await viewer.get("/api/v1/progress")).json()["period"] == "2026-Q1"
    series = (await viewer.get("/api/v1/progress/series")).json()["items"]
    assert [item["period"] for item in series][-1] == "2026-Q1"


async def test_value_history_filter_follows_the_rule(at_today: Any) -> None:
    admin, _ = at_today
    created = await admin.post(
        "/api/v1/guidelines/1.3.1/indicators", json={"name": "件数", "unit": "件", "baseline": 0, "target": 5}
    )
    history = f"/api/v1/indicators/{created.json()['id']}/values/history"
    assert (await admin.get(history, params={"period": "2026-Q1"})).status_code == 200
    assert (await admin.get(history, params={"period": "2026-Q2"})).status_code == 422
    assert (await admin.get(history, params={"period": "2026-Q7"})).status_code == 400


async def test_periods_in_a_path_follow_the_rule(at_today: Any) -> None:
    admin, viewer = at_today
    assert (await viewer.get("/api/v1/periods/2026-Q1")).status_code == 200
    for code in ("2026-Q2", "2009-Q4"):
        for method, path in (
            ("GET", f"/api/v1/periods/{code}"),
            ("POST", f"/api/v1/periods/{code}/close"),
            ("POST", f"/api/v1/periods/{code}/reopen"),
        ):
            response = await admin.request(method, path)
            assert response.status_code == 422, (method, path)
            assert response.json()["field"] == "code"
    assert (await admin.post("/api/v1/periods/2026-Q5/close")).status_code == 404
    listed = (await viewer.get("/api/v1/periods")).json()["items"]
    assert [listed[0]["code"], listed[-1]["code"]] == ["2010-Q1", "2026-Q4"]
    assert (await viewer.get("/api/v1/periods", params={"fiscal_year": 2027})).status_code == 422


async def test_writes_follow_the_rule_and_closed_periods_are_409(at_today: Any) -> None:
    admin, _ = at_today
    url = "/api/v1/guidelines/1.3.1/reports"
    future = await admin.post(url, json={**REPORT, "period": "2026-Q2"})
    assert future.status_code == 422
    assert future.json()["field"] == "period"
    assert (await admin.post(url, json={**REPORT, "period": "2026-Q1"})).status_code == 201
    assert (await admin.post(url, json={**REPORT, "period": "2026-1"})).status_code == 400
    assert (await admin.post("/api/v1/periods/2026-Q1/close")).status_code == 200
    closed = await admin.post(url, json={**REPORT, "period": "2026-Q1"})
    assert closed.status_code == 409
    assert closed.json()["field"] == "period"


async def test_the_current_quarter_turns_at_midnight_in_tokyo(
    settings: Settings, make_token: MakeToken
) -> None:
    token = await make_token("admin")
    now = datetime(2026, 6, 30, 14, 59, tzinfo=UTC)  # 23:59 on 30 June in Tokyo
    async with clocked(settings, token, now) as (admin, clock):
        url = "/api/v1/guidelines/1.3.1/reports"
        assert (await admin.post(url, json={**REPORT, "period": "2026-Q2"})).status_code == 422
        assert (await admin.get("/api/v1/progress")).json()["period"] == "2026-Q1"
        clock.advance(60)  # 00:00 on 1 July in Tokyo, still 30 June in UTC
        assert (await admin.post(url, json={**REPORT, "period": "2026-Q2"})).status_code == 201
        assert (await admin.get("/api/v1/progress")).json()["period"] == "2026-Q2"


async def test_the_first_fiscal_year_is_configurable(settings: Settings, make_token: MakeToken) -> None:
    token = await make_token("viewer")
    later = dataclasses.replace(settings, first_fiscal_year=2026)
    async with running(later, clock=FakeClock(TODAY)) as instance, http_client(instance, token) as viewer:
        before = await viewer.get("/api/v1/progress", params={"period": "2025-Q4"})
        assert before.status_code == 422
        assert "first fiscal year 2026" in before.json()["detail"]
        series = (await viewer.get("/api/v1/progress/series")).json()["items"]
        assert [item["period"] for item in series] == ["2026-Q1"]  # the default range stays within the plan
        assert (await viewer.get("/api/v1/periods")).json()["items"][0]["code"] == "2026-Q1"
