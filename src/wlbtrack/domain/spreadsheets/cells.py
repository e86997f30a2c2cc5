"""What a spreadsheet cell may hold, and how a cell becomes a period, code, status, text or number."""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from dataclasses import dataclass

from wlbtrack.domain.periods.services import Period, PeriodError
from wlbtrack.domain.progress.schemas import from_csv_text
from wlbtrack.domain.spreadsheets.schemas import STATUS_LABELS
from wlbtrack.lib.i18n import Msg


class Kind(enum.Enum):
    """What a cell holds, as the file says (a CSV cell is always text)."""

    EMPTY = "empty"
    TEXT = "text"
    NUMBER = "number"
    BOOL = "bool"
    DATE = "date"
    ERROR = "error"  # an error value such as #DIV/0!
    FORMULA = "formula"  # a formula without a cached value: never evaluated here


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell's content."""

    kind: Kind
    value: str | float | None = None


EMPTY = Cell(Kind.EMPTY)


class CellError(ValueError):
    """The cell's content is not what its column needs; `message` says why."""

    def __init__(self, message: Msg) -> None:
        super().__init__(str(message))
        self.message = message


STATUS_CODES = {
    **{code: code for code in STATUS_LABELS},
    **{label: code for code, label in STATUS_LABELS.items()},
}
_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2010": "-", "\u2011": "-"})
# OOXML text: characters XML 1.0 cannot hold are stored as _xHHHH_, and a literal _xHHHH_ as _x005F_xHHHH_
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LITERAL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def xml_text(value: str) -> str:
    """Text as a workbook stores it (OOXML escaping), which Excel and calamine show as the original text."""
    escaped = _LITERAL_ESCAPE.sub("_x005F_", value)
    return _NOT_IN_XML.sub(lambda match: f"_x{ord(match[0]):04X}_", escaped)


def from_xml_text(value: str) -> str:
    """The text a workbook stores with OOXML escaping (as openpyxl returns it), decoded as Excel does."""
    return _ESCAPED.sub(lambda match: chr(int(match[1], 16)), value) if "_x" in value else value


def is_empty(cell: Cell) -> bool:
    """Nothing in the cell, or only white space."""
    return cell.kind is Kind.EMPTY or (cell.kind is Kind.TEXT and not str(cell.value).strip())


def _filled(cell: Cell, wanted: Msg) -> bool:
    """False for an empty cell; a CellError for one that can hold no usable content, whatever its column."""
    if is_empty(cell):
        return False
    if cell.kind is Kind.FORMULA:
        raise CellError(
            Msg("a formula without a calculated value; open the file in Excel, save it, and upload it again")
        )
    if cell.kind is Kind.ERROR:
        raise CellError(
            Msg("the cell holds the error {error}; enter {wanted}", error=cell.value, wanted=wanted)
        )
    if cell.kind is Kind.DATE:
        raise CellError(Msg("a date where {wanted} belongs", wanted=wanted))
    if cell.kind is Kind.BOOL:
        raise CellError(
            Msg("{value} where {wanted} belongs", value="TRUE" if cell.value else "FALSE", wanted=wanted)
        )
    return True


def text(cell: Cell) -> str | None:
    """Text as entered, without the CSV export's formula escaping (one leading ' removed); None if empty."""
    if not _filled(cell, Msg("text")):
        return None
    if cell.kind is Kind.NUMBER:
        number = float(cell.value or 0)
        return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)
    return from_csv_text(str(cell.value)).replace("\r\n", "\n")


def code(cell: Cell) -> str | None:
    """A code (period, department, guideline): text without surrounding white space."""
    value = text(cell)
    return None if value is None else value.strip()


@functools.lru_cache(maxsize=64)
def _period_code(value: str) -> str:
    return Period.parse(value).code


def period(cell: Cell) -> str | None:
    """A period code such as 2026-Q1."""
    value = code(cell)
    if value is None:
        return None
    try:
        return _period_code(value)
    except PeriodError as exc:
        raise CellError(exc.message) from exc


def status(cell: Cell) -> str | None:
    """A status code, from the code itself or its Japanese label (未着手, 順調, 要注意, 遅延, 完了)."""
    value = code(cell)
    if value is None:
        return None
    found = STATUS_CODES.get(value) or STATUS_CODES.get(value.lower())
    if found is None:
        raise CellError(
            Msg(
                "{value!r} is not a status; use one of {labels} (or {codes})",
                value=value,
                labels="、".join(STATUS_LABELS.values()),
                codes=list(STATUS_LABELS),
            )
        )
    return found


def _normalised(value: str) -> str:
    """Full-width digits, signs and separators as ASCII, surrounding white space removed."""
    return unicodedata.normalize("NFKC", value).translate(_MINUS_SIGNS).strip()


def number(cell: Cell) -> float | None:
    """A number: a numeric cell, or text such as 1320, 1,320, １，３２０, －5 or 1.5e3; None if empty."""
    if not _filled(cell, Msg("a number")):
        return None
    if cell.kind is Kind.NUMBER:
        return float(cell.value or 0)
    raw = str(cell.value)
    value = _normalised(raw)
    if value.startswith("'") and value[1:2] in ("-", "+"):
        value = value[1:]
    if _PLAIN.fullmatch(value):
        return float(value)
    if _GROUPED.fullmatch(value):
        return float(value.replace(",", ""))
    raise CellError(Msg("{value!r} is not a number", value=raw.strip()))


def integer(cell: Cell) -> int | None:
    """A whole number such as an indicator id: a numeric cell without a fraction, or digits; None if empty."""
    if not _filled(cell, Msg("a whole number")):
        return None
    if cell.kind is Kind.NUMBER:
        value = float(cell.value or 0)
        if not value.is_integer():
            raise CellError(Msg("{value!r} is not a whole number", value=value))
        return int(value)
    raw = str(cell.value)
    normalised = _normalised(raw)
    if not _INTEGER.fullmatch(normalised):
        raise CellError(Msg("{value!r} is not a whole number", value=raw.strip()))
    return int(normalised)
