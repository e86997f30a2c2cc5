"""Writing a department's quarter as an .xlsx workbook: sheets reports, values and 説明 (the explanation)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from wlbtrack.domain.spreadsheets.cells import xml_text
from wlbtrack.domain.spreadsheets.schemas import (
    COLUMNS,
    EDITABLE,
    EXPLANATION_SHEET,
    MAX_FILE_BYTES,
    STATUS_LABELS,
    SheetKind,
)

# Japanese hints on the header cells (glossary terms); the header cells themselves hold the column keys.
HINTS: dict[str, str] = {
    "period": "期間 (四半期)",
    "campaign": "大作戦",
    "direction": "取り組みの方向性",
    "guideline": "推進に向けた取り組みの目安 (目安)",
    "department": "担当部",
    "status": "未着手・順調・要注意・遅延・完了 から選んでください",
    "summary": "取り組み状況",
    "revision": "現在の版の番号 (変更しないでください)",
    "updated_at": "現在の版が保存された日時 (UTC)",
    "guideline_text": "目安の本文",
    "previous_status": "前の四半期の進捗報告 (未着手・順調・要注意・遅延・完了)",
    "previous_summary": "前の四半期の取り組み状況",
    "indicator_id": "指標の番号 (変更しないでください)",
    "indicator_name": "指標",
    "unit": "単位",
    "baseline": "基準値",
    "target": "目標値",
    "value": "実績値 (数値)",
    "attainment": "達成率",
    "note": "備考",
    "previous_value": "前の四半期の実績値",
}
WIDTHS: dict[str, float] = {
    "period": 10,
    "campaign": 9,
    "direction": 9,
    "guideline": 10,
    "department": 16,
    "status": 12,
    "summary": 60,
    "revision": 9,
    "updated_at": 24,
    "guideline_text": 50,
    "previous_status": 14,
    "previous_summary": 50,
    "indicator_id": 12,
    "indicator_name": 30,
    "unit": 8,
    "baseline": 11,
    "target": 11,
    "value": 12,
    "attainment": 11,
    "note": 40,
    "previous_value": 14,
}
WRAPPED = frozenset({"summary", "guideline_text", "previous_summary", "indicator_name", "note"})
NUMBER_FORMATS = {"attainment": "0.0%"}

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="BDD7EE")
READ_ONLY_FILL = PatternFill("solid", fgColor="D9D9D9")
EDITABLE_FILL = PatternFill("solid", fgColor="FFFFFF")
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
UNLOCKED = Protection(locked=False)
TOP = Alignment(vertical="top")
TOP_WRAPPED = Alignment(vertical="top", wrap_text=True)


def _sheet(worksheet: Worksheet, kind: SheetKind, rows: Sequence[Mapping[str, Any]]) -> None:
    """Header of column keys (with Japanese hints), the rows, read-only columns grey and locked."""
    columns = COLUMNS[kind]
    worksheet.append(list(columns))
    for index, key in enumerate(columns, start=1):
        cell = worksheet.cell(row=1, column=index)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = TOP
        cell.comment = Comment(HINTS[key], "wlbtrack", width=220, height=60)
        worksheet.column_dimensions[get_column_letter(index)].width = WIDTHS[key]
    for number, row in enumerate(rows, start=2):
        for index, key in enumerate(columns, start=1):
            value = row.get(key)
            if isinstance(value, str):
                value = xml_text(value)  # control characters would not fit in the sheet's XML
            cell = worksheet.cell(row=number, column=index, value=value)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # stored text is text: "=…" must never become a formula
    last = len(rows) + 1
    for index, key in enumerate(columns, start=1):
        editable = key in EDITABLE
        for (cell,) in worksheet.iter_rows(min_row=2, max_row=last, min_col=index, max_col=index):
            cell.fill = EDITABLE_FILL if editable else READ_ONLY_FILL
            cell.border = BORDER
            cell.alignment = TOP_WRAPPED if key in WRAPPED else TOP
            if editable:
                cell.protection = UNLOCKED
            if key in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[key]
    if "status" in columns and last > 1:
        status = get_column_letter(columns.index("status") + 1)
        labels = ",".join(STATUS_LABELS.values())
        validation = DataValidation(
            type="list",
            formula1=f'"{labels}"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="進捗報告",
            error=f"{'・'.join(STATUS_LABELS.values())} のいずれかを選んでください。",
            showInputMessage=True,
            promptTitle="進捗報告",
            prompt="一覧から選んでください。",
        )
        validation.add(f"{status}2:{status}{last}")
        worksheet.add_data_validation(validation)
    worksheet.freeze_panes = "A2"
    worksheet.protection.sheet = True  # no password: the lock guards against slips, not people
    worksheet.protection.formatColumns = False  # widths may still be changed
    worksheet.protection.formatRows = False


def _explanation(worksheet: Worksheet, department_name: str, department: str, period_label: str) -> None:
    """The 説明 sheet: what to fill in, the statuses and the rules of the upload, in Japanese."""
    labels = "・".join(STATUS_LABELS.values())
    lines = [
        f"■ ワーク・ライフ・バランス推進 進捗報告 — {department_name} ({department})",
        f"■ 期間: {period_label}",
        "",
        "■ 記入するところ",
        "・白いセルだけを記入します。灰色の列は読み取り専用です (変更しても取り込まれません)。",
        "・reports シート (進捗報告): 目安ごとに status 列で進捗を選び、",
        "  summary 列に取り組み状況を書きます。",
        "・values シート (指標): 指標ごとに value 列に実績値を数値で、必要なら note 列に備考を書きます。",
        "・guideline_text、previous_status、previous_summary、previous_value は",
        "  前の四半期の参考情報です。",
        "",
        "■ status 列に選べるもの",
        f"・{labels}",
        "  (未着手 not_started、順調 on_track、要注意 at_risk、遅延 delayed、完了 completed)",
        "",
        "■ 取り込みのルール",
        "・status と summary の両方が空の行、value が空の行は取り込まれません (空のままでかまいません)。",
        "・status を選んだら summary も書いてください (片方だけではエラーになります)。",
        "・現在の版と同じ内容の行は変更なしとして扱われ、何も保存されません。",
        "・数値は 1320、1,320、１，３２０ のどれでもかまいません。日付や文字は実績値になりません。",
        "・summary は 4,000 文字まで、note は 1,000 文字までです。",
        "・すべての行が同じ期間・同じ担当部でなければなりません。",
        "・ファイルに誤りがあると何も保存されず、誤りのあるセル (例: values!K7) がすべて示されます。",
        "・期間が締め切られている場合は取り込めません。",
        "",
        "■ 取り込み方",
        "・この Excel ブックを保存し、POST /api/v1/imports にファイル (file) として送ります。",
        "・dry_run=true を付けると、保存せずに結果だけを確かめられます。",
        "・CSV (コンマ区切り) や CSV UTF-8 で保存したファイルも取り込めます。",
        f"・ファイルの大きさは {MAX_FILE_BYTES // 1_000_000} MB までです。",
    ]
    worksheet.column_dimensions["A"].width = 110
    for text in lines:
        worksheet.append([text])
        cell = worksheet.cell(row=worksheet.max_row, column=1)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if text.startswith("■"):
            cell.font = HEADER_FONT


def template(
    department: str,
    department_name: str,
    period_label: str,
    reports: Sequence[Mapping[str, Any]],
    values: Sequence[Mapping[str, Any]],
) -> bytes:
    """The workbook as .xlsx bytes."""
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "reports"
    _sheet(sheet, "reports", reports)
    _sheet(workbook.create_sheet("values"), "values", values)
    _explanation(workbook.create_sheet(EXPLANATION_SHEET), department_name, department, period_label)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
