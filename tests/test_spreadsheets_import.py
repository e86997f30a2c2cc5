"""POST /api/v1/imports: a filled workbook or CSV file written like the quarterly batch, cell by cell."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from sheets import (
    REPORT_KEYS,
    VALUE_KEYS,
    csv_file,
    errors_at,
    indicator,
    load,
    patch_part,
    report_history,
    report_row,
    save,
    sheet_rows,
    upload,
    value_history,
    value_row,
    workbook,
)

if TYPE_CHECKING:
    from conftest import MakeClient

PERIOD = "2025-Q3"


@pytest.fixture
async def clerk(make_client: MakeClient) -> httpx.AsyncClient:
    """A department token of children, labelled children-clerk."""
    return await make_client("department", department="children", label="children-clerk")


async def etag(client: httpx.AsyncClient) -> str:
    response = await client.get("/api/v1/progress", params={"period": PERIOD})
    tag: str = response.headers["etag"]
    return tag


async def template(client: httpx.AsyncClient) -> Any:
    response = await client.get("/api/v1/templates/children", params={"period": PERIOD})
    assert response.status_code == 200, response.text
    return load(response.content)


def cell_of(sheet: Any, row: int, key: str) -> Any:
    header = [cell.value for cell in sheet[1]]
    return sheet.cell(row=row, column=header.index(key) + 1)


async def test_filled_template_is_written_like_a_batch(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    first = await indicator(admin, "children", "1.1.1")
    second = await indicator(admin, "children", "1.3.1")
    book = await template(clerk)
    reports, values = book["reports"], book["values"]
    cell_of(reports, 2, "status").value = "順調"
    cell_of(reports, 2, "summary").value = "保育室を2か所開設しました。"
    cell_of(reports, 3, "status").value = "delayed"
    cell_of(reports, 3, "summary").value = "'=用地の確保が遅れています"  # neutralised by a CSV export
    cell_of(values, 2, "value").value = "１，３２０"
    cell_of(values, 2, "note").value = "10月1日現在"
    cell_of(values, 3, "value").value = 7.5
    tag = await etag(clerk)

    response = await upload(clerk, save(book))
    assert response.status_code == 201, response.text
    result = response.json()
    guideline_2, guideline_3 = reports["D2"].value, reports["D3"].value
    skipped = reports.max_row - 3
    assert result == {
        "period": PERIOD,
        "department": "children",
        "dry_run": False,
        "reports": {"written": 2, "unchanged": 0, "skipped": skipped},
        "values": {"written": 2, "unchanged": 0, "skipped": 0},
        "items": [
            {
                "kind": "report",
                "sheet": "reports",
                "row": 2,
                "guideline": guideline_2,
                "status": "on_track",
                "summary": "保育室を2か所開設しました。",
                "revision": 1,
            },
            {
                "kind": "report",
                "sheet": "reports",
                "row": 3,
                "guideline": guideline_3,
                "status": "delayed",
                "summary": "=用地の確保が遅れています",
                "revision": 1,
            },
            {
                "kind": "value",
                "sheet": "values",
                "row": 2,
                "indicator": first,
                "value": 1320,
                "note": "10月1日現在",
                "revision": 1,
            },
            {
                "kind": "value",
                "sheet": "values",
                "row": 3,
                "indicator": second,
                "value": 7.5,
                "note": None,
                "revision": 1,
            },
        ],
    }
    stored = await report_history(clerk, guideline_2, PERIOD)
    assert [(r["status"], r["summary"], r["created_by"], r["department"]) for r in stored] == [
        ("on_track", "保育室を2か所開設しました。", "children-clerk", "children")
    ]
    assert [(v["value"], v["note"]) for v in await value_history(clerk, first)] == [(1320, "10月1日現在")]
    assert await etag(clerk) != tag

    # the same file again writes nothing at all: no revision, no new data version
    tag = await etag(clerk)
    again = await upload(clerk, save(book))
    assert again.status_code == 201
    assert again.json()["reports"] == {"written": 0, "unchanged": 2, "skipped": skipped}
    assert again.json()["values"] == {"written": 0, "unchanged": 2, "skipped": 0}
    assert again.json()["items"] == []
    assert len(await report_history(clerk, guideline_2, PERIOD)) == 1
    assert len(await value_history(clerk, second)) == 1
    assert await etag(clerk) == tag

    # a fresh template holds what was written; changing one cell writes exactly that row
    book = await template(clerk)
    assert cell_of(book["reports"], 3, "summary").value == "=用地の確保が遅れています"
    assert cell_of(book["reports"], 2, "status").value == "順調"
    cell_of(book["values"], 3, "note").value = "暫定値"
    changed = await upload(clerk, save(book))
    assert changed.status_code == 201
    assert changed.json()["items"] == [
        {
            "kind": "value",
            "sheet": "values",
            "row": 3,
            "indicator": second,
            "value": 7.5,
            "note": "暫定値",
            "revision": 2,
        }
    ]
    assert changed.json()["reports"]["unchanged"] == 2
    assert len(await report_history(clerk, guideline_3, PERIOD)) == 1


async def test_dry_run_answers_200_and_writes_nothing(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    first = await indicator(admin, "children", "1.1.1")
    response = await clerk.post(
        f"/api/v1/indicators/{first}/values", json={"period": PERIOD, "value": 5, "note": "前回"}
    )
    assert response.status_code == 201
    tag = await etag(clerk)
    content = workbook(
        {
            "values": [VALUE_KEYS, value_row(first, 6)],
            "reports": [REPORT_KEYS, report_row("1.1.1", "完了", "完了しました")],
        }
    )
    response = await upload(clerk, content, dry_run=True)
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True
    assert [(item["kind"], item["revision"]) for item in response.json()["items"]] == [
        ("report", 1),
        ("value", 2),
    ]
    assert len(await value_history(clerk, first)) == 1
    assert await report_history(clerk, "1.1.1", PERIOD) == []
    assert await etag(clerk) == tag
    committed = await upload(clerk, content)
    assert committed.status_code == 201
    assert [(item["kind"], item["revision"]) for item in committed.json()["items"]] == [
        ("report", 1),
        ("value", 2),
    ]


async def test_raw_bodies_and_content_types(clerk: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
    first = await indicator(admin, "children", "1.1.1")
    book = workbook({"values": [VALUE_KEYS, value_row(first, 1)]})
    response = await upload(clerk, book, raw=True)
    assert response.status_code == 201, response.text
    assert response.json()["values"]["written"] == 1
    text = csv_file([VALUE_KEYS, value_row(first, 2)])
    response = await upload(clerk, text, media_type="text/csv", raw=True)
    assert response.status_code == 201, response.text
    assert response.json()["items"][0]["sheet"] == "values"
    assert [v["value"] for v in await value_history(clerk, first)] == [1, 2]

    refused = await upload(clerk, text, media_type="application/json", raw=True)
    assert refused.status_code == 415
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == "Content-Type"
    no_file = await clerk.post("/api/v1/imports", files={"other": ("x.csv", text, "text/csv")})
    assert no_file.status_code == 400
    assert "file" in no_file.json()["detail"]


async def test_japanese_sheet_names_extra_columns_in_any_order(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    first = await indicator(admin, "children", "1.1.1")
    content = workbook(
        {
            "メモ": [["自由に書けるシート"]],
            "指標": [
                ["メモ", "note", "value", "indicator_id", "department", "period"],
                ["確認済み", "注記", 12, first, "children", PERIOD],
            ],
            "報告": [
                ["summary", "guideline", "period", "status", "department"],
                ["順調です", "1.1.1", PERIOD, "順調", "children"],
            ],
        }
    )
    response = await upload(clerk, content)
    assert response.status_code == 201, response.text
    assert [(item["kind"], item["sheet"], item["row"]) for item in response.json()["items"]] == [
        ("report", "報告", 2),
        ("value", "指標", 2),
    ]
    assert [(v["value"], v["note"]) for v in await value_history(clerk, first)] == [(12, "注記")]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1,320", 1320),
        ("１，３２０", 1320),
        ("１３２０．５", 1320.5),
        ("－５", -5),  # full-width hyphen-minus
        ("−2.5", -2.5),  # minus sign
        (" 7 ", 7),
        ("1.5e3", 1500),
        ("12,345,678.25", 12345678.25),
        (3.25, 3.25),
        (-40, -40),
    ],
)
async def test_numbers_in_text_and_numeric_cells(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient, typed: Any, stored: float
) -> None:
    first = await indicator(admin, "children", "1.1.1")
    response = await upload(clerk, workbook({"values": [VALUE_KEYS, value_row(first, typed)]}))
    assert response.status_code == 201, response.text
    assert [v["value"] for v in await value_history(clerk, first)] == [stored]


async def test_every_problem_in_the_file_is_listed_by_cell(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    ids = [await indicator(admin, "children", "1.1.1", name=f"KPI {n}") for n in range(10)]
    other = await indicator(admin, "health-center", "1.1.1")
    content = workbook(
        {
            "reports": [
                REPORT_KEYS,
                report_row("1.1.1", "done", "x"),  # row 2: unknown status
                report_row("1.3.1", "順調", None),  # row 3: summary missing
                report_row("1.1.1", "順調", "   "),  # row 4: blank summary
                report_row("9.9.9", "順調", "x"),  # row 5: unknown guideline
                report_row("1.2.2", "順調", "x" * 4001),  # row 6: summary too long
                report_row("1.3.1", None, None),  # row 7: skipped
            ],
            "values": [
                VALUE_KEYS,
                value_row(ids[0], "=1/0"),  # row 2: formula without a cached value
                value_row(ids[1], "#DIV/0!"),  # row 3: error cell
                value_row(ids[2], datetime(2025, 10, 1)),  # row 4: a date
                value_row(ids[3], "約1,300"),  # row 5: text
                value_row(ids[4], "1,32"),  # row 6: not thousands separators
                value_row(ids[5], True),  # row 7: a boolean
                value_row(ids[6], 5, "n" * 1001),  # row 8: note too long
                value_row(1.5, 5),  # row 9: not an id
                value_row(999_999, 5),  # row 10: no such indicator
                value_row(ids[7], 1),  # row 11
                value_row(ids[7], 2),  # row 12: the same indicator again
                value_row(other, 3),  # row 13: another department's indicator
                value_row(ids[8], "1e999"),  # row 14: beyond the float range
                value_row(ids[9], None, "値なしの注記"),  # row 15: skipped
            ],
        }
    )
    response = await upload(clerk, content)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problems = errors_at(response)
    assert list(problems) == [
        "reports!F2",
        "reports!G3",
        "reports!G4",
        "reports!D5",
        "reports!G6",
        "values!K2",
        "values!K3",
        "values!K4",
        "values!K5",
        "values!K6",
        "values!K7",
        "values!M8",
        "values!F9",
        "values!F10",
        "values!F12",
        "values!F13",
        "values!K14",
    ]
    assert "未着手、順調、要注意、遅延、完了" in problems["reports!F2"]
    assert problems["reports!G3"].startswith("empty")
    assert problems["reports!G4"].startswith("empty")  # white space only counts as empty
    assert problems["reports!D5"] == "no guideline with code '9.9.9'"
    assert "4000" in problems["reports!G6"]
    assert "formula" in problems["values!K2"]
    assert "#DIV/0!" in problems["values!K3"]
    assert "date" in problems["values!K4"]
    assert problems["values!K5"] == "'約1,300' is not a number"
    assert problems["values!K6"] == "'1,32' is not a number"
    assert "TRUE" in problems["values!K7"]
    assert "1000" in problems["values!M8"]
    assert "whole number" in problems["values!F9"]
    assert problems["values!F10"] == "no indicator with id 999999"
    assert "more than once" in problems["values!F12"]
    assert problems["values!F13"] == "the indicator belongs to health-center, not children"
    first = response.json()["errors"][0]
    assert first == {
        "sheet": "reports",
        "row": 2,
        "column": "F",
        "cell": "reports!F2",
        "field": "status",
        "message": problems["reports!F2"],
    }
    assert response.json()["detail"].startswith("reports!F2 status: ")
    for identifier in ids:
        assert await value_history(clerk, identifier) == []
    assert await report_history(clerk, "1.1.1", PERIOD) == []


async def test_formula_cells_give_their_cached_value_never_evaluated(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    first = await indicator(admin, "children", "1.1.1")
    content = workbook({"values": [VALUE_KEYS, value_row(first, "=1+1")]})
    cached = patch_part(
        content,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>7</v>"),
    )
    response = await upload(clerk, cached)
    assert response.status_code == 201, response.text
    assert [v["value"] for v in await value_history(clerk, first)] == [7]


async def test_rows_name_one_period_and_one_department(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    ids = [await indicator(admin, "children", "1.1.1", name=f"KPI {n}") for n in range(3)]
    content = workbook(
        {
            "values": [
                VALUE_KEYS,
                value_row(ids[0], 1),
                value_row(ids[1], 1, period="2025-Q2"),
                value_row(ids[2], None, department="health-center"),
            ]
        }
    )
    response = await upload(clerk, content)
    assert response.status_code == 422
    problems = errors_at(response)
    assert list(problems) == ["values!A3", "values!E4"]
    assert "names 2025-Q2, values!A2 names 2025-Q3" in problems["values!A3"]
    assert "names health-center, values!E2 names children" in problems["values!E4"]


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2025Q3", "not a period code like 2026-Q1"),
        ("2099-Q1", "has not started"),
        ("2009-Q1", "before the plan's first fiscal year"),
    ],
)
async def test_period_cells_follow_the_period_rules(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient, period: str, message: str
) -> None:
    first = await indicator(admin, "children", "1.1.1")
    response = await upload(clerk, workbook({"values": [VALUE_KEYS, value_row(first, 1, period=period)]}))
    assert response.status_code == 422
    assert message in errors_at(response)["values!A2"]


async def test_permission_problems_alone_are_403_with_cells(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    theirs = await indicator(admin, "health-center", "1.1.1")
    mine = await indicator(admin, "children", "1.1.1")
    foreign = workbook({"values": [VALUE_KEYS, value_row(theirs, 1, department="health-center")]})
    response = await upload(clerk, foreign)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {
            "sheet": "values",
            "row": 2,
            "column": "E",
            "cell": "values!E2",
            "field": "department",
            "message": "a token of children cannot write for health-center",
        }
    ]
    sneaked = workbook(
        {
            "values": [VALUE_KEYS, value_row(theirs, 1), value_row(mine, 2)],
            "reports": [REPORT_KEYS, report_row("2.2.2", "順調", "x")],
        }
    )
    response = await upload(clerk, sneaked)
    assert response.status_code == 403
    assert list(errors_at(response)) == ["values!F2", "reports!D2"]  # in the file's sheet order
    assert await value_history(clerk, mine) == []

    # an admin writes for the department the file names; a wrong choice there is the admin's 422
    response = await upload(admin, foreign)
    assert response.status_code == 201, response.text
    assert response.json()["department"] == "health-center"
    wrong = workbook({"reports": [REPORT_KEYS, report_row("2.2.2", "順調", "x", department="health-center")]})
    response = await upload(admin, wrong)
    assert response.status_code == 422
    assert errors_at(response) == {"reports!D2": "health-center is not responsible for guideline 2.2.2"}


async def test_viewers_cannot_upload(make_client: MakeClient) -> None:
    viewer = await make_client("viewer")
    response = await upload(viewer, workbook({"values": [VALUE_KEYS, value_row(1, 1)]}))
    assert response.status_code == 403
    assert response.json()["field"] == "Authorization"


async def test_closed_period_is_409(clerk: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
    first = await indicator(admin, "children", "1.1.1")
    assert (await admin.post(f"/api/v1/periods/{PERIOD}/close")).status_code == 200
    content = workbook({"values": [VALUE_KEYS, value_row(first, 1)]})
    for dry_run in (False, True):
        response = await upload(clerk, content, dry_run=dry_run)
        assert response.status_code == 409
        assert response.json()["field"] == "period"
    assert (await admin.post(f"/api/v1/periods/{PERIOD}/reopen")).status_code == 200
    assert (await upload(clerk, content)).status_code == 201


async def test_idempotency_key_covers_the_file_and_the_query(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    first = await indicator(admin, "children", "1.1.1")
    content = workbook({"values": [VALUE_KEYS, value_row(first, 1)]})
    key = {"Idempotency-Key": "children-2025-Q3-upload-1"}
    original = await upload(clerk, content, headers=key)
    assert original.status_code == 201
    replayed = await upload(clerk, content, raw=True, headers=key)  # the same file, sent as the raw body
    assert replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == original.json()
    assert len(await value_history(clerk, first)) == 1
    other_file = await upload(clerk, workbook({"values": [VALUE_KEYS, value_row(first, 2)]}), headers=key)
    assert other_file.status_code == 422
    assert other_file.json()["field"] == "Idempotency-Key"
    other_query = await upload(clerk, content, dry_run=True, headers=key)
    assert other_query.status_code == 422
    assert len(await value_history(clerk, first)) == 1


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("cp932", False)])
async def test_csv_in_each_encoding(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient, encoding: str, bom: bool
) -> None:
    first = await indicator(admin, "children", "1.1.1")
    values = csv_file([VALUE_KEYS, value_row(first, "1,320", "速報値（１０月１日現在）")], encoding, bom)
    response = await upload(clerk, values, "values.csv", "text/csv")
    assert response.status_code == 201, response.text
    assert [(v["value"], v["note"]) for v in await value_history(clerk, first)] == [
        (1320, "速報値（１０月１日現在）")
    ]
    reports = csv_file(
        [REPORT_KEYS, report_row("1.1.1", "要注意", "待機児童が増えています。\n対策を検討中")], encoding, bom
    )
    response = await upload(clerk, reports, "reports.csv", "text/csv")
    assert response.status_code == 201, response.text
    assert [(r["status"], r["summary"]) for r in await report_history(clerk, "1.1.1", PERIOD)] == [
        ("at_risk", "待機児童が増えています。\n対策を検討中")
    ]


async def test_csv_in_no_known_encoding_is_422_naming_the_file(clerk: httpx.AsyncClient) -> None:
    content = csv_file([VALUE_KEYS]) + b"2025-Q3,\x85\x40\r\n"  # fits neither UTF-8 nor cp932
    response = await upload(clerk, content, "四半期.csv", "text/csv")
    assert response.status_code == 422
    assert response.json()["field"] == "file"
    assert "四半期.csv" in response.json()["detail"]
    assert "Shift_JIS" in response.json()["detail"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (csv_file([VALUE_KEYS]), "no rows below the header"),
        (csv_file([["a", "b"], ["1", "2"]]), "neither the reports nor the values"),
        (b"", "empty"),
        (workbook({"Sheet1": [VALUE_KEYS]}), "no sheet named reports (報告) or values (指標)"),
        (workbook({"values": [VALUE_KEYS], "指標": [VALUE_KEYS]}), "keep one of them"),
    ],
)
async def test_files_without_usable_rows(clerk: httpx.AsyncClient, content: bytes, message: str) -> None:
    response = await upload(
        clerk, content, "quarter.xlsx" if content.startswith(b"PK") else "quarter.csv", "text/csv"
    )
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]


async def test_missing_and_repeated_column_keys(clerk: httpx.AsyncClient) -> None:
    header = [key for key in VALUE_KEYS if key != "note"] + ["value"]
    response = await upload(clerk, workbook({"values": [header, ["x"] * len(header)]}))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["cell"], e["field"]) for e in errors] == [(None, "note"), ("values!O1", "value")]
    assert errors[0]["row"] == 1
    assert errors[0]["sheet"] == "values"
    assert "no column note" in errors[0]["message"]
    assert "appears twice" in errors[1]["message"]


async def test_template_uploaded_unchanged_writes_nothing(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await indicator(admin, "children", "1.1.1")
    book = await template(clerk)
    response = await upload(clerk, save(book))
    assert response.status_code == 201, response.text
    rows = sheet_rows(book, "reports")
    assert response.json()["reports"] == {"written": 0, "unchanged": 0, "skipped": len(rows)}
    assert response.json()["values"] == {"written": 0, "unchanged": 0, "skipped": 1}


def readers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the workbook readers used from now on, in order."""
    from wlbtrack.domain.spreadsheets import reader

    used: list[str] = []

    def spy(name: str) -> Any:
        book_class = getattr(reader, name)

        def make(*args: Any) -> Any:
            used.append(name)
            return book_class(*args)

        return make

    for name in ("_CalamineBook", "_OpenpyxlBook"):
        monkeypatch.setattr(reader, name, spy(name))
    return used


@pytest.mark.parametrize("valid", [True, False])
async def test_both_workbook_readers_read_the_same_cells(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, valid: bool
) -> None:
    """Plain workbooks are read by calamine, others (here: a formula on another sheet) by openpyxl."""
    used = readers(monkeypatch)
    ids = [await indicator(admin, "children", "1.1.1", name=f"KPI {n}") for n in range(4)]
    cells: list[Any] = ["１，３２０", 2.5, -7, "'-3"] if valid else [datetime(2025, 1, 1), True, "x", ""]
    rows: list[list[Any]] = [VALUE_KEYS]
    rows += [value_row(ids[n], cell, f"注記{n}" if n % 2 else None) for n, cell in enumerate(cells)]
    rows.insert(3, [])  # an empty row in between
    reports = [REPORT_KEYS, report_row("1.1.1", "完了", "完了しました")]
    plain = await upload(clerk, workbook({"values": rows, "reports": reports}), dry_run=True)
    mixed = await upload(
        clerk, workbook({"values": rows, "reports": reports, "メモ": [["=1+1"]]}), dry_run=True
    )
    assert used == ["_CalamineBook", "_OpenpyxlBook"]
    assert plain.status_code == mixed.status_code == (200 if valid else 422)
    assert plain.json() == mixed.json()
    if valid:
        assert [item["row"] for item in plain.json()["items"]] == [2, 2, 3, 5, 6]
        assert [item.get("value") for item in plain.json()["items"]][1:] == [1320, 2.5, -7, -3]


async def test_a_workbook_laid_out_unusually_is_read_by_openpyxl(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await indicator(admin, "children", "1.1.1")
    content = workbook({"values": [VALUE_KEYS, value_row(first, 4)]})
    moved = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(moved, "w") as target:
        for item in source.infolist():
            data = source.read(item).replace(b"worksheets/sheet1.xml", b"data/values.xml")
            name = "xl/data/values.xml" if item.filename == "xl/worksheets/sheet1.xml" else item.filename
            target.writestr(name, data)
    used = readers(monkeypatch)
    response = await upload(clerk, moved.getvalue())
    assert response.status_code == 201, response.text
    assert used == ["_OpenpyxlBook"]
    assert [v["value"] for v in await value_history(clerk, first)] == [4]


async def test_text_a_sheet_cannot_hold_goes_back_and_forth(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A literal `_x0041_` (which OOXML reads as an escape) is written escaped and read back as it was, by
    both workbook readers; tab and newline stay. Other control characters are not text (lib.text)."""
    summary = "前半\t後半 _x0041_\n"
    first = await indicator(admin, "children", "1.1.1", name="名前")
    report = {"period": PERIOD, "status": "on_track", "summary": summary}
    assert (await clerk.post("/api/v1/guidelines/1.1.1/reports", json=report)).status_code == 201
    value = {"period": PERIOD, "value": 3, "note": "注記 _x005F_"}
    assert (await clerk.post(f"/api/v1/indicators/{first}/values", json=value)).status_code == 201
    book = await template(clerk)
    assert cell_of(book["reports"], 2, "summary").value == "前半\t後半 _x005F_x0041_\n"
    used = readers(monkeypatch)
    plain = await upload(clerk, save(book), dry_run=True)
    book.create_sheet("メモ")["A1"] = "=1+1"
    mixed = await upload(clerk, save(book), dry_run=True)
    assert used == ["_CalamineBook", "_OpenpyxlBook"]
    for answer in (plain, mixed):
        assert answer.status_code == 200, answer.text
        assert answer.json()["reports"]["unchanged"] == 1
        assert answer.json()["values"] == {"written": 0, "unchanged": 1, "skipped": 0}
        assert answer.json()["items"] == []
    cell_of(book["reports"], 2, "status").value = "遅延"
    changed = await upload(clerk, save(book))
    assert changed.status_code == 201, changed.text
    assert [(r["status"], r["summary"]) for r in await report_history(clerk, "1.1.1", PERIOD)] == [
        ("on_track", summary),
        ("delayed", summary),
    ]
    cell_of(book["reports"], 2, "summary").value = "前半_x001B_後半"  # ESC, as OOXML writes it
    cell_of(book["reports"], 2, "status").value = "完了"
    rejected = await upload(clerk, save(book))
    assert rejected.status_code == 422, rejected.text
    assert "summary" in rejected.text
    assert len(await report_history(clerk, "1.1.1", PERIOD)) == 2
