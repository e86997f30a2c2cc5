"""Indicators: creation by role, decreasing targets, listing, PATCH history, and revisioned values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeClient

INDICATOR = {"name": "保育定員", "unit": "人", "baseline": 100, "target": 150}


async def create(client: httpx.AsyncClient, guideline: str = "1.1.1", **fields: Any) -> dict[str, Any]:
    response = await client.post(f"/api/v1/guidelines/{guideline}/indicators", json={**INDICATOR, **fields})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_department_creates_an_indicator(make_client: MakeClient) -> None:
    children = await make_client("department", department="children", label="children-staff")
    created = await create(children)
    assert created["department"] == "children"
    assert created["guideline"] == "1.1.1"
    assert created["revision"] == 1
    assert created["direction"] == "increasing"
    assert created["created_by"] == "children-staff"
    fetched = await children.get(f"/api/v1/indicators/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_target_below_baseline_is_a_decreasing_indicator(admin: httpx.AsyncClient) -> None:
    created = await create(admin, department="children", name="待機児童数", baseline=50, target=0)
    assert created["direction"] == "decreasing"


async def test_target_equal_to_baseline_is_422(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/api/v1/guidelines/1.1.1/indicators", json={**INDICATOR, "department": "children", "target": 100}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "target"
    assert (await admin.get("/api/v1/indicators")).json()["total"] == 0


async def test_department_cannot_create_for_a_guideline_it_is_not_responsible_for(
    make_client: MakeClient,
) -> None:
    children = await make_client("department", department="children")
    response = await children.post("/api/v1/guidelines/2.2.2/indicators", json=INDICATOR)
    assert response.status_code == 403
    other = await children.post(
        "/api/v1/guidelines/1.1.1/indicators", json={**INDICATOR, "department": "education-board"}
    )
    assert other.status_code == 403
    assert (await children.get("/api/v1/indicators")).json()["total"] == 0


async def test_admin_must_name_a_responsible_department(admin: httpx.AsyncClient) -> None:
    missing = await admin.post("/api/v1/guidelines/1.1.1/indicators", json=INDICATOR)
    assert missing.status_code == 422
    assert missing.json()["field"] == "department"
    wrong = await admin.post(
        "/api/v1/guidelines/1.1.1/indicators", json={**INDICATOR, "department": "sports-promotion"}
    )
    assert wrong.status_code == 422
    created = await create(admin, guideline="2.2.2")
    assert created["department"] == "industrial-policy"


async def test_viewer_cannot_create(viewer: httpx.AsyncClient) -> None:
    response = await viewer.post(
        "/api/v1/guidelines/1.1.1/indicators", json={**INDICATOR, "department": "children"}
    )
    assert response.status_code == 403


async def test_list_filters_by_guideline_and_department(admin: httpx.AsyncClient) -> None:
    a = await create(admin, department="children")
    b = await create(admin, department="health-center")
    c = await create(admin, guideline="2.2.1", department="children")

    def ids(response: httpx.Response) -> list[int]:
        return [item["id"] for item in response.json()["items"]]

    assert ids(await admin.get("/api/v1/indicators")) == [a["id"], b["id"], c["id"]]
    assert ids(await admin.get("/api/v1/indicators", params={"guideline": "1.1.1"})) == [a["id"], b["id"]]
    assert ids(await admin.get("/api/v1/indicators", params={"department": "children"})) == [a["id"], c["id"]]
    both = await admin.get("/api/v1/indicators", params={"guideline": "1.1.1", "department": "children"})
    assert ids(both) == [a["id"]]
    assert (await admin.get("/api/v1/indicators", params={"guideline": "9.9"})).status_code == 422
    assert (await admin.get("/api/v1/indicators", params={"department": "x"})).status_code == 422


async def test_patch_bumps_the_revision_and_keeps_history(make_client: MakeClient) -> None:
    children = await make_client("department", department="children", label="children-staff")
    created = await create(children)
    patched = await children.patch(
        f"/api/v1/indicators/{created['id']}", json={"target": 200, "name": "保育定員数"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["revision"] == 2
    assert patched.json()["target"] == 200
    assert patched.json()["name"] == "保育定員数"
    assert patched.json()["baseline"] == 100
    assert patched.json()["unit"] == "人"
    again = await children.patch(f"/api/v1/indicators/{created['id']}", json={"unit": "名"})
    assert again.json()["revision"] == 3

    history = (await children.get(f"/api/v1/indicators/{created['id']}/history")).json()
    assert [(h["revision"], h["name"], h["unit"], h["target"]) for h in history["items"]] == [
        (1, "保育定員", "人", 150),
        (2, "保育定員数", "人", 200),
        (3, "保育定員数", "名", 200),
    ]
    assert all(h["created_by"] == "children-staff" for h in history["items"])


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "body"),
        ({"target": 100}, 422, "target"),
        ({"baseline": 1}, 400, "baseline"),
        ({"revision": 9}, 400, "revision"),
        ({"name": None}, 400, "name"),
        ({"target": "200"}, 400, "target"),
    ],
)
async def test_bad_patches_change_nothing(
    admin: httpx.AsyncClient, body: dict[str, Any], status: int, field: str
) -> None:
    created = await create(admin, department="children")
    response = await admin.patch(f"/api/v1/indicators/{created['id']}", json=body)
    assert response.status_code == status
    assert field in response.json()["detail"]
    assert (await admin.get(f"/api/v1/indicators/{created['id']}")).json() == created


async def test_only_the_owning_department_or_an_admin_patches(
    make_client: MakeClient, admin: httpx.AsyncClient
) -> None:
    created = await create(admin, department="children")
    health = await make_client("department", department="health-center")
    viewer = await make_client("viewer")
    assert (await health.patch(f"/api/v1/indicators/{created['id']}", json={"target": 1})).status_code == 403
    assert (await viewer.patch(f"/api/v1/indicators/{created['id']}", json={"target": 1})).status_code == 403
    assert (await admin.patch(f"/api/v1/indicators/{created['id']}", json={"target": 1})).status_code == 200


@pytest.mark.parametrize("indicator_id", ["0", "-1", "424242", "2147483648", "9223372036854775808", "1" * 40])
async def test_unknown_or_out_of_range_indicator_ids_are_404(
    admin: httpx.AsyncClient, indicator_id: str
) -> None:
    for path in ("", "/history", "/values", "/values/history"):
        response = await admin.get(f"/api/v1/indicators/{indicator_id}{path}")
        assert response.status_code == 404, (path, response.text)
    assert (await admin.patch(f"/api/v1/indicators/{indicator_id}", json={"target": 1})).status_code == 404
    post = await admin.post(
        f"/api/v1/indicators/{indicator_id}/values", json={"period": "2025-Q1", "value": 1}
    )
    assert post.status_code == 404


async def test_values_are_revisioned_per_period(make_client: MakeClient) -> None:
    children = await make_client("department", department="children", label="children-staff")
    indicator = await create(children)
    url = f"/api/v1/indicators/{indicator['id']}/values"
    first = await children.post(url, json={"period": "2025-Q1", "value": 110, "note": "四月時点"})
    assert first.status_code == 201, first.text
    assert first.json()["revision"] == 1
    assert first.json()["department"] == "children"
    assert first.json()["created_by"] == "children-staff"
    second = await children.post(url, json={"period": "2025-Q1", "value": 112.5})
    assert second.json()["revision"] == 2
    assert second.json()["note"] is None
    other = await children.post(url, json={"period": "2025-Q2", "value": 120})
    assert other.json()["revision"] == 1

    current = (await children.get(url)).json()
    assert [(v["period"], v["revision"], v["value"]) for v in current["items"]] == [
        ("2025-Q1", 2, 112.5),
        ("2025-Q2", 1, 120),
    ]
    history = (await children.get(f"{url}/history")).json()
    assert [(v["period"], v["revision"], v["value"], v["note"]) for v in history["items"]] == [
        ("2025-Q1", 1, 110, "四月時点"),
        ("2025-Q1", 2, 112.5, None),
        ("2025-Q2", 1, 120, None),
    ]
    assert history["items"][0] == first.json()
    one_period = (await children.get(f"{url}/history", params={"period": "2025-Q2"})).json()
    assert one_period["total"] == 1


async def test_values_only_by_the_indicators_department(
    make_client: MakeClient, admin: httpx.AsyncClient
) -> None:
    indicator = await create(admin, department="children")
    url = f"/api/v1/indicators/{indicator['id']}/values"
    health = await make_client("department", department="health-center")
    viewer = await make_client("viewer")
    assert (await health.post(url, json={"period": "2025-Q1", "value": 1})).status_code == 403
    assert (await viewer.post(url, json={"period": "2025-Q1", "value": 1})).status_code == 403
    by_admin = await admin.post(url, json={"period": "2025-Q1", "value": 1})
    assert by_admin.status_code == 201
    assert by_admin.json()["department"] == "children"
    assert (await admin.get(f"{url}/history")).json()["total"] == 1


async def test_value_for_a_period_not_started_is_422(admin: httpx.AsyncClient) -> None:
    indicator = await create(admin, department="children")
    response = await admin.post(
        f"/api/v1/indicators/{indicator['id']}/values", json={"period": "2099-Q4", "value": 1}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "period"


@pytest.mark.parametrize("value", [0, -3.5, 1.7976931348623157e308, 5e-324])
async def test_any_finite_value_is_stored_exactly(admin: httpx.AsyncClient, value: float) -> None:
    indicator = await create(admin, department="children")
    url = f"/api/v1/indicators/{indicator['id']}/values"
    assert (await admin.post(url, json={"period": "2025-Q1", "value": value})).status_code == 201
    assert (await admin.get(url)).json()["items"][0]["value"] == value


async def test_each_definition_change_records_the_token_that_made_it(
    make_client: MakeClient, admin: httpx.AsyncClient, settings: Settings
) -> None:
    from sqlalchemy import select

    from wlbtrack.db import Database
    from wlbtrack.domain.reporting.models import INDICATOR_REVISION as REVISION

    # two clerks of one department under the same label: only the token id tells their changes apart
    first = await make_client("department", department="children", label="children-twin")
    second = await make_client("department", department="children", label="children-twin")
    tokens = (await admin.get("/api/v1/tokens")).json()["items"]
    first_id, second_id = sorted(t["id"] for t in tokens if t["label"] == "children-twin")

    created = await create(first)
    assert (
        await second.patch(f"/api/v1/indicators/{created['id']}", json={"target": 180})
    ).status_code == 200
    assert (await first.patch(f"/api/v1/indicators/{created['id']}", json={"target": 190})).status_code == 200

    database = Database(settings)
    try:
        async with database.read_sessions() as session:
            rows = await session.execute(
                select(REVISION.c.revision, REVISION.c.token_id, REVISION.c.created_by)
                .where(REVISION.c.indicator_id == created["id"])
                .order_by(REVISION.c.revision)
            )
            recorded = [tuple(row) for row in rows]
    finally:
        await database.dispose()
    assert recorded == [
        (1, first_id, "children-twin"),
        (2, second_id, "children-twin"),
        (3, first_id, "children-twin"),
    ]
