"""Status reports: revisions per (guideline, department, period), roles, and what each read returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import MakeClient

PERIOD = "2025-Q1"
REPORT = {"period": PERIOD, "status": "on_track", "summary": "保育定員を拡充しました。"}


async def test_department_posts_a_report_and_reads_it_back(make_client: MakeClient) -> None:
    children = await make_client("department", department="children", label="children-staff")
    response = await children.post("/api/v1/guidelines/1.1.1/reports", json=REPORT)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["revision"] == 1
    assert body["department"] == "children"
    assert body["guideline"] == "1.1.1"
    assert body["created_by"] == "children-staff"
    assert body["created_at"].endswith("Z")

    current = (await children.get("/api/v1/guidelines/1.1.1/reports", params={"period": PERIOD})).json()
    assert current["total"] == 1
    assert current["items"][0] == body


async def test_posting_again_makes_revision_two_and_keeps_revision_one(make_client: MakeClient) -> None:
    children = await make_client("department", department="children")
    first = (await children.post("/api/v1/guidelines/1.1.1/reports", json=REPORT)).json()
    second_body = {**REPORT, "status": "at_risk", "summary": "待機児童が増えました。"}
    second = await children.post("/api/v1/guidelines/1.1.1/reports", json=second_body)
    assert second.status_code == 201
    assert second.json()["revision"] == 2

    history = (
        await children.get(
            "/api/v1/guidelines/1.1.1/reports/history", params={"period": PERIOD, "department": "children"}
        )
    ).json()
    assert [item["revision"] for item in history["items"]] == [1, 2]
    assert history["items"][0] == first
    assert history["items"][1]["status"] == "at_risk"
    for item in history["items"]:
        assert set(item) >= {"revision", "status", "summary", "department", "created_at", "created_by"}

    current = (await children.get("/api/v1/guidelines/1.1.1/reports", params={"period": PERIOD})).json()
    assert [(i["revision"], i["status"]) for i in current["items"]] == [(2, "at_risk")]


async def test_current_reports_list_one_per_department(
    make_client: MakeClient, admin: httpx.AsyncClient
) -> None:
    children = await make_client("department", department="children")
    await children.post("/api/v1/guidelines/1.1.1/reports", json=REPORT)
    await children.post("/api/v1/guidelines/1.1.1/reports", json=REPORT)
    response = await admin.post(
        "/api/v1/guidelines/1.1.1/reports", json={**REPORT, "department": "health-center"}
    )
    assert response.status_code == 201
    other_period = await admin.post(
        "/api/v1/guidelines/1.1.1/reports", json={**REPORT, "period": "2025-Q2", "department": "children"}
    )
    assert other_period.status_code == 201
    assert other_period.json()["revision"] == 1

    current = (await admin.get("/api/v1/guidelines/1.1.1/reports", params={"period": PERIOD})).json()
    assert sorted((i["department"], i["revision"]) for i in current["items"]) == [
        ("children", 2),
        ("health-center", 1),
    ]
    every_period = (await admin.get("/api/v1/guidelines/1.1.1/reports")).json()
    assert every_period["total"] == 3
    history = (await admin.get("/api/v1/guidelines/1.1.1/reports/history")).json()
    assert history["total"] == 4


async def test_department_cannot_write_for_another_departments_guideline(make_client: MakeClient) -> None:
    children = await make_client("department", department="children")
    response = await children.post("/api/v1/guidelines/1.2.2/reports", json=REPORT)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "department" in response.json()["detail"]
    assert (await children.get("/api/v1/guidelines/1.2.2/reports/history")).json()["total"] == 0


async def test_department_cannot_write_as_another_department(make_client: MakeClient) -> None:
    children = await make_client("department", department="children")
    response = await children.post(
        "/api/v1/guidelines/1.1.1/reports", json={**REPORT, "department": "health-center"}
    )
    assert response.status_code == 403
    assert response.json()["field"] == "department"
    assert (await children.get("/api/v1/guidelines/1.1.1/reports/history")).json()["total"] == 0


async def test_department_may_name_itself(make_client: MakeClient) -> None:
    children = await make_client("department", department="children")
    response = await children.post(
        "/api/v1/guidelines/1.1.1/reports", json={**REPORT, "department": "children"}
    )
    assert response.status_code == 201


async def test_viewer_cannot_write(viewer: httpx.AsyncClient) -> None:
    response = await viewer.post(
        "/api/v1/guidelines/1.1.1/reports", json={**REPORT, "department": "children"}
    )
    assert response.status_code == 403
    assert (await viewer.get("/api/v1/guidelines/1.1.1/reports/history")).json()["total"] == 0


async def test_admin_writes_on_behalf_of_a_named_department(make_client: MakeClient) -> None:
    admin = await make_client("admin", label="plan-office")
    response = await admin.post(
        "/api/v1/guidelines/1.1.1/reports", json={**REPORT, "department": "education-board"}
    )
    assert response.status_code == 201
    assert response.json()["department"] == "education-board"
    assert response.json()["created_by"] == "plan-office"


async def test_admin_must_name_the_department_when_several_are_responsible(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/guidelines/1.1.1/reports", json=REPORT)
    assert response.status_code == 422
    assert response.json()["field"] == "department"


async def test_admin_may_omit_the_department_of_a_single_department_guideline(
    admin: httpx.AsyncClient,
) -> None:
    response = await admin.post("/api/v1/guidelines/1.3.1/reports", json=REPORT)
    assert response.status_code == 201
    assert response.json()["department"] == "children"


@pytest.mark.parametrize("department", ["industrial-policy", "no-such-department"])
async def test_admin_naming_a_department_not_responsible_is_rejected(
    admin: httpx.AsyncClient, department: str
) -> None:
    response = await admin.post("/api/v1/guidelines/1.1.1/reports", json={**REPORT, "department": department})
    assert response.status_code == 422
    assert response.json()["field"] == "department"
    assert (await admin.get("/api/v1/guidelines/1.1.1/reports/history")).json()["total"] == 0


async def test_unknown_guideline_is_404(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/guidelines/9.9.9/reports", json={**REPORT, "department": "children"})
    assert response.status_code == 404
    assert "code" in response.json()["detail"]
    assert (await admin.get("/api/v1/guidelines/9.9.9/reports")).status_code == 404
    assert (await admin.get("/api/v1/guidelines/9.9.9/reports/history")).status_code == 404


@pytest.mark.parametrize(
    ("params", "field", "status"),
    [({"period": "2025-Q5"}, "period", 400), ({"department": "nobody"}, "department", 422)],
)
async def test_bad_history_filters(
    viewer: httpx.AsyncClient, params: dict[str, str], field: str, status: int
) -> None:
    """A malformed filter is a 400; a well-formed code of nothing is a 422, as for every filter."""
    response = await viewer.get("/api/v1/guidelines/1.1.1/reports/history", params=params)
    assert response.status_code == status
    assert field in response.json()["detail"]


@pytest.mark.parametrize("status", ["not_started", "on_track", "at_risk", "delayed", "completed"])
async def test_every_status_is_accepted(admin: httpx.AsyncClient, status: str) -> None:
    response = await admin.post("/api/v1/guidelines/1.3.1/reports", json={**REPORT, "status": status})
    assert response.status_code == 201
    assert response.json()["status"] == status


async def test_summary_of_4000_characters_is_accepted(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/guidelines/1.3.1/reports", json={**REPORT, "summary": "あ" * 4000})
    assert response.status_code == 201
    assert len(response.json()["summary"]) == 4000


async def test_reads_need_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/guidelines/1.1.1/reports")).status_code == 401
    assert (await client.post("/api/v1/guidelines/1.1.1/reports", json=REPORT)).status_code == 401
