"""Reading an uploaded .xlsx workbook or CSV file into sheets of cells, refusing hostile files early.

Workbooks are read by openpyxl in read-only (streaming) mode with cached values only: formulas are never
evaluated. openpyxl parses the XML through defusedxml (entity declarations are refused). Every part's
uncompressed size is checked in the zip directory before anything is parsed, and Python's zipfile never
inflates a part beyond the size its directory entry declares (a part that does fails its CRC check), so
the directory check bounds what is actually decompressed.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import openpyxl
import openpyxl.xml
from defusedxml import DefusedXmlException
from openpyxl.utils import get_column_letter

from wlbtrack.domain.spreadsheets.cells import EMPTY, Cell, Kind, is_empty
from wlbtrack.domain.spreadsheets.schemas import (
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    REQUIRED,
    SHEET_NAMES,
    SheetKind,
)
from wlbtrack.lib.errors import ProblemError

MAX_EXPANDED_BYTES = 64_000_000  # a workbook's parts, uncompressed, together
MAX_PARTS = 1_000
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx
NOT_TEXT_MAGIC = (b"%PDF-", b"\xff\xd8\xff", b"GIF8", b"\x89PNG", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")
FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
FORMULA_CELL = Cell(Kind.FORMULA)
SNIFF_BYTES = 8192


@dataclass
class Sheet:
    """A sheet the upload reads: its kind, its name for cell references, its header and its rows."""

    kind: SheetKind
    name: str
    header: list[Cell]
    rows: Iterator[tuple[int, list[Cell]]]  # (spreadsheet row number, cells); rows without content left out


def _problem(status: int, filename: str, message: str) -> ProblemError:
    return ProblemError(status, f"file: {filename}: {message}", field="file")


def too_large(filename: str) -> ProblemError:
    """413 for a file over the size limit."""
    return _problem(413, filename, f"larger than the {MAX_FILE_BYTES // 1_000_000} MB limit")


def _width(cells: list[Cell]) -> int:
    """How many columns the row uses: up to its last cell with content."""
    for index in range(len(cells) - 1, -1, -1):
        if not is_empty(cells[index]):
            return index + 1
    return 0


def _limited(
    filename: str, sheet: str, rows: Iterator[tuple[int, list[Cell]]]
) -> Iterator[tuple[int, list[Cell]]]:
    """Rows with content, refusing more than MAX_ROWS of them or content beyond MAX_COLUMNS."""
    count = 0
    for number, cells in rows:
        width = _width(cells)
        if width == 0:
            continue
        if width > MAX_COLUMNS:
            raise _problem(
                413, filename, f"{sheet} row {number} uses {width} columns; at most {MAX_COLUMNS} are read"
            )
        count += 1
        if count > MAX_ROWS:
            raise _problem(413, filename, f"{sheet} has more than {MAX_ROWS:,} rows")
        yield number, cells


@contextmanager
def open_upload(content: bytes, filename: str) -> Iterator[list[Sheet]]:
    """The sheets of an uploaded file: 413 too large, 415 not a spreadsheet or CSV, 422 unreadable."""
    if len(content) > MAX_FILE_BYTES:
        raise too_large(filename)
    if content.startswith(ZIP_MAGIC):
        with _open_workbook(content, filename) as sheets:
            yield sheets
        return
    if content.startswith(OLE_MAGIC):
        raise _problem(
            415,
            filename,
            "a legacy .xls or password-protected workbook; save it as .xlsx (Excel ブック), no password",
        )
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _problem(422, filename, "UTF-16 text; save it as CSV UTF-8 or CSV (コンマ区切り)")
    if content.startswith(NOT_TEXT_MAGIC) or b"\x00" in content[:SNIFF_BYTES]:
        raise _problem(415, filename, "not an .xlsx workbook or a CSV file")
    yield [_csv_sheet(_decode(content, filename), filename)]


# --- CSV ----------------------------------------------------------------------------------------


def _decode(content: bytes, filename: str) -> str:
    """UTF-8 (with or without a BOM), else Shift_JIS (cp932, what Japanese Excel writes for CSV)."""
    if content.startswith(codecs.BOM_UTF8):
        try:
            return content[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _problem(
                422, filename, f"starts with a UTF-8 BOM but byte {exc.start} is not UTF-8"
            ) from exc
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp932")
    except UnicodeDecodeError as exc:
        raise _problem(
            422,
            filename,
            f"neither UTF-8 nor Shift_JIS (cp932) text (byte {exc.start} fits neither); "
            "save it as CSV UTF-8 or CSV (コンマ区切り)",
        ) from exc


def _csv_kind(header: list[Cell], filename: str) -> SheetKind:
    """Reports or values, by the header row's column keys."""
    keys = {str(cell.value).strip() for cell in header if cell.kind is Kind.TEXT}
    if {"indicator_id", "value"} <= keys:
        return "values"
    if {"guideline", "status", "summary"} <= keys:
        return "reports"
    raise _problem(
        422,
        filename,
        "the first row holds neither the reports nor the values export's column keys (reports need "
        f"{', '.join(REQUIRED['reports'])}; values need {', '.join(REQUIRED['values'])})",
    )


def _csv_sheet(text: str, filename: str) -> Sheet:
    records = csv.reader(io.StringIO(text, newline=""))

    def cells(record: list[str]) -> list[Cell]:
        return [Cell(Kind.TEXT, value) if value else EMPTY for value in record]

    try:
        first = next(records, None)
    except csv.Error as exc:
        raise _problem(422, filename, f"row 1 is not valid CSV ({exc})") from exc
    if first is None:
        raise _problem(422, filename, "the file is empty")
    header = cells(first)
    if _width(header) > MAX_COLUMNS:
        raise _problem(413, filename, f"row 1 uses {_width(header)} columns; at most {MAX_COLUMNS} are read")
    kind = _csv_kind(header, filename)

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        number = 1
        try:
            for record in records:
                number += 1
                yield number, cells(record)
        except csv.Error as exc:
            raise _problem(422, filename, f"row {number + 1} is not valid CSV ({exc})") from exc

    return Sheet(kind, kind, header, _limited(filename, kind, rows()))


# --- workbooks ----------------------------------------------------------------------------------


def _check_archive(content: bytes, filename: str) -> zipfile.ZipFile:
    """The zip archive, if it can be an .xlsx workbook whose parts stay within the size limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise _problem(415, filename, "a damaged zip archive, not an .xlsx workbook") from exc
    names = {part.filename for part in parts}
    if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
        raise _problem(
            415, filename, "a zip archive but not an .xlsx workbook; save it as .xlsx (Excel ブック)"
        )
    if len(parts) > MAX_PARTS:
        raise _problem(413, filename, f"the workbook has more than {MAX_PARTS} parts")
    expanded = sum(part.file_size for part in parts)
    if expanded > MAX_EXPANDED_BYTES:
        raise _problem(
            413,
            filename,
            f"the workbook expands to {expanded:,} bytes, more than the {MAX_EXPANDED_BYTES // 1_000_000} MB "
            "limit (a zip bomb?)",
        )
    return archive


def _has_formulas(archive: zipfile.ZipFile) -> bool:
    """Whether any worksheet holds a formula (a streamed search of the sheets' XML, never parsed here)."""
    for part in archive.infolist():
        if not (part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml")):
            continue
        tail = b""
        with archive.open(part) as stream:
            while chunk := stream.read(1 << 16):
                if FORMULA_TAG.search(tail + chunk):
                    return True
                tail = chunk[-32:]
    return False


def _unreadable(filename: str, exc: Exception) -> ProblemError:
    cause: BaseException | None = exc
    while cause is not None:  # openpyxl wraps what the XML parser raised
        if isinstance(cause, DefusedXmlException):
            return _problem(422, filename, "the workbook's XML declares entities or a DTD, which are refused")
        cause = cause.__cause__ or cause.__context__
    return _problem(422, filename, f"could not be read as an .xlsx workbook ({type(exc).__name__})")


def _cell(value: Any, data_type: str, formula: bool) -> Cell:
    """A cell of openpyxl's read-only worksheet (cached values only) as a Cell."""
    if value is None:
        return FORMULA_CELL if formula else EMPTY
    if data_type == "e":
        return Cell(Kind.ERROR, str(value))
    if isinstance(value, bool):
        return Cell(Kind.BOOL, float(value))
    if isinstance(value, int | float):
        return Cell(Kind.NUMBER, value)
    if isinstance(value, date | time | timedelta):
        return Cell(Kind.DATE, str(value))
    return Cell(Kind.TEXT, str(value))


def _worksheet_rows(
    workbook: Any, name: str, formulas: set[tuple[int, int]]
) -> Iterator[tuple[int, list[Cell]]]:
    """Every row of a sheet, numbered from 1; gaps in the file give empty rows."""
    worksheet = workbook[name]
    worksheet.reset_dimensions()  # never trust the file's <dimension>: it could claim a million columns
    for number, row in enumerate(worksheet.iter_rows(), start=1):
        yield (
            number,
            [
                _cell(cell.value, cell.data_type, (number, index) in formulas)
                for index, cell in enumerate(row, 1)
            ],
        )


def _formula_cells(content: bytes, names: list[str]) -> dict[str, set[tuple[int, int]]]:
    """(row, column) of every formula in the named sheets, read without cached values (never evaluated)."""
    found: dict[str, set[tuple[int, int]]] = {name: set() for name in names}
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    try:
        for name in names:
            for count, (number, cells) in enumerate(_worksheet_formula_rows(workbook, name), start=1):
                if count > MAX_ROWS + 1:
                    break  # the main pass refuses the file
                found[name].update((number, column) for column in cells)
    finally:
        workbook.close()
    return found


def _worksheet_formula_rows(workbook: Any, name: str) -> Iterator[tuple[int, list[int]]]:
    worksheet = workbook[name]
    worksheet.reset_dimensions()
    for number, row in enumerate(worksheet.iter_rows(), start=1):
        columns = [index for index, cell in enumerate(row[: MAX_COLUMNS + 1], 1) if cell.data_type == "f"]
        if any(cell.value is not None for cell in row):
            yield number, columns


@contextmanager
def _open_workbook(content: bytes, filename: str) -> Iterator[list[Sheet]]:
    if (
        not openpyxl.xml.DEFUSEDXML
    ):  # OPENPYXL_DEFUSEDXML=False or defusedxml missing: refuse, never parse unsafely
        raise RuntimeError(
            "openpyxl is not using defusedxml; install defusedxml and unset OPENPYXL_DEFUSEDXML"
        )
    archive = _check_archive(content, filename)
    try:
        try:
            formulas_present = _has_formulas(archive)
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except ProblemError:
            raise
        except Exception as exc:  # whatever a hostile or damaged workbook makes openpyxl raise
            raise _unreadable(filename, exc) from exc
        try:
            chosen: dict[SheetKind, str] = {}
            for name in workbook.sheetnames:
                kind = SHEET_NAMES.get(name.strip()) or SHEET_NAMES.get(name.strip().lower())
                if kind is None:
                    continue
                if kind in chosen:
                    raise _problem(
                        422,
                        filename,
                        f"sheets {chosen[kind]!r} and {name!r} both hold {kind}; keep one of them",
                    )
                if not hasattr(workbook[name], "iter_rows"):
                    raise _problem(422, filename, f"{name!r} is a chart sheet, not a worksheet")
                chosen[kind] = name
            if not chosen:
                raise _problem(
                    422,
                    filename,
                    "no sheet named reports (報告) or values (指標); "
                    f"the workbook has {', '.join(repr(n) for n in workbook.sheetnames)}",
                )
            try:
                formulas = _formula_cells(content, list(chosen.values())) if formulas_present else {}
            except Exception as exc:
                raise _unreadable(filename, exc) from exc
            sheets = []
            for kind, name in chosen.items():
                rows = _guarded(filename, _worksheet_rows(workbook, name, formulas.get(name, set())))
                first = next(rows, None)
                header = first[1] if first is not None and first[0] == 1 else []
                if _width(header) > MAX_COLUMNS:
                    raise _problem(
                        413,
                        filename,
                        f"{name} row 1 uses {_width(header)} columns; at most {MAX_COLUMNS} are read",
                    )
                sheets.append(Sheet(kind, name, header, _limited(filename, name, rows)))
            yield sheets
        finally:
            workbook.close()
    finally:
        archive.close()


def _guarded(filename: str, rows: Iterator[tuple[int, list[Cell]]]) -> Iterator[tuple[int, list[Cell]]]:
    """The rows, with whatever openpyxl raises while streaming a damaged sheet as a 422."""
    try:
        yield from rows
    except ProblemError:
        raise
    except Exception as exc:
        raise _unreadable(filename, exc) from exc


def column_letter(index: int) -> str:
    """The Excel column letter of a 1-based column index (1 → A, 11 → K)."""
    return get_column_letter(index)
