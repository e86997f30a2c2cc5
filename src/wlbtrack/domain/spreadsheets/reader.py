"""Reading an uploaded .xlsx workbook or CSV file into sheets of cells, refusing hostile files early.

Every part's uncompressed size is checked in the zip directory before anything is read; parts are then
inflated 64 KB at a time, and Python's zipfile never returns more of a part than its directory entry
declares (a part that holds more fails its CRC check), so the directory check bounds what is actually
decompressed. Then the raw XML of every part is searched (never parsed) once: a DTD or entity
declaration anywhere is refused, and a workbook laid out as Excel lays it out, whose sheets hold only
values (no formula, no error cell) with every cell referenced within the row and column limits, is
read by calamine (Rust, `python-calamine`), about 25 times faster than openpyxl. Any other workbook is
read by openpyxl in read-only (streaming) mode with cached values only, parsing its XML through
defusedxml; it tells formulas without a cached value and error cells apart, and enforces the limits
while streaming. Formulas are never evaluated.
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
from defusedxml import ElementTree as DefusedElementTree
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook, SheetTypeEnum

from wlbtrack.domain.spreadsheets.cells import EMPTY, Cell, Kind, from_xml_text, is_empty
from wlbtrack.domain.spreadsheets.schemas import (
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    REQUIRED,
    SHEET_NAMES,
    SheetKind,
)
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg

MAX_EXPANDED_BYTES = 64_000_000  # a workbook's parts, uncompressed, together
MAX_PARTS = 1_000
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx
NOT_TEXT_MAGIC = (b"%PDF-", b"\xff\xd8\xff", b"GIF8", b"\x89PNG", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")
DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
FORMULA_TAGS = (b"<f>", b"<f ", b"<f/")
ERROR_CELLS = (b't="e"', b"t='e'")
PREFIXED_CELL_OR_FORMULA = re.compile(rb"<[A-Za-z_][\w.-]*:[cf][\s/>]")
# a cell reference beyond column CV (MAX_COLUMNS) or row 20,001 (a header and MAX_ROWS rows)
assert (MAX_COLUMNS, MAX_ROWS) == (100, 20_000), "BEYOND_LIMITS spells out these limits"
BEYOND_LIMITS = re.compile(
    rb'<c r="(?:[A-Z]{3}|C[W-Z]|[D-Z][A-Z])[0-9]'
    rb'|<c r="[A-Z]{1,3}(?:[0-9]{6,}|2000[2-9]|200[1-9][0-9]|20[1-9][0-9]{2}|2[1-9][0-9]{3}|[3-9][0-9]{4})"'
)
READ_PIECE = 1 << 16
BINARY_PARTS = (".bin", ".png", ".jpeg", ".jpg", ".gif", ".emf", ".wmf")
FORMULA_CELL = Cell(Kind.FORMULA)
SNIFF_BYTES = 8192


@dataclass
class Sheet:
    """A sheet the upload reads: its kind, its name for cell references, its header and its rows."""

    kind: SheetKind
    name: str
    header: list[Cell]
    rows: Iterator[tuple[int, list[Cell]]]  # (spreadsheet row number, cells); rows without content left out


def _problem(status: int, filename: str | Msg, message: Msg) -> ProblemError:
    return ProblemError(
        status, Msg("{filename}: {problem}", filename=filename, problem=message), field="file"
    )


def too_large(filename: str | Msg) -> ProblemError:
    """413 for a file over the size limit."""
    return _problem(413, filename, Msg("larger than the {limit} MB limit", limit=MAX_FILE_BYTES // 1_000_000))


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
                413,
                filename,
                Msg(
                    "{sheet} row {row} uses {width} columns; at most {max} are read",
                    sheet=sheet,
                    row=number,
                    width=width,
                    max=MAX_COLUMNS,
                ),
            )
        count += 1
        if count > MAX_ROWS:
            raise _problem(
                413, filename, Msg("{sheet} has more than {max:,} rows", sheet=sheet, max=MAX_ROWS)
            )
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
            Msg("a legacy .xls or password-protected workbook; save it as .xlsx (Excel ブック), no password"),
        )
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _problem(422, filename, Msg("UTF-16 text; save it as CSV UTF-8 or CSV (コンマ区切り)"))
    if content.startswith(NOT_TEXT_MAGIC) or b"\x00" in content[:SNIFF_BYTES]:
        raise _problem(415, filename, Msg("not an .xlsx workbook or a CSV file"))
    yield [_csv_sheet(_decode(content, filename), filename)]


# --- CSV ----------------------------------------------------------------------------------------


def _decode(content: bytes, filename: str) -> str:
    """UTF-8 (with or without a BOM), else Shift_JIS (cp932, what Japanese Excel writes for CSV)."""
    if content.startswith(codecs.BOM_UTF8):
        try:
            return content[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _problem(
                422, filename, Msg("starts with a UTF-8 BOM but byte {byte} is not UTF-8", byte=exc.start)
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
            Msg(
                "neither UTF-8 nor Shift_JIS (cp932) text (byte {byte} fits neither); "
                "save it as CSV UTF-8 or CSV (コンマ区切り)",
                byte=exc.start,
            ),
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
        Msg(
            "the first row holds neither the reports nor the values export's column keys (reports need "
            "{reports}; values need {values})",
            reports=list(REQUIRED["reports"]),
            values=list(REQUIRED["values"]),
        ),
    )


def _csv_sheet(text: str, filename: str) -> Sheet:
    records = csv.reader(io.StringIO(text, newline=""))

    def cells(record: list[str]) -> list[Cell]:
        return [Cell(Kind.TEXT, value) if value else EMPTY for value in record]

    try:
        first = next(records, None)
    except csv.Error as exc:
        raise _problem(
            422, filename, Msg("row {row} is not valid CSV ({reason})", row=1, reason=str(exc))
        ) from exc
    if first is None:
        raise _problem(422, filename, Msg("the file is empty"))
    header = cells(first)
    if _width(header) > MAX_COLUMNS:
        message = Msg(
            "row 1 uses {width} columns; at most {max} are read", width=_width(header), max=MAX_COLUMNS
        )
        raise _problem(413, filename, message)
    kind = _csv_kind(header, filename)

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        number = 1
        try:
            for record in records:
                number += 1
                yield number, cells(record)
        except csv.Error as exc:
            raise _problem(
                422, filename, Msg("row {row} is not valid CSV ({reason})", row=number + 1, reason=str(exc))
            ) from exc

    return Sheet(kind, kind, header, _limited(filename, kind, rows()))


# --- workbooks ----------------------------------------------------------------------------------


def _check_archive(content: bytes, filename: str) -> zipfile.ZipFile:
    """The zip archive, if it can be an .xlsx workbook whose parts stay within the size limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise _problem(415, filename, Msg("a damaged zip archive, not an .xlsx workbook")) from exc
    names = {part.filename for part in parts}
    if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
        raise _problem(
            415, filename, Msg("a zip archive but not an .xlsx workbook; save it as .xlsx (Excel ブック)")
        )
    if len(parts) > MAX_PARTS:
        raise _problem(413, filename, Msg("the workbook has more than {max} parts", max=MAX_PARTS))
    expanded = sum(part.file_size for part in parts)
    if expanded > MAX_EXPANDED_BYTES:
        raise _problem(
            413,
            filename,
            Msg(
                "the workbook expands to {size:,} bytes, more than the {limit} MB limit (a zip bomb?)",
                size=expanded,
                limit=MAX_EXPANDED_BYTES // 1_000_000,
            ),
        )
    return archive


@dataclass(frozen=True)
class Scan:
    """What the raw XML of a workbook's sheets holds."""

    formulas: bool  # some sheet holds a formula
    plain: bool  # no formula or error cell, every cell referenced (r="K7") within the limits


def _has_formula(xml: bytes) -> bool:
    return any(tag in xml for tag in FORMULA_TAGS) or PREFIXED_CELL_OR_FORMULA.search(xml) is not None


def _plain_sheet(xml: bytes) -> bool:
    """No formula or error cell, and every cell written `<c r="K7"` within the row and column limits.

    Anything unusual (a prefixed element, a reference not first or missing) makes it not plain: such a
    sheet is read by openpyxl, which enforces the limits while streaming.
    """
    if _has_formula(xml) or any(error in xml for error in ERROR_CELLS):
        return False
    cells = xml.count(b"<c ") + xml.count(b"<c>") + xml.count(b"<c/")
    return cells == xml.count(b'<c r="') and BEYOND_LIMITS.search(xml) is None


def _read_part(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> bytes:
    """A part, inflated a piece at a time: zipfile then holds at most one piece more than it returns."""
    pieces = []
    with archive.open(part) as stream:
        while piece := stream.read(READ_PIECE):
            pieces.append(piece)
    return b"".join(pieces)


def _worksheet_parts(archive: zipfile.ZipFile, names: set[str]) -> set[str] | None:
    """The parts holding the worksheets, if the workbook is laid out as Excel lays it out (else None)."""
    try:
        package = DefusedElementTree.fromstring(_read_part(archive, archive.getinfo("_rels/.rels")))
        relations = DefusedElementTree.fromstring(
            _read_part(archive, archive.getinfo("xl/_rels/workbook.xml.rels"))
        )
    except KeyError:
        return None
    documents = {
        r.get("Target", "").lstrip("/") for r in package if r.get("Type", "").endswith("/officeDocument")
    }
    if documents != {"xl/workbook.xml"}:
        return None
    parts = set()
    for relation in relations:
        if relation.get("Type", "").endswith("/worksheet"):
            target = relation.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            if not (part.startswith("xl/worksheets/") and part.endswith(".xml") and part in names):
                return None
            parts.add(part)
    return parts


def _scan(archive: zipfile.ZipFile, filename: str) -> Scan:
    """Search every part but images and binaries: 422 for a DTD or entity declaration; what the sheets hold.

    The workbook is plain only when its worksheets are where Excel puts them and each is a plain sheet.
    """
    formulas, plain = False, True
    parts = archive.infolist()
    for part in parts:
        if part.filename.startswith("xl/media/") or part.filename.endswith(BINARY_PARTS):
            continue
        xml = _read_part(archive, part)
        if DECLARATION.search(xml):
            raise _problem(
                422, filename, Msg("the workbook's XML declares entities or a DTD, which are refused")
            )
        if part.filename.startswith("xl/worksheets/"):
            formulas = formulas or _has_formula(xml)
            plain = plain and _plain_sheet(xml)
    worksheets = _worksheet_parts(archive, {part.filename for part in parts})
    return Scan(formulas, plain and worksheets is not None)


def _unreadable(filename: str, exc: Exception) -> ProblemError:
    cause: BaseException | None = exc
    while cause is not None:  # openpyxl wraps what the XML parser raised
        if isinstance(cause, DefusedXmlException):
            return _problem(
                422, filename, Msg("the workbook's XML declares entities or a DTD, which are refused")
            )
        cause = cause.__cause__ or cause.__context__
    return _problem(
        422, filename, Msg("could not be read as an .xlsx workbook ({reason})", reason=type(exc).__name__)
    )


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
    return Cell(Kind.TEXT, from_xml_text(str(value)))  # calamine decodes _xHHHH_ itself


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


class _CalamineBook:
    """A workbook of plain values, read by calamine (the whole sheet at once, within the checked limits)."""

    def __init__(self, content: bytes) -> None:
        self.book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        self.names: list[str] = list(self.book.sheet_names)
        self.worksheets = {m.name for m in self.book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet}

    def rows(self, name: str) -> Iterator[tuple[int, list[Cell]]]:
        sheet = self.book.get_sheet_by_name(name)
        if sheet.start is None:
            return
        first_row, first_column = sheet.start  # calamine leaves out the empty rows and columns before data
        padding = [EMPTY] * first_column
        for offset, values in enumerate(sheet.iter_rows()):
            yield first_row + offset + 1, padding + [_calamine_cell(value) for value in values]

    def close(self) -> None:
        self.book.close()


def _calamine_cell(value: Any) -> Cell:
    if isinstance(value, str):
        return Cell(Kind.TEXT, value) if value else EMPTY
    if isinstance(value, bool):
        return Cell(Kind.BOOL, float(value))
    if isinstance(value, int | float):
        return Cell(Kind.NUMBER, value)
    return Cell(Kind.DATE, str(value))  # date, datetime, time, timedelta


class _OpenpyxlBook:
    """Any other workbook, streamed by openpyxl (defusedxml), formulas without a cached value found."""

    def __init__(self, content: bytes, formulas: bool) -> None:
        self.content = content
        self.formulas = formulas
        self.book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        self.names = list(self.book.sheetnames)
        self.worksheets = {name for name in self.names if hasattr(self.book[name], "iter_rows")}

    def rows(self, name: str) -> Iterator[tuple[int, list[Cell]]]:
        formulas = _formula_cells(self.content, [name])[name] if self.formulas else set()
        yield from _worksheet_rows(self.book, name, formulas)

    def close(self) -> None:
        self.book.close()


def _choose(book: _CalamineBook | _OpenpyxlBook, filename: str) -> dict[SheetKind, str]:
    """The sheets the upload reads, by kind: named reports or 報告, values or 指標."""
    chosen: dict[SheetKind, str] = {}
    for name in book.names:
        kind = SHEET_NAMES.get(name.strip()) or SHEET_NAMES.get(name.strip().lower())
        if kind is None:
            continue
        if kind in chosen:
            raise _problem(
                422,
                filename,
                Msg(
                    "sheets {first!r} and {second!r} both hold {kind}; keep one of them",
                    first=chosen[kind],
                    second=name,
                    kind=kind,
                ),
            )
        if name not in book.worksheets:
            raise _problem(422, filename, Msg("{name!r} is a chart sheet, not a worksheet", name=name))
        chosen[kind] = name
    if not chosen:
        raise _problem(
            422,
            filename,
            Msg(
                "no sheet named reports (報告) or values (指標); the workbook has {names}",
                names=[repr(n) for n in book.names],
            ),
        )
    return chosen


@contextmanager
def _open_workbook(content: bytes, filename: str) -> Iterator[list[Sheet]]:
    if not openpyxl.xml.DEFUSEDXML:  # OPENPYXL_DEFUSEDXML=False or no defusedxml: never parse unsafely
        raise RuntimeError(
            "openpyxl is not using defusedxml; install defusedxml and unset OPENPYXL_DEFUSEDXML"
        )
    archive = _check_archive(content, filename)
    try:
        try:
            scan = _scan(archive, filename)
            book = _CalamineBook(content) if scan.plain else _OpenpyxlBook(content, scan.formulas)
        except ProblemError:
            raise
        except Exception as exc:  # whatever a hostile or damaged workbook makes a reader raise
            raise _unreadable(filename, exc) from exc
        try:
            sheets = []
            for kind, name in _choose(book, filename).items():
                rows = _guarded(filename, book.rows(name))
                first = next(rows, None)
                header = first[1] if first is not None and first[0] == 1 else []
                if _width(header) > MAX_COLUMNS:
                    raise _problem(
                        413,
                        filename,
                        Msg(
                            "{sheet} row {row} uses {width} columns; at most {max} are read",
                            sheet=name,
                            row=1,
                            width=_width(header),
                            max=MAX_COLUMNS,
                        ),
                    )
                sheets.append(Sheet(kind, name, header, _limited(filename, name, rows)))
            yield sheets
        finally:
            book.close()
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
