"""Fiscal quarters: listing with state, Japanese labels, closing and reopening, and write rules."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
import pytest

from wlbtrack.domain.periods.services import Period

if TYPE_CHECKING:
    from conftest import MakeClient

REPORT = {"status": "on_track", "summary": "順調です。"}


async def test_fiscal_year_lists_its_four_quarters(viewer: httpx.AsyncClient) -> None:
    response = await viewer.get("/api/v1/periods", params={"fiscal_year": 2026})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 4
    assert body["items"][0] == {
        "code": "2026-Q1",
        "fiscal_year": 2026,
        "quarter": 1,
        "start": "2026-04-01",
        "end": "2026-06-30",
        "label_ja": "2026年度 第1四半期",
        "due": "2026-07-15",
        "state": "open",
        "closed_at": None,
        "closed_by": None,
    }
    assert [(p["code"], p["start"], p["end"]) for p in body["items"][1:]] == [
        ("2026-Q2", "2026-07-01", "2026-09-30"),
        ("2026-Q3", "2026-10-01", "2026-12-31"),
        ("2026-Q4", "2027-01-01", "2027-03-31"),
    ]
    assert body["items"][3]["label_ja"] == "2026年度 第4四半期"


async def test_without_fiscal_year_lists_from_2010_to_the_current_fiscal_year(
    viewer: httpx.AsyncClient,
) -> None:
    body = (await viewer.get("/api/v1/periods")).json()
    current_year = Period.containing(datetime.now(ZoneInfo("Asia/Tokyo")).date()).fiscal_year
    assert body["items"][0]["code"] == "2010-Q1"
    assert body["items"][-1]["code"] == f"{current_year}-Q4"
    assert body["total"] == (current_year - 2010 + 1) * 4
    codes = [p["code"] for p in body["items"]]
    assert codes == sorted(codes)


async def test_get_one_period(viewer: httpx.AsyncClient) -> None:
    response = await viewer.get("/api/v1/periods/2025-Q4")
    assert response.status_code == 200
    assert response.json()["start"] == "2026-01-01"
    assert response.json()["label_ja"] == "2025年度 第4四半期"


@pytest.mark.parametrize("code", ["2025-Q5", "2025Q1", "abcd", "１９９９-Q1"])
async def test_malformed_period_in_the_path_is_404(viewer: httpx.AsyncClient, code: str) -> None:
    response = await viewer.get(f"/api/v1/periods/{code}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("fiscal_year", ["twenty", "2026.5"])
async def test_malformed_fiscal_year_is_400(viewer: httpx.AsyncClient, fiscal_year: str) -> None:
    response = await viewer.get("/api/v1/periods", params={"fiscal_year": fiscal_year})
    assert response.status_code == 400
    assert "fiscal_year" in response.json()["detail"]


async def test_fiscal_years_outside_the_plan_are_422(viewer: httpx.AsyncClient) -> None:
    next_year = Period.containing(datetime.now(ZoneInfo("Asia/Tokyo")).date()).fiscal_year + 1
    for fiscal_year in (1999, 2009, next_year, 2101):
        response = await viewer.get("/api/v1/periods", params={"fiscal_year": fiscal_year})
        assert response.status_code == 422, fiscal_year
        assert response.json()["field"] == "fiscal_year"
    assert (await viewer.get("/api/v1/periods", params={"fiscal_year": 2010})).json()["total"] == 4


async def test_admin_closes_and_reopens_a_period(make_client: MakeClient) -> None:
    admin = await make_client("admin", label="plan-office")
    closed = await admin.post("/api/v1/periods/2025-Q1/close")
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"
    assert closed.json()["closed_by"] == "plan-office"
    listed = (await admin.get("/api/v1/periods", params={"fiscal_year": 2025})).json()["items"]
    assert [p["state"] for p in listed] == ["closed", "open", "open", "open"]

    write = await admin.post("/api/v1/guidelines/1.3.1/reports", json={**REPORT, "period": "2025-Q1"})
    assert write.status_code == 409
    assert write.json()["field"] == "period"
    assert (await admin.get("/api/v1/guidelines/1.3.1/reports/history")).json()["total"] == 0

    again = await admin.post("/api/v1/periods/2025-Q1/close")
    assert again.status_code == 200
    assert again.json()["closed_at"] == closed.json()["closed_at"]

    reopened = await admin.post("/api/v1/periods/2025-Q1/reopen")
    assert reopened.status_code == 200
    assert reopened.json()["state"] == "open"
    assert (await admin.get("/api/v1/periods/2025-Q1")).json()["state"] == "open"
    write = await admin.post("/api/v1/guidelines/1.3.1/reports", json={**REPORT, "period": "2025-Q1"})
    assert write.status_code == 201


async def test_closed_period_blocks_values_and_batches(admin: httpx.AsyncClient) -> None:
    indicator = (
        await admin.post(
            "/api/v1/guidelines/1.3.1/indicators",
            json={"name": "相談件数", "unit": "件", "baseline": 10, "target": 20},
        )
    ).json()
    await admin.post("/api/v1/periods/2025-Q2/close")
    value = await admin.post(
        f"/api/v1/indicators/{indicator['id']}/values", json={"period": "2025-Q2", "value": 1}
    )
    assert value.status_code == 409
    batch = await admin.post(
        "/api/v1/submissions",
        json={"period": "2025-Q2", "department": "children", "reports": [{"guideline": "1.3.1", **REPORT}]},
    )
    assert batch.status_code == 409
    assert (await admin.get(f"/api/v1/indicators/{indicator['id']}/values")).json()["total"] == 0
    assert (await admin.get("/api/v1/guidelines/1.3.1/reports")).json()["total"] == 0


@pytest.mark.parametrize("role", ["department", "viewer"])
async def test_only_admins_close_and_reopen(make_client: MakeClient, role: str) -> None:
    caller = await make_client(role, department="children" if role == "department" else None)
    assert (await caller.post("/api/v1/periods/2025-Q1/close")).status_code == 403
    assert (await caller.post("/api/v1/periods/2025-Q1/reopen")).status_code == 403
    assert (await caller.get("/api/v1/periods/2025-Q1")).json()["state"] == "open"


async def test_closing_an_unknown_period_is_404(admin: httpx.AsyncClient) -> None:
    assert (await admin.post("/api/v1/periods/2025-Q9/close")).status_code == 404


async def test_writing_for_a_period_not_started_is_422(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/guidelines/1.3.1/reports", json={**REPORT, "period": "2099-Q1"})
    assert response.status_code == 422
    assert response.json()["field"] == "period"
    assert "not started" in response.json()["detail"]


async def test_writing_for_the_next_quarter_is_422_and_the_current_one_is_fine(
    admin: httpx.AsyncClient,
) -> None:
    current = Period.containing(datetime.now(ZoneInfo("Asia/Tokyo")).date())
    ahead = await admin.post(
        "/api/v1/guidelines/1.3.1/reports", json={**REPORT, "period": current.next().code}
    )
    assert ahead.status_code == 422
    now = await admin.post("/api/v1/guidelines/1.3.1/reports", json={**REPORT, "period": current.code})
    assert now.status_code == 201


@pytest.mark.parametrize(("period", "status"), [("2009-Q4", 422), ("2101-Q1", 400)])
async def test_writing_outside_the_plans_years_is_refused(
    admin: httpx.AsyncClient, period: str, status: int
) -> None:
    """Before the first fiscal year: 422; outside 2000–2100, the period pattern of the document: 400."""
    response = await admin.post("/api/v1/guidelines/1.3.1/reports", json={**REPORT, "period": period})
    assert response.status_code == status
    assert response.json()["field"] == "period"
