"""Bad input gets a 4xx problem document naming the field, never a 500, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from problems import INDICATOR, assert_problem, create_indicator

REPORT: dict[str, Any] = {"period": "2025-Q1", "status": "on_track", "summary": "順調"}
VALUE: dict[str, Any] = {"period": "2025-Q1", "value": 1.5, "note": "メモ"}
JSON = {"Content-Type": "application/json"}


def variant(base: dict[str, Any], **changes: Any) -> bytes:
    """The base body with fields replaced (a value of ... removes the field)."""
    body = {**base, **changes}
    return json.dumps({k: v for k, v in body.items() if v is not ...}, ensure_ascii=False).encode()


def raw(text: str) -> bytes:
    return text.encode()


REPORT_CASES = [
    (variant(REPORT, revision=2), "revision"),
    (variant(REPORT, created_by="someone"), "created_by"),
    (variant(REPORT, id=1), "id"),
    (variant(REPORT, updated_at="2025-01-01T00:00:00Z"), "updated_at"),
    (variant(REPORT, status="finished"), "status"),
    (variant(REPORT, status=1), "status"),
    (variant(REPORT, status=None), "status"),
    (variant(REPORT, status=...), "status"),
    (variant(REPORT, summary=""), "summary"),
    (variant(REPORT, summary="   \n\t"), "summary"),
    (variant(REPORT, summary="あ" * 4001), "summary"),
    (variant(REPORT, summary="a\x00b"), "summary"),
    (variant(REPORT, summary=42), "summary"),
    (variant(REPORT, period="2025-Q5"), "period"),
    (variant(REPORT, period="2025-1"), "period"),
    (variant(REPORT, period="2025-q1"), "period"),
    (variant(REPORT, period=" 2025-Q1"), "period"),
    (variant(REPORT, period=2025), "period"),
    (variant(REPORT, period=""), "period"),
    (variant(REPORT, department=""), "department"),
    (variant(REPORT, department=7), "department"),
    (variant(REPORT, department="nowhere"), "department"),
    (raw("[]"), "body"),
    (raw('"report"'), "body"),
    (raw('{"period": "2025-Q1",'), "body"),
    (raw(""), "body"),
]


@pytest.mark.parametrize(("body", "field"), REPORT_CASES)
async def test_bad_report_bodies(admin: httpx.AsyncClient, body: bytes, field: str) -> None:
    response = await admin.post(
        "/api/v1/guidelines/1.3.1/reports", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, field)
    assert (await admin.get("/api/v1/guidelines/1.3.1/reports/history")).json()["total"] == 0


VALUE_CASES = [
    (variant(VALUE, value="5"), "value"),
    (raw('{"period": "2025-Q1", "value": NaN}'), "value"),
    (raw('{"period": "2025-Q1", "value": Infinity}'), "value"),
    (raw('{"period": "2025-Q1", "value": -Infinity}'), "value"),
    (raw('{"period": "2025-Q1", "value": 1e999}'), "value"),
    (raw('{"period": "2025-Q1", "value": -1e400}'), "value"),
    (variant(VALUE, value=True), "value"),
    (variant(VALUE, value=None), "value"),
    (variant(VALUE, value=[1]), "value"),
    (variant(VALUE, note=""), "note"),
    (variant(VALUE, note="  "), "note"),
    (variant(VALUE, note="x" * 1001), "note"),
    (variant(VALUE, note="\x00"), "note"),
    (variant(VALUE, note=3), "note"),
    (variant(VALUE, period="Q1-2025"), "period"),
    (variant(VALUE, period="2101-Q1"), "period"),
    (variant(VALUE, revision=1), "revision"),
    (variant(VALUE, department="children"), "department"),
    (variant(VALUE, indicator=1), "indicator"),
]


@pytest.mark.parametrize(("body", "field"), VALUE_CASES)
async def test_bad_value_bodies(admin: httpx.AsyncClient, indicator_id: int, body: bytes, field: str) -> None:
    url = f"/api/v1/indicators/{indicator_id}/values"
    response = await admin.post(url, content=body, headers={"Content-Type": "application/json"})
    assert_problem(response, field)
    assert (await admin.get(f"{url}/history")).json()["total"] == 0


INDICATOR_CASES = [
    (variant(INDICATOR, name=""), "name"),
    (variant(INDICATOR, name="x" * 201), "name"),
    (variant(INDICATOR, name="\x00"), "name"),
    (variant(INDICATOR, unit="x" * 51), "unit"),
    (variant(INDICATOR, unit=" "), "unit"),
    (variant(INDICATOR, baseline="0"), "baseline"),
    (raw('{"name": "n", "unit": "u", "baseline": NaN, "target": 1}'), "baseline"),
    (raw('{"name": "n", "unit": "u", "baseline": 0, "target": 1e309}'), "target"),
    (variant(INDICATOR, target=...), "target"),
    (variant(INDICATOR, target=0), "target"),
    (variant(INDICATOR, id=5), "id"),
    (variant(INDICATOR, revision=1), "revision"),
    (variant(INDICATOR, guideline="1.3.1"), "guideline"),
    (variant(INDICATOR, department="education-board"), "department"),
]


@pytest.mark.parametrize(("body", "field"), INDICATOR_CASES)
async def test_bad_indicator_bodies(admin: httpx.AsyncClient, body: bytes, field: str) -> None:
    response = await admin.post(
        "/api/v1/guidelines/1.3.1/indicators", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, field)
    assert (await admin.get("/api/v1/indicators")).json()["total"] == 0


BATCH_CASES: list[tuple[str | None, dict[str, Any], str]] = [
    ("reports", {"summary": ""}, "reports[0].summary"),
    ("reports", {"summary": "x" * 4001}, "reports[0].summary"),
    ("reports", {"status": "done"}, "reports[0].status"),
    ("reports", {"revision": 3}, "reports[0].revision"),
    ("reports", {"guideline": ""}, "reports[0].guideline"),
    ("reports", {"guideline": "nope"}, "reports[0].guideline"),
    ("values", {"indicator": "1"}, "values[0].indicator"),
    ("values", {"indicator": 2**31}, "values[0].indicator"),
    ("values", {"indicator": 0}, "values[0].indicator"),
    ("values", {"indicator": 123456}, "values[0].indicator"),
    ("values", {"value": "1"}, "values[0].value"),
    ("values", {"note": "\x00"}, "values[0].note"),
    ("values", {"created_by": "x"}, "values[0].created_by"),
    (None, {"created_by": "x"}, "created_by"),
    (None, {"period": "2025-Q0"}, "period"),
    (None, {"reports": {"guideline": "1.3.1"}}, "reports"),
]


@pytest.mark.parametrize(("kind", "changes", "field"), BATCH_CASES)
async def test_bad_batch_bodies(
    admin: httpx.AsyncClient, indicator_id: int, kind: str | None, changes: dict[str, Any], field: str
) -> None:
    body: dict[str, Any] = {
        "period": "2025-Q1",
        "department": "children",
        "reports": [{"guideline": "1.3.1", "status": "on_track", "summary": "順調"}],
        "values": [{"indicator": indicator_id, "value": 1}],
    }
    if kind is None:
        body.update(changes)
    else:
        body[kind][0].update(changes)
    response = await admin.post("/api/v1/submissions", json=body)
    assert_problem(response, field)
    assert (await admin.get("/api/v1/guidelines/1.3.1/reports/history")).json()["total"] == 0
    assert (await admin.get(f"/api/v1/indicators/{indicator_id}/values/history")).json()["total"] == 0


async def test_batch_with_nan_names_the_item(admin: httpx.AsyncClient, indicator_id: int) -> None:
    body = (
        '{"period": "2025-Q1", "department": "children", "values": '
        f'[{{"indicator": {indicator_id}, "value": 1}}, {{"indicator": {indicator_id}, "value": NaN}}]}}'
    )
    response = await admin.post("/api/v1/submissions", content=body.encode())
    assert_problem(response, "values[1].value")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/guidelines/1.3.1/reports",
        "/api/v1/guidelines/1.3.1/indicators",
        "/api/v1/submissions",
        "/api/v1/tokens",
        "/api/v1/indicators/1/values",
    ],
)
async def test_bodies_over_one_megabyte_are_413(admin: httpx.AsyncClient, path: str) -> None:
    summary = "x" * 1_000_001
    response = await admin.post(path, json={**REPORT, "summary": summary})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "body" in response.json()["detail"]
    assert (await admin.get("/api/v1/guidelines/1.3.1/reports/history")).json()["total"] == 0


async def test_oversize_patch_is_413(admin: httpx.AsyncClient, indicator_id: int) -> None:
    response = await admin.patch(f"/api/v1/indicators/{indicator_id}", json={"name": "x" * 1_000_001})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": 1}, "role"),
        ({"role": "viewer", "label": "x" * 201}, "label"),
        ({"role": "viewer", "label": "\x00"}, "label"),
        ({"role": "viewer", "department": ""}, "department"),
        ({"role": "viewer", "revoked_at": None}, "revoked_at"),
    ],
)
async def test_bad_token_bodies(admin: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    before = (await admin.get("/api/v1/tokens")).json()["total"]
    assert_problem(await admin.post("/api/v1/tokens", json=body), field)
    assert (await admin.get("/api/v1/tokens")).json()["total"] == before


async def test_text_is_stored_exactly(admin: httpx.AsyncClient) -> None:
    summary = '絵文字🎌と"引用"と\\と改行\nと𠮷'
    response = await admin.post("/api/v1/guidelines/1.3.1/reports", json={**REPORT, "summary": summary})
    assert response.status_code == 201
    current = (await admin.get("/api/v1/guidelines/1.3.1/reports")).json()["items"][0]
    assert current["summary"] == summary


@pytest.fixture
async def indicator_id(admin: httpx.AsyncClient) -> int:
    return await create_indicator(admin)


OPENAPI = Path(__file__).parents[1] / "openapi" / "openapi.json"


def json_body_operations() -> list[tuple[str, str]]:
    """(method, path template) of every operation whose documented body is JSON."""
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


# Each is refused by the typed decoder at its first wrong type, before the syntax error further on.
NOT_JSON = [
    b"5o",
    b'{"not a field": 5, x',
    b'{"period": [1, 2}',
    b"[" * 50_000,
    b'{"a": ' * 20_000,
    b'"\\ud800',
    b'"\\ud800"',
    b'{"period": "2025-Q1", "department": "children", "reports": 5, "\\ud800": 1}',
    b'{"period": "2025-Q1", "reports": [1], "values": [{"indicator": 1, "value": 1, "note": "a\\udfffb"}]}',
]


@pytest.mark.parametrize("body", NOT_JSON)
async def test_bodies_that_are_not_json_are_400_on_every_json_operation(
    admin: httpx.AsyncClient, indicator_id: int, body: bytes
) -> None:
    operations = json_body_operations()
    assert len(operations) >= 9
    for method, template in operations:
        path = template.format(
            code="1.3.1" if "/guidelines/" in template else "2025-Q1",
            indicator_id=indicator_id,
            department="children",
        )
        response = await admin.request(method, path, content=body, headers=JSON)
        assert_problem(response, "body", 400)
    assert (await admin.get("/api/v1/guidelines/1.3.1/reports/history")).json()["total"] == 0
    assert (await admin.get(f"/api/v1/indicators/{indicator_id}/values/history")).json()["total"] == 0
