"""Column keys, sheet names and status labels of the spreadsheets, and the import API's bodies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import msgspec

from wlbtrack.domain.progress.schemas import ReportRow, ValueRow
from wlbtrack.domain.reporting.schemas import ReportStatus

SheetKind = Literal["reports", "values"]

# The published column keys: the exports' columns, then helper columns.
REPORT_COLUMNS: tuple[str, ...] = (
    *ReportRow.__struct_fields__,
    "guideline_text",
    "previous_status",
    "previous_summary",
)
VALUE_COLUMNS: tuple[str, ...] = (*ValueRow.__struct_fields__, "previous_value")
COLUMNS: dict[SheetKind, tuple[str, ...]] = {"reports": REPORT_COLUMNS, "values": VALUE_COLUMNS}
EDITABLE = frozenset({"status", "summary", "value", "note"})
# The columns an upload reads; every other column is ignored.
REQUIRED: dict[SheetKind, tuple[str, ...]] = {
    "reports": ("period", "department", "guideline", "status", "summary"),
    "values": ("period", "department", "indicator_id", "value", "note"),
}

EXPLANATION_SHEET = "説明"
SHEET_NAMES: dict[str, SheetKind] = {
    "reports": "reports",
    "報告": "reports",
    "values": "values",
    "指標": "values",
}

STATUS_LABELS: dict[str, str] = {
    "not_started": "未着手",
    "on_track": "順調",
    "at_risk": "要注意",
    "delayed": "遅延",
    "completed": "完了",
}

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"
MAX_FILE_BYTES = 5_000_000
MAX_ROWS = 20_000
MAX_COLUMNS = 100


@dataclass(frozen=True)
class Upload:
    """An uploaded file: its bytes, and its name for messages."""

    content: bytes
    filename: str


class ImportFingerprint(msgspec.Struct):
    """What makes two uploads the same request for Idempotency-Key: the file's bytes and the query."""

    sha256: str
    query: list[tuple[str, str]]


class ImportCounts(msgspec.Struct):
    """Rows of one kind: written (or that would be), equal to the current revision, and left empty."""

    written: int = 0
    unchanged: int = 0
    skipped: int = 0


class ImportedReport(msgspec.Struct, tag_field="kind", tag="report"):
    """A report row written by the upload, with its new revision (or the one it would get)."""

    sheet: str
    row: int
    guideline: str
    status: ReportStatus
    summary: str
    revision: int


class ImportedValue(msgspec.Struct, tag_field="kind", tag="value"):
    """A value row written by the upload, with its new revision (or the one it would get)."""

    sheet: str
    row: int
    indicator: int
    value: float
    note: str | None
    revision: int


class ImportResult(msgspec.Struct):
    """What an upload wrote (or, with dry_run, would write)."""

    period: str
    department: str
    dry_run: bool
    reports: ImportCounts
    values: ImportCounts
    items: list[ImportedReport | ImportedValue]
