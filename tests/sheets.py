"""Helpers for the spreadsheet tests: workbooks and CSV files made here, uploads, and what is stored."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
import openpyxl

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_KEYS = [
    "period",
    "campaign",
    "direction",
    "guideline",
    "department",
    "status",
    "summary",
    "revision",
    "updated_at",
]
VALUE_KEYS = [
    "period",
    "campaign",
    "direction",
    "guideline",
    "department",
    "indicator_id",
    "indicator_name",
    "unit",
    "baseline",
    "target",
    "value",
    "attainment",
    "note",
    "revision",
    "updated_at",
]


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    """An .xlsx file written by openpyxl with these sheets and rows (row 1 first)."""
    book = openpyxl.Workbook()
    default = book.active
    assert default is not None
    book.remove(default)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def load(content: bytes) -> openpyxl.Workbook:
    """A downloaded workbook, opened fully (styles, validation, protection)."""
    return openpyxl.load_workbook(io.BytesIO(content))


def sheet_rows(book: openpyxl.Workbook, name: str) -> list[dict[str, Any]]:
    """The rows of a sheet below its header, keyed by the header's column keys."""
    rows = list(book[name].iter_rows(values_only=True))
    header = [str(key) for key in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def save(book: openpyxl.Workbook) -> bytes:
    """A workbook edited by a test, as .xlsx bytes."""
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_file(rows: list[list[Any]], encoding: str = "utf-8", bom: bool = False) -> bytes:
    """A CSV file in the given encoding (cp932 is what Japanese Excel writes for CSV (コンマ区切り))."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if bom else "").encode("utf-8") + buffer.getvalue().encode(encoding)


async def upload(
    client: httpx.AsyncClient,
    content: bytes,
    filename: str = "quarter.xlsx",
    media_type: str = XLSX,
    *,
    raw: bool = False,
    dry_run: bool = False,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST /api/v1/imports: the file as multipart field `file`, or as the raw body."""
    params = {"dry_run": "true"} if dry_run else {}
    if raw:
        return await client.post(
            "/api/v1/imports",
            content=content,
            params=params,
            headers={"Content-Type": media_type, **(headers or {})},
        )
    return await client.post(
        "/api/v1/imports", files={"file": (filename, content, media_type)}, params=params, headers=headers
    )


async def indicator(
    admin: httpx.AsyncClient,
    department: str,
    guideline: str,
    name: str = "KPI",
    baseline: float = 0,
    target: float = 100,
) -> int:
    """Create an indicator through the API; its id."""
    response = await admin.post(
        f"/api/v1/guidelines/{guideline}/indicators",
        json={"name": name, "unit": "件", "baseline": baseline, "target": target, "department": department},
    )
    assert response.status_code == 201, response.text
    identifier: int = response.json()["id"]
    return identifier


async def report_history(client: httpx.AsyncClient, guideline: str, period: str) -> list[dict[str, Any]]:
    """Every stored revision of the reports on a guideline for a period."""
    response = await client.get(f"/api/v1/guidelines/{guideline}/reports/history", params={"period": period})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def value_history(client: httpx.AsyncClient, indicator_id: int) -> list[dict[str, Any]]:
    """Every stored revision of an indicator's values."""
    response = await client.get(f"/api/v1/indicators/{indicator_id}/values/history")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def errors_at(response: httpx.Response) -> dict[str, str]:
    """The problem's errors by cell reference (or field, for errors outside cells)."""
    return {error["cell"] or error["field"]: error["message"] for error in response.json()["errors"]}


def value_row(
    indicator_id: Any, value: Any, note: Any = None, period: str = "2025-Q3", department: str = "children"
) -> list[Any]:
    """A row of the values sheet or export (read-only columns filled as a template has them)."""
    row: dict[str, Any] = {
        "period": period,
        "campaign": "1",
        "direction": "1.1",
        "guideline": "1.1.1",
        "department": department,
        "indicator_id": indicator_id,
        "indicator_name": "KPI",
        "unit": "件",
        "baseline": 0,
        "target": 100,
        "value": value,
        "note": note,
    }
    return [row.get(key) for key in VALUE_KEYS]


def report_row(
    guideline: str, status: Any, summary: Any, period: str = "2025-Q3", department: str = "children"
) -> list[Any]:
    """A row of the reports sheet or export."""
    row = {
        "period": period,
        "guideline": guideline,
        "department": department,
        "status": status,
        "summary": summary,
    }
    return [row.get(key) for key in REPORT_KEYS]


def patch_part(content: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    """The .xlsx with one part's XML changed, as another program (or an attacker) might write it."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item.filename, change(data) if item.filename == part else data)
    return out.getvalue()
