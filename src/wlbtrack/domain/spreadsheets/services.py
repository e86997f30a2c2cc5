"""A department's quarter as a workbook, and importing an upload through the batch's checks and write.

An upload is read and its cells parsed first (no database), then checked in the caller's transaction by
the batch's own rules (`check_scope`, `check_items`), then the rows that differ from the current revision
are written by the batch's write (`write_items`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.db import WriteSession
from wlbtrack.domain.auth.services import Principal
from wlbtrack.domain.catalogue.services import Catalogue
from wlbtrack.domain.periods.services import Period, PeriodRules
from wlbtrack.domain.reporting.schemas import SubmissionIn, SubmissionReport, SubmissionValue
from wlbtrack.domain.reporting.services import (
    Problems,
    ReportItem,
    ValueItem,
    Where,
    check_items,
    check_scope,
    write_items,
)
from wlbtrack.domain.spreadsheets import cells, queries
from wlbtrack.domain.spreadsheets.cells import EMPTY, Cell, CellError, Kind
from wlbtrack.domain.spreadsheets.reader import Sheet, column_letter, open_upload
from wlbtrack.domain.spreadsheets.schemas import (
    REQUIRED,
    STATUS_LABELS,
    ImportCounts,
    ImportedReport,
    ImportedValue,
    ImportResult,
    SheetKind,
)
from wlbtrack.domain.spreadsheets.workbook import template
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.validation import check_field

# Each cell the import reads: how it is parsed, and which batch field's rules it must then meet.
Rule = tuple[Callable[[Cell], Any], type[msgspec.Struct] | None, str]
RULES: dict[str, Rule] = {
    "period": (cells.period, None, "period"),
    "department": (cells.code, SubmissionIn, "department"),
    "guideline": (cells.code, SubmissionReport, "guideline"),
    "status": (cells.status, SubmissionReport, "status"),
    "summary": (cells.text, SubmissionReport, "summary"),
    "indicator_id": (cells.integer, SubmissionValue, "indicator"),
    "value": (cells.number, SubmissionValue, "value"),
    "note": (cells.text, SubmissionValue, "note"),
}


@dataclass
class Line:
    """One row of an uploaded sheet with its cells parsed; a field is missing where its cell is wrong."""

    kind: SheetKind
    sheet: str
    order: int  # the sheet's position in the file
    row: int
    columns: dict[str, int] = field(default_factory=dict)  # column key → 1-based column
    fields: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False
    valid: bool = True

    def at(self, key: str) -> Where:
        """Where the row's cell of a column key sits."""
        return _where(self.sheet, key, self.row, self.columns[key])


@dataclass
class Parsed:
    """An upload read and parsed, with the problems found in its cells."""

    lines: list[Line]
    problems: Problems


def _where(sheet: str, key: str, row: int, column: int | None) -> Where:
    if column is None:
        return Where(key, sheet=sheet, row=row)
    letter = column_letter(column)
    return Where(key, sheet=sheet, row=row, column=letter, cell=f"{sheet}!{letter}{row}")


def _header(sheet: Sheet, problems: Problems) -> dict[str, int] | None:
    """Column key → 1-based column index; None when a key the upload reads is missing."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(sheet.header, start=1):
        if cell.kind is not cells.Kind.TEXT:
            continue
        key = str(cell.value).strip()
        if key in columns:
            problems.add(
                422,
                _where(sheet.name, key, 1, index),
                Msg("the column key {key} appears twice in row 1", key=key),
            )
        columns.setdefault(key, index)
    missing = [key for key in REQUIRED[sheet.kind] if key not in columns]
    for key in missing:
        problems.add(
            422,
            _where(sheet.name, key, 1, None),
            Msg(
                "no column {key}: row 1 must hold the column keys ({keys} are read)",
                key=key,
                keys=list(REQUIRED[sheet.kind]),
            ),
        )
    return None if missing else columns


def _parsed(key: str, cell: Cell) -> tuple[Any, Msg | None]:
    """The cell's value by its column's rule and the batch field's rules, or why it is wrong."""
    parse, schema, name = RULES[key]
    try:
        value = parse(cell)
        if value is not None and schema is not None:
            value = check_field(schema, name, value)
    except CellError as exc:
        return None, exc.message
    except ProblemError as exc:
        return None, exc.message
    return value, None


REPEATED = frozenset({"period", "department", "guideline", "status"})  # few distinct values: parsed once each
Memo = dict[tuple[str, Kind, Any], tuple[Any, Msg | None]]


def _parse_cell(line: Line, key: str, cell: Cell, problems: Problems, memo: Memo) -> None:
    if key in REPEATED:
        found = memo.get((key, cell.kind, cell.value))
        if found is None:
            found = memo[key, cell.kind, cell.value] = _parsed(key, cell)
    else:
        found = _parsed(key, cell)
    value, problem = found
    if problem is not None:
        problems.add(422, line.at(key), problem)
        line.valid = False
    else:
        line.fields[key] = value


def _line(
    sheet: Sheet,
    order: int,
    columns: dict[str, int],
    row: int,
    values: list[Cell],
    problems: Problems,
    memo: Memo,
) -> Line:
    """Parse the cells the upload reads; a row left empty where it matters is skipped, not checked."""
    line = Line(sheet.kind, sheet.name, order, row, columns)
    read = {
        key: values[columns[key] - 1] if columns[key] <= len(values) else EMPTY
        for key in REQUIRED[sheet.kind]
    }
    needed: tuple[str, ...]
    if sheet.kind == "reports":
        line.skipped = cells.is_empty(read["status"]) and cells.is_empty(read["summary"])
        needed = (
            ("period", "department")
            if line.skipped
            else ("period", "department", "guideline", "status", "summary")
        )
        empty = Msg("empty; a report needs both status and summary (leave both empty to skip the row)")
    else:
        line.skipped = cells.is_empty(read["value"])
        needed = (
            ("period", "department") if line.skipped else ("period", "department", "indicator_id", "value")
        )
        empty = Msg("empty")
    for key in needed:
        if cells.is_empty(read[key]):
            problems.add(422, line.at(key), empty if key in ("status", "summary") else Msg("empty"))
            line.valid = False
        else:
            _parse_cell(line, key, read[key], problems, memo)
    if not line.skipped and sheet.kind == "values":
        _parse_cell(line, "note", read["note"], problems, memo)
        line.fields.setdefault("note", None)
    return line


def parse_upload(content: bytes, filename: str) -> Parsed:
    """Read the file and parse every row's cells (CPU only: run it off the event loop)."""
    problems = Problems()
    lines: list[Line] = []
    memo: Memo = {}
    with open_upload(content, filename) as sheets:
        for order, sheet in enumerate(sheets):
            columns = _header(sheet, problems)
            if columns is None:
                continue
            for row, values in sheet.rows:
                lines.append(_line(sheet, order, columns, row, values, problems, memo))
    return Parsed(lines, problems)


def _one(lines: list[Line], key: str, problems: Problems) -> tuple[str | None, Where | None]:
    """The one value every row gives for `key` (period, department): the first row's; others are problems."""
    named = [line for line in lines if line.fields.get(key) is not None]
    if not named:
        return None, None
    first = named[0]
    expected = first.fields[key]
    for line in named[1:]:
        if line.fields[key] != expected:
            problems.add(
                422,
                line.at(key),
                Msg(
                    "every row must name one {key}: this row names {value}, {cell} names {expected}",
                    key=key,
                    value=line.fields[key],
                    cell=first.at(key).cell,
                    expected=expected,
                ),
            )
    return expected, first.at(key)


def _sort_key(order: dict[str, int]) -> Callable[[tuple[int, Where, Msg]], tuple[int, int, int, str]]:
    def key(problem: tuple[int, Where, Msg]) -> tuple[int, int, int, str]:
        where = problem[1]
        column = where.column or ""
        return (order.get(where.sheet or "", -1), where.row or 0, len(column), column)

    return key


async def import_upload(
    session: WriteSession,
    catalogue: Catalogue,
    principal: Principal,
    periods: PeriodRules,
    parsed: Parsed,
    dry_run: bool,
) -> ImportResult:
    """Check the parsed rows as the batch does, then write those that changed (nothing with `dry_run`)."""
    problems, lines = parsed.problems, parsed.lines
    if not lines and not problems.found:
        problems.add(422, "file", Msg("the file has no rows below the header row"))
    period, period_at = _one(lines, "period", problems)
    requested, department_at = _one(lines, "department", problems)
    department = None
    if period is not None:
        department = await check_scope(
            session,
            catalogue,
            principal,
            periods,
            period,
            requested,
            problems,
            period_at,
            department_at,
        )
    written = [line for line in lines if not line.skipped and line.valid]
    reports = [
        ReportItem(
            line.fields["guideline"], line.fields["status"], line.fields["summary"], line.at("guideline")
        )
        for line in written
        if line.kind == "reports"
    ]
    values = [
        ValueItem(
            line.fields["indicator_id"], line.fields["value"], line.fields["note"], line.at("indicator_id")
        )
        for line in written
        if line.kind == "values"
    ]
    await check_items(session, catalogue, principal, department, reports, values, problems)
    problems.found.sort(key=_sort_key({line.sheet: line.order for line in lines}))
    problems.raise_any()
    assert period is not None
    assert department is not None
    return await _apply(session, catalogue, principal, period, department, lines, reports, values, dry_run)


async def _apply(
    session: WriteSession,
    catalogue: Catalogue,
    principal: Principal,
    period: str,
    department: str,
    lines: list[Line],
    reports: list[ReportItem],
    values: list[ValueItem],
    dry_run: bool,
) -> ImportResult:
    """Compare each item with its current revision; write the changed ones, or say what would be written."""
    department_id = catalogue.department_ids[department]
    heads = await queries.department_reports(session, department_id, [period])
    value_heads = await queries.current_values(session, period, [item.indicator for item in values])
    changed_reports: list[tuple[ReportItem, int]] = []
    changed_values: list[tuple[ValueItem, int]] = []
    for report in reports:
        head = heads.get((catalogue.guideline_ids[report.guideline], period))
        if head is None or (head.status, head.summary) != (report.status, report.summary):
            changed_reports.append((report, head.revision + 1 if head is not None else 1))
    for value in values:
        value_head = value_heads.get(value.indicator)
        if value_head is None or (value_head.value, value_head.note) != (value.value, value.note):
            changed_values.append((value, value_head.revision + 1 if value_head is not None else 1))
    if not dry_run and (changed_reports or changed_values):
        stored_reports, stored_values = await write_items(
            session,
            catalogue,
            principal,
            period,
            department,
            [item for item, _ in changed_reports],
            [item for item, _ in changed_values],
        )
        changed_reports = [
            (item, stored.revision) for (item, _), stored in zip(changed_reports, stored_reports, strict=True)
        ]
        changed_values = [
            (item, stored.revision) for (item, _), stored in zip(changed_values, stored_values, strict=True)
        ]
    items: list[ImportedReport | ImportedValue] = [
        ImportedReport(
            item.where.sheet or "",
            item.where.row or 0,
            item.guideline,
            item.status,
            item.summary,
            revision,
        )
        for item, revision in changed_reports
    ]
    items += [
        ImportedValue(
            item.where.sheet or "", item.where.row or 0, item.indicator, item.value, item.note, revision
        )
        for item, revision in changed_values
    ]
    skipped = Counter(line.kind for line in lines if line.skipped)
    return ImportResult(
        period=period,
        department=department,
        dry_run=dry_run,
        reports=ImportCounts(len(changed_reports), len(reports) - len(changed_reports), skipped["reports"]),
        values=ImportCounts(len(changed_values), len(values) - len(changed_values), skipped["values"]),
        items=items,
    )


# --- the template ---------------------------------------------------------------------------------


def _timestamp(value: Any) -> Any:
    """A time as the exports write it (ISO 8601, UTC); None stays None."""
    return None if value is None else msgspec.to_builtins(value)


async def template_rows(
    session: AsyncSession, catalogue: Catalogue, department: str, period: Period
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The reports and values rows of a department's workbook for the period, keyed by column key."""
    department_id = catalogue.department_ids[department]
    previous = period.previous().code
    reports = await queries.department_reports(session, department_id, [period.code, previous])
    report_rows = []
    for ref in catalogue.guidelines_of(department):
        guideline = catalogue.guidelines[ref.code]
        guideline_id = catalogue.guideline_ids[ref.code]
        current, before = reports.get((guideline_id, period.code)), reports.get((guideline_id, previous))
        report_rows.append(
            {
                "period": period.code,
                "campaign": guideline.campaign,
                "direction": guideline.direction,
                "guideline": guideline.code,
                "department": department,
                "status": STATUS_LABELS.get(current.status) if current else None,
                "summary": current.summary if current else None,
                "revision": current.revision if current else None,
                "updated_at": _timestamp(current.updated_at) if current else None,
                "guideline_text": guideline.text,
                "previous_status": STATUS_LABELS.get(before.status) if before else None,
                "previous_summary": before.summary if before else None,
            }
        )
    value_rows = []
    for row in await queries.department_indicators(session, department_id, period.code, previous):
        guideline = catalogue.guidelines[catalogue.guideline_code(row.guideline_id)]
        value_rows.append(
            {
                "period": period.code,
                "campaign": guideline.campaign,
                "direction": guideline.direction,
                "guideline": guideline.code,
                "department": department,
                "indicator_id": row.id,
                "indicator_name": row.name,
                "unit": row.unit,
                "baseline": row.baseline,
                "target": row.target,
                "value": row.value,
                "attainment": row.attainment,
                "note": row.note,
                "revision": row.revision,
                "updated_at": _timestamp(row.updated_at),
                "previous_value": row.previous_value,
            }
        )
    return report_rows, value_rows


def template_workbook(
    catalogue: Catalogue,
    department: str,
    period: Period,
    rows: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> bytes:
    """The workbook's bytes (CPU only: run it off the event loop)."""
    name = catalogue.departments[department].name
    return template(department, name, period.label_ja, *rows)
