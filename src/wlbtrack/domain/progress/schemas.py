"""Query parameters and response schemas of the progress and export API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar.params import QueryParameter

from wlbtrack.domain.periods.schemas import PERIOD_PATTERN

EXPORT_FORMATS = ("json", "csv")
# CSV formula escaping (OWASP): a text cell starting with one of these gets a leading ' in CSV output,
# and so does one starting with ' itself, so that an upload can remove exactly one ' and get the text back
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPED_START = (*FORMULA_START, "'")


def csv_text(text: str) -> str:
    """Text as a CSV export writes it: formula-safe for Excel (a leading ' before ESCAPED_START)."""
    return "'" + text if text.startswith(ESCAPED_START) else text


def from_csv_text(text: str) -> str:
    """The text a CSV export's cell stands for: `csv_text` reversed (one leading ' removed)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(ESCAPED_START) else text


PeriodParam = Annotated[
    str | None,
    QueryParameter(
        pattern=PERIOD_PATTERN,
        description="Fiscal quarter, e.g. 2026-Q1; default: the quarter containing today (Asia/Tokyo)",
    ),
]
FromParam = Annotated[
    str | None, QueryParameter(name="from", pattern=PERIOD_PATTERN, description="First period, inclusive")
]
ToParam = Annotated[
    str | None, QueryParameter(name="to", pattern=PERIOD_PATTERN, description="Last period, inclusive")
]
FormatParam = Annotated[
    str,
    QueryParameter(
        description="`json` (cursor-paginated pages) or `csv` (every row, streamed, UTF-8 with a BOM)",
        schema_extra={"enum": list(EXPORT_FORMATS)},
    ),
]
LimitParam = Annotated[int, QueryParameter(ge=1, le=1000, description="Rows per JSON page (at most 1000)")]
# A cursor is opaque: URL-safe base64 without padding. Any cursor the export did not issue is a 400, whether
# of this form or not: no schema can tell a client which cursors were issued.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"
CursorParam = Annotated[
    str | None,
    QueryParameter(
        max_length=200,
        description="The `next` cursor of the previous page; a cursor the export did not issue is a 400",
        schema_extra={"pattern": CURSOR_PATTERN},
    ),
]


class StatusCounts(msgspec.Struct):
    """How many current reports for the period have each status, over the (guideline, department) pairs."""

    not_started: int
    on_track: int
    at_risk: int
    delayed: int
    completed: int


class Completeness(msgspec.Struct):
    """Reports expected (one per guideline and responsible department), received, and their ratio."""

    expected: int
    received: int
    rate: float | None


class ProgressAggregate(msgspec.Struct, kw_only=True):
    """Progress (a fraction 0–1, null without data) with the counts that qualify it."""

    progress: float | None
    guidelines_total: int
    guidelines_with_data: int
    status_counts: StatusCounts
    completeness: Completeness


class CampaignSummary(ProgressAggregate, kw_only=True):
    """A campaign (大作戦) at a period."""

    code: str
    name: str


class ProgressOverview(msgspec.Struct):
    """Every campaign and the whole plan at a period."""

    period: str
    campaigns: list[CampaignSummary]
    overall: ProgressAggregate


class IndicatorProgress(msgspec.Struct):
    """An indicator's carried-forward value at the period and its attainment (null without a value)."""

    id: int
    name: str
    value: float | None
    attainment: float | None


class DepartmentReport(msgspec.Struct):
    """A responsible department's current report status for the period; null when it has not reported."""

    department: str
    status: str | None


class GuidelineProgress(ProgressAggregate, kw_only=True):
    """A guideline (目安) at a period with its indicators and its departments' reports."""

    code: str
    text: str
    indicators: list[IndicatorProgress]
    reports: list[DepartmentReport]


class DirectionProgress(ProgressAggregate, kw_only=True):
    """A policy direction (取り組みの方向性) at a period with its guidelines."""

    code: str
    name: str
    guidelines: list[GuidelineProgress]


class CampaignProgress(ProgressAggregate, kw_only=True):
    """A campaign (大作戦) at a period with its directions and guidelines."""

    period: str
    code: str
    name: str
    directions: list[DirectionProgress]


class DepartmentProgress(msgspec.Struct):
    """A department's reporting completeness at a period and the guidelines it still owes."""

    code: str
    name: str
    expected: int
    received: int
    rate: float | None
    status_counts: StatusCounts
    missing: list[str]
    state: str
    due: date
    on_time: bool | None
    overdue: bool


class DepartmentProgressList(msgspec.Struct):
    """Every department's reporting completeness at a period."""

    period: str
    items: list[DepartmentProgress]


class SeriesPoint(msgspec.Struct):
    """Progress and completeness of the scope at one period."""

    period: str
    progress: float | None
    guidelines_total: int
    guidelines_with_data: int
    completeness: Completeness


class ProgressSeries(msgspec.Struct):
    """Progress of the whole plan, a campaign or a direction, one item per period, oldest first."""

    campaign: str | None
    direction: str | None
    items: list[SeriesPoint]


class ValueRow(msgspec.Struct):
    """One current indicator value, flat."""

    period: str
    campaign: str
    direction: str
    guideline: str
    department: str
    indicator_id: int
    indicator_name: str
    unit: str
    baseline: float
    target: float
    value: float
    attainment: float | None
    note: str | None
    revision: int
    updated_at: datetime


class ReportRow(msgspec.Struct):
    """One current status report, flat."""

    period: str
    campaign: str
    direction: str
    guideline: str
    department: str
    status: str
    summary: str
    revision: int
    updated_at: datetime


class ValuesPage(msgspec.Struct):
    """A page of value rows; `next` is the cursor of the following page, null on the last."""

    items: list[ValueRow]
    next: str | None


class ReportsPage(msgspec.Struct):
    """A page of report rows; `next` is the cursor of the following page, null on the last."""

    items: list[ReportRow]
    next: str | None


class DepartmentTimeliness(msgspec.Struct):
    """How punctually a department submitted its quarters over a range of periods."""

    department: str
    periods: int
    on_time: int
    late: int
    not_submitted: int
    on_time_rate: float | None


class TimelinessList(msgspec.Struct):
    """Every department's (or one department's) punctuality from `from` to `to`."""

    first: str = msgspec.field(name="from")
    last: str = msgspec.field(name="to")
    items: list[DepartmentTimeliness] = msgspec.field(default_factory=list)
