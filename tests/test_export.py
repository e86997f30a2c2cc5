"""Flat exports for BI tools: rows, filters, cursor pagination, CSV, and bad parameters."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from sheets import REPORT_KEYS as REPORT_FIELDS
from sheets import VALUE_KEYS as VALUE_FIELDS
from test_progress import build_fixture, report

if TYPE_CHECKING:
    from conftest import MakeClient

NUMBERS = {
    "indicator_id": int,
    "revision": int,
    "baseline": float,
    "target": float,
    "value": float,
    "attainment": float,
}


@pytest.fixture
async def fixture_data(admin: httpx.AsyncClient, make_client: MakeClient) -> dict[str, int]:
    """The hand-computed fixture of test_progress."""
    return await build_fixture(admin, make_client)


async def export(client: httpx.AsyncClient, kind: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of an export in one page."""
    response = await client.get(f"/api/v1/export/{kind}", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None
    items: list[dict[str, Any]] = body["items"]
    return items


async def test_value_rows(viewer: httpx.AsyncClient, fixture_data: dict[str, int]) -> None:
    rows = await export(viewer, "values")
    i1, i2, i3, i5 = fixture_data["i1"], fixture_data["i2"], fixture_data["i3"], fixture_data["i5"]
    # ordered by period, then guideline (plan order), then indicator
    assert [(r["period"], r["indicator_id"]) for r in rows] == [
        ("2025-Q1", i1),
        ("2025-Q1", i3),
        ("2025-Q2", i2),
        ("2025-Q2", i5),
        ("2025-Q3", i1),
        ("2025-Q3", i2),
    ]
    assert all(list(row) == VALUE_FIELDS for row in rows)
    revised = rows[3]
    assert {k: v for k, v in revised.items() if k != "updated_at"} == {
        "period": "2025-Q2",
        "campaign": "2",
        "direction": "2.2",
        "guideline": "2.2.2",
        "department": "industrial-policy",
        "indicator_id": i5,
        "indicator_name": "2.2.2 KPI",
        "unit": "件",
        "baseline": 0.0,
        "target": 4.0,
        "value": 1.0,
        "attainment": 0.25,
        "note": None,
        "revision": 2,
    }
    datetime.fromisoformat(revised["updated_at"])
    assert [r["attainment"] for r in rows] == [0.5, 0.0, 0.0, 0.25, 1.0, 0.5]
    assert rows[2]["department"] == "health-center"


async def test_report_rows(viewer: httpx.AsyncClient, fixture_data: dict[str, int]) -> None:
    rows = await export(viewer, "reports")
    assert all(list(row) == REPORT_FIELDS for row in rows)
    assert [(r["guideline"], r["department"], r["status"], r["revision"]) for r in rows] == [
        ("1.1.1", "children", "on_track", 1),
        ("1.1.1", "branch-offices", "completed", 1),
        ("1.1.1", "health-center", "delayed", 2),
        ("1.2.2", "health-center", "not_started", 1),
        ("2.2.2", "industrial-policy", "on_track", 1),
    ]
    assert rows[2]["summary"] == "1.1.1 delayed"
    assert (rows[4]["campaign"], rows[4]["direction"], rows[4]["period"]) == ("2", "2.2", "2025-Q1")


async def test_filters(viewer: httpx.AsyncClient, fixture_data: dict[str, int]) -> None:
    i2, i3, i5 = fixture_data["i2"], fixture_data["i3"], fixture_data["i5"]
    assert [r["indicator_id"] for r in await export(viewer, "values", campaign="2")] == [i5]
    by_department = await export(viewer, "values", department="health-center")
    assert [r["indicator_id"] for r in by_department] == [i3, i2, i2]
    in_range = await export(viewer, "values", **{"from": "2025-Q2", "to": "2025-Q2"})
    assert [r["indicator_id"] for r in in_range] == [i2, i5]
    assert len(await export(viewer, "values", **{"from": "2025-Q3"})) == 2
    assert len(await export(viewer, "values", to="2025-Q1")) == 2
    reports = await export(viewer, "reports", department="health-center", campaign="1")
    assert [r["guideline"] for r in reports] == ["1.1.1", "1.2.2"]
    assert await export(viewer, "reports", **{"from": "2025-Q2"}) == []


@pytest.mark.parametrize("kind", ["values", "reports"])
@pytest.mark.parametrize("limit", [1, 2, 4])
async def test_pagination_walks_every_row_once(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int], kind: str, limit: int
) -> None:
    everything = await export(viewer, kind)
    walked: list[dict[str, Any]] = []
    cursor = None
    for _ in range(len(everything) + 1):
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        body = (await viewer.get(f"/api/v1/export/{kind}", params=params)).json()
        assert len(body["items"]) <= limit
        walked.extend(body["items"])
        cursor = body["next"]
        if cursor is None:
            break
    assert walked == everything


async def test_default_page_is_one_hundred_rows(admin: httpx.AsyncClient, viewer: httpx.AsyncClient) -> None:
    for guideline, department in [("1.1.1", "children"), ("1.2.2", "health-center")]:
        for year in range(2010, 2025):
            for quarter in range(1, 5):
                await report(admin, guideline, department, f"{year}-Q{quarter}", "on_track")
    first = (await viewer.get("/api/v1/export/reports")).json()
    assert len(first["items"]) == 100
    second = (await viewer.get("/api/v1/export/reports", params={"cursor": first["next"]})).json()
    assert len(second["items"]) == 20
    assert second["next"] is None
    assert first["items"][0]["period"] == "2010-Q1"
    assert second["items"][-1]["period"] == "2024-Q4"


def parse_csv(response: httpx.Response) -> tuple[list[str], list[dict[str, Any]]]:
    """Header and typed rows of a CSV export (BOM stripped, empty cells as null)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8").removeprefix("\ufeff")
    assert not text.startswith("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    header, *records = list(reader)
    rows = []
    for record in records:
        row: dict[str, Any] = {}
        for name, cell in zip(header, record, strict=True):
            row[name] = None if cell == "" else NUMBERS.get(name, str)(cell)
        rows.append(row)
    return header, rows


def normalised(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with timestamps parsed, so that JSON and CSV spellings compare equal."""
    return [{**row, "updated_at": datetime.fromisoformat(row["updated_at"])} for row in rows]


@pytest.mark.parametrize(("kind", "fields"), [("values", VALUE_FIELDS), ("reports", REPORT_FIELDS)])
async def test_csv_equals_json(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int], kind: str, fields: list[str]
) -> None:
    response = await viewer.get(f"/api/v1/export/{kind}", params={"format": "csv"})
    assert response.headers["content-disposition"] == f'attachment; filename="wlbtrack-{kind}.csv"'
    header, rows = parse_csv(response)
    assert header == fields
    assert response.content.decode("utf-8").count("\ufeff") == 1
    assert normalised(rows) == normalised(await export(viewer, kind))
    assert len(rows) > 0


async def test_csv_streams_in_batches_with_filters(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from wlbtrack.domain.progress import export as export_module

    monkeypatch.setattr(export_module, "CSV_BATCH", 2)
    response = await viewer.get("/api/v1/export/values", params={"format": "csv"})
    header, rows = parse_csv(response)
    assert header == VALUE_FIELDS
    assert normalised(rows) == normalised(await export(viewer, "values"))
    filtered = await viewer.get(
        "/api/v1/export/values", params={"format": "csv", "department": "health-center", "to": "2025-Q2"}
    )
    _, rows = parse_csv(filtered)
    assert [(r["period"], r["indicator_id"]) for r in rows] == [
        ("2025-Q1", fixture_data["i3"]),
        ("2025-Q2", fixture_data["i2"]),
    ]


async def test_csv_keeps_japanese_text_commas_quotes_and_newlines(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient
) -> None:
    summary = '保育定員を拡充、"待機児童"ゼロ,\n次期も継続'
    body = {"period": "2025-Q1", "status": "on_track", "summary": summary, "department": "children"}
    assert (await admin.post("/api/v1/guidelines/1.3.1/reports", json=body)).status_code == 201
    _, rows = parse_csv(await viewer.get("/api/v1/export/reports", params={"format": "csv"}))
    assert [r["summary"] for r in rows] == [summary]


async def test_empty_csv_has_only_the_header(viewer: httpx.AsyncClient) -> None:
    header, rows = parse_csv(await viewer.get("/api/v1/export/values", params={"format": "csv"}))
    assert header == VALUE_FIELDS
    assert rows == []


@pytest.mark.parametrize("kind", ["values", "reports"])
@pytest.mark.parametrize(
    ("params", "statuses", "field"),
    [
        ({"format": "xml"}, {422}, "format"),
        ({"limit": 1001}, {400, 422}, "limit"),
        ({"limit": 0}, {400, 422}, "limit"),
        ({"limit": "many"}, {400, 422}, "limit"),
        ({"cursor": "not a cursor"}, {400}, "cursor"),
        ({"cursor": "not-a-cursor"}, {400}, "cursor"),
        ({"cursor": "WyJ2YWx1ZXMiXQ"}, {400}, "cursor"),
        ({"campaign": "9"}, {404, 422}, "campaign"),
        ({"department": "nowhere"}, {404, 422}, "department"),
        ({"from": "2026-Q1", "to": "2025-Q1"}, {422}, "from"),
        ({"from": "2025-Q0"}, {400, 422}, "from"),
        ({"to": "2025-q1"}, {400, 422}, "to"),
    ],
)
async def test_bad_export_parameters(
    viewer: httpx.AsyncClient, kind: str, params: dict[str, Any], statuses: set[int], field: str
) -> None:
    response = await viewer.get(f"/api/v1/export/{kind}", params=params)
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith(field)


async def test_a_cursor_of_one_export_is_refused_by_the_other(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int]
) -> None:
    cursor = (await viewer.get("/api/v1/export/values", params={"limit": 1})).json()["next"]
    assert cursor is not None
    response = await viewer.get("/api/v1/export/reports", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("cursor")


def forged(*items: Any) -> str:
    """A cursor as the export spells them (unpadded URL-safe base64 of a JSON array), with any content."""
    return base64.urlsafe_b64encode(json.dumps(list(items)).encode()).decode().rstrip("=")


def key_of(kind: str, *ints: int, name: str | None = None) -> list[Any]:
    """A cursor of `kind`'s shape (2 integers for values, 3 for reports) with these integers."""
    return [name or kind, "2025-Q1", *ints[: 2 if kind == "values" else 3]]


FORGED: dict[str, Callable[[str], str]] = {
    "2**63": lambda kind: forged(*key_of(kind, 1, 2**63, 2**63)),
    "-2**63-1": lambda kind: forged(*key_of(kind, -(2**63) - 1, 1, 1)),
    "huge": lambda kind: forged(*key_of(kind, 1, 10**40, 1)),
    "NUL in the period": lambda kind: forged(kind, "2025-Q1\x00", 1, 1, 1),
    "NUL alone": lambda kind: forged(kind, "\x00", 1, 1, 1),
    "malformed period": lambda kind: forged(kind, "2025-Q5", 1, 1, 1),
    "period before the plan": lambda kind: forged(kind, "1900-Q1", 1, 1, 1),
    "future period": lambda kind: forged(kind, "2999-Q1", 1, 1, 1),
    "wrong kind": lambda kind: forged(*key_of(kind, 1, 1, 1, name={"values": "reports"}.get(kind, "values"))),
    "unknown kind": lambda kind: forged("indicators", "2025-Q1", 1, 1, 1),
    "float": lambda kind: forged(kind, "2025-Q1", 1.5, 1, 1),
    "string for an integer": lambda kind: forged(kind, "2025-Q1", "1", 1, 1),
    "bool for an integer": lambda kind: forged(kind, "2025-Q1", True, 1, 1),
    "too short": lambda kind: forged(kind, "2025-Q1", 1),
    "too long": lambda kind: forged(kind, "2025-Q1", 1, 1, 1, 1, 1),
    "object": lambda kind: base64.urlsafe_b64encode(b'{"kind": 1}').decode(),
    "not JSON": lambda kind: base64.urlsafe_b64encode(b"[values, 2025-Q1").decode(),
    "invalid UTF-8": lambda kind: base64.urlsafe_b64encode(b'["\xff"]').decode(),
    "bad base64": lambda kind: "!!!!",
    "base64 with padding in the middle": lambda kind: "WyJ2=YWx1ZXMiXQ",
    "non-ASCII": lambda kind: "ＷｙＪ２",
    "empty": lambda kind: "",
}


@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize("kind", ["values", "reports"])
@pytest.mark.parametrize("case", FORGED)
async def test_forged_cursors_are_refused_before_any_query(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int], kind: str, fmt: str, case: str
) -> None:
    """A forged cursor is a 400 problem, never a 500 or a CSV cut off after its header."""
    cursor = FORGED[case](kind)
    response = await viewer.get(f"/api/v1/export/{kind}", params={"cursor": cursor, "format": fmt})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "cursor: not a cursor issued by this export"


@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize("kind", ["values", "reports"])
async def test_the_largest_cursor_integers_are_still_cursors(
    viewer: httpx.AsyncClient, fixture_data: dict[str, int], kind: str, fmt: str
) -> None:
    """The bounds are 64-bit, not tighter: a well-formed cursor past every row answers an empty export."""
    cursor = forged(kind, "2025-Q4", *([2**63 - 1] * (2 if kind == "values" else 3)))
    response = await viewer.get(f"/api/v1/export/{kind}", params={"cursor": cursor, "format": fmt})
    assert response.status_code == 200, response.text
    rows = parse_csv(response)[1] if fmt == "csv" else response.json()["items"]
    assert all(row["period"] > "2025-Q4" for row in rows)
