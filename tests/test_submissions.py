"""The quarterly batch: all in one transaction, or an error listing every invalid item and nothing written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import MakeClient

PERIOD = "2025-Q3"


def report(guideline: str, status: str = "on_track") -> dict[str, str]:
    return {"guideline": guideline, "status": status, "summary": f"{guideline} の進捗"}


async def indicator(admin: httpx.AsyncClient, department: str, guideline: str) -> int:
    response = await admin.post(
        f"/api/v1/guidelines/{guideline}/indicators",
        json={
            "name": f"{department} KPI",
            "unit": "件",
            "baseline": 0,
            "target": 10,
            "department": department,
        },
    )
    assert response.status_code == 201, response.text
    indicator_id: int = response.json()["id"]
    return indicator_id


async def nothing_written(admin: httpx.AsyncClient, guidelines: list[str], indicators: list[int]) -> None:
    for guideline in guidelines:
        assert (await admin.get(f"/api/v1/guidelines/{guideline}/reports/history")).json()["total"] == 0
    for indicator_id in indicators:
        assert (await admin.get(f"/api/v1/indicators/{indicator_id}/values/history")).json()["total"] == 0


async def test_department_submits_its_quarter(make_client: MakeClient, admin: httpx.AsyncClient) -> None:
    first = await indicator(admin, "children", "1.1.1")
    second = await indicator(admin, "children", "1.3.1")
    children = await make_client("department", department="children", label="children-staff")
    body = {
        "period": PERIOD,
        "reports": [report("1.1.1"), report("1.3.1", "delayed"), report("2.2.1")],
        "values": [{"indicator": first, "value": 3, "note": "速報値"}, {"indicator": second, "value": 7.5}],
    }
    response = await children.post("/api/v1/submissions", json=body)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["period"] == PERIOD
    assert stored["department"] == "children"
    assert [(r["guideline"], r["revision"], r["status"]) for r in stored["reports"]] == [
        ("1.1.1", 1, "on_track"),
        ("1.3.1", 1, "delayed"),
        ("2.2.1", 1, "on_track"),
    ]
    assert [(v["indicator"], v["revision"], v["value"], v["note"]) for v in stored["values"]] == [
        (first, 1, 3, "速報値"),
        (second, 1, 7.5, None),
    ]
    assert all(r["created_by"] == "children-staff" for r in stored["reports"] + stored["values"])

    current = (await children.get("/api/v1/guidelines/1.3.1/reports", params={"period": PERIOD})).json()
    assert current["items"] == [stored["reports"][1]]
    values = (await children.get(f"/api/v1/indicators/{first}/values")).json()
    assert values["items"] == [stored["values"][0]]

    again = await children.post("/api/v1/submissions", json=body)
    assert [r["revision"] for r in again.json()["reports"]] == [2, 2, 2]
    assert [v["revision"] for v in again.json()["values"]] == [2, 2]
    history = (
        await children.get("/api/v1/guidelines/1.1.1/reports/history", params={"period": PERIOD})
    ).json()
    assert [r["revision"] for r in history["items"]] == [1, 2]


async def test_batch_and_single_posts_share_the_revision_sequence(admin: httpx.AsyncClient) -> None:
    single = await admin.post(
        "/api/v1/guidelines/1.3.1/reports", json={"period": PERIOD, "status": "on_track", "summary": "単独"}
    )
    assert single.json()["revision"] == 1
    batch = await admin.post(
        "/api/v1/submissions", json={"period": PERIOD, "department": "children", "reports": [report("1.3.1")]}
    )
    assert batch.status_code == 201
    assert batch.json()["reports"][0]["revision"] == 2


async def test_rejected_batch_lists_every_invalid_item_and_writes_nothing(admin: httpx.AsyncClient) -> None:
    own = await indicator(admin, "children", "1.1.1")
    foreign = await indicator(admin, "health-center", "1.2.2")
    body = {
        "period": PERIOD,
        "department": "children",
        "reports": [report("1.1.1"), report("9.9.9"), report("1.1.1"), report("1.2.2"), report("1.3.1")],
        "values": [
            {"indicator": own, "value": 1},
            {"indicator": 999999, "value": 2},
            {"indicator": foreign, "value": 3},
        ],
    }
    response = await admin.post("/api/v1/submissions", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == [
        "reports[1].guideline",
        "reports[2].guideline",
        "reports[3].guideline",
        "values[1].indicator",
        "values[2].indicator",
    ]
    assert "reports[1].guideline" in problem["detail"]
    await nothing_written(admin, ["1.1.1", "1.2.2", "1.3.1"], [own, foreign])


async def test_department_writing_outside_its_guidelines_is_403_listing_each_item(
    make_client: MakeClient,
) -> None:
    children = await make_client("department", department="children")
    response = await children.post(
        "/api/v1/submissions",
        json={"period": PERIOD, "reports": [report("1.1.1"), report("1.2.2"), report("3.5.2")]},
    )
    assert response.status_code == 403
    assert [e["field"] for e in response.json()["errors"]] == ["reports[1].guideline", "reports[2].guideline"]
    assert (await children.get("/api/v1/guidelines/1.1.1/reports/history")).json()["total"] == 0


async def test_department_cannot_submit_for_another_department(
    make_client: MakeClient, admin: httpx.AsyncClient
) -> None:
    foreign = await indicator(admin, "health-center", "1.2.2")
    children = await make_client("department", department="children")
    named = await children.post(
        "/api/v1/submissions",
        json={"period": PERIOD, "department": "health-center", "reports": [report("1.1.1")]},
    )
    assert named.status_code == 403
    assert named.json()["errors"][0]["field"] == "department"
    value = await children.post(
        "/api/v1/submissions", json={"period": PERIOD, "values": [{"indicator": foreign, "value": 1}]}
    )
    assert value.status_code == 403
    assert value.json()["errors"] == [
        {"field": "values[0].indicator", "message": value.json()["errors"][0]["message"]}
    ]
    await nothing_written(admin, ["1.1.1"], [foreign])


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"period": PERIOD, "reports": [report("1.1.1")]}, ["department"]),
        ({"period": PERIOD, "department": "nowhere", "reports": [report("1.1.1")]}, ["department"]),
        ({"period": PERIOD, "department": "children"}, ["reports"]),
        ({"period": "2099-Q1", "department": "children", "reports": [report("1.1.1")]}, ["period"]),
        (
            {"period": "2099-Q1", "department": "children", "reports": [report("0")]},
            ["period", "reports[0].guideline"],
        ),
    ],
)
async def test_admin_batch_problems(
    admin: httpx.AsyncClient, body: dict[str, Any], fields: list[str]
) -> None:
    response = await admin.post("/api/v1/submissions", json=body)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == fields
    await nothing_written(admin, ["1.1.1"], [])


async def test_viewer_cannot_submit(viewer: httpx.AsyncClient) -> None:
    response = await viewer.post(
        "/api/v1/submissions", json={"period": PERIOD, "department": "children", "reports": [report("1.1.1")]}
    )
    assert response.status_code == 403


async def test_a_bad_item_type_is_rejected_before_anything_is_written(admin: httpx.AsyncClient) -> None:
    body = {
        "period": PERIOD,
        "department": "children",
        "reports": [report("1.1.1"), {**report("1.3.1"), "status": "finished"}],
    }
    response = await admin.post("/api/v1/submissions", json=body)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "reports[1].status",
            "message": "must be one of not_started, on_track, at_risk, delayed, completed",
        }
    ]
    await nothing_written(admin, ["1.1.1", "1.3.1"], [])


async def test_a_batch_lists_every_bad_item(make_client: MakeClient, admin: httpx.AsyncClient) -> None:
    own = await indicator(admin, "children", "1.1.1")
    foreign = await indicator(admin, "lifestyle-culture", "1.1.4")
    children = await make_client("department", department="children")
    body = {
        "period": PERIOD,
        "reports": [
            report("1.1.1"),
            {**report("1.3.1"), "status": "順調"},
            report("3.5.1"),
            {**report("2.2.1"), "colour": "red"},
            report("9.9.9"),
            {"guideline": 5, "status": "on_track"},
            "1.1.2",
        ],
        "values": [
            {"indicator": own, "value": "3"},
            {"indicator": foreign, "value": 1},
            {"indicator": own + foreign + 1000, "value": 2},
        ],
    }
    response = await children.post("/api/v1/submissions", json=body)
    assert response.status_code == 422, response.text
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert sorted(errors) == sorted(
        [
            "reports[1].status",
            "reports[2].guideline",
            "reports[3].colour",
            "reports[4].guideline",
            "reports[5].guideline",
            "reports[5].summary",
            "reports[6]",
            "values[0].value",
            "values[1].indicator",
            "values[2].indicator",
        ]
    )
    assert errors["reports[1].status"] == (
        "must be one of not_started, on_track, at_risk, delayed, completed"
    )
    assert "not responsible" in errors["reports[2].guideline"]
    assert "no guideline" in errors["reports[4].guideline"]
    assert "belongs to lifestyle-culture" in errors["values[1].indicator"]
    await nothing_written(admin, ["1.1.1", "1.3.1", "2.2.1"], [own])


async def test_a_batch_of_only_permission_problems_is_forbidden(
    make_client: MakeClient, admin: httpx.AsyncClient
) -> None:
    foreign = await indicator(admin, "lifestyle-culture", "1.1.4")
    children = await make_client("department", department="children")
    body = {"period": PERIOD, "reports": [report("3.5.1")], "values": [{"indicator": foreign, "value": 1}]}
    response = await children.post("/api/v1/submissions", json=body)
    assert response.status_code == 403
    assert [e["field"] for e in response.json()["errors"]] == ["reports[0].guideline", "values[0].indicator"]
    await nothing_written(admin, [], [foreign])


@pytest.mark.parametrize("body", [b"[]", b'"reports"', b"{", b"null"])
async def test_a_body_that_is_not_an_object_is_a_bad_request(admin: httpx.AsyncClient, body: bytes) -> None:
    response = await admin.post(
        "/api/v1/submissions", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


async def test_a_full_quarter_of_one_department(make_client: MakeClient, admin: httpx.AsyncClient) -> None:
    guidelines = ["1.3.3", "2.1.1", "2.2.2", "2.4.1", "2.5.1", "3.1.1", "3.1.2", "3.2.1", "3.2.2", "3.3.1"]
    indicators = [await indicator(admin, "industrial-policy", guidelines[i % 10]) for i in range(50)]
    staff = await make_client("department", department="industrial-policy")
    body = {
        "period": PERIOD,
        "reports": [report(code) for code in guidelines],
        "values": [{"indicator": i, "value": float(n)} for n, i in enumerate(indicators)],
    }
    response = await staff.post("/api/v1/submissions", json=body)
    assert response.status_code == 201, response.text
    assert len(response.json()["reports"]) == 10
    assert [v["value"] for v in response.json()["values"]] == [float(n) for n in range(50)]
    listed = (await staff.get(f"/api/v1/indicators/{indicators[-1]}/values")).json()
    assert listed["items"][0]["value"] == 49.0
