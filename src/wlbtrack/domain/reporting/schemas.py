"""Request and response bodies of reports, indicators, values and submissions, and their query parameters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import QueryParameter

from wlbtrack.domain.catalogue.schemas import DepartmentCodeIn, GuidelineCodeIn
from wlbtrack.domain.periods.schemas import PERIOD_PATTERN, PeriodCode
from wlbtrack.lib.text import MULTI_LINE, SINGLE_LINE
from wlbtrack.lib.validation import MAX_ROW_ID, Batch, FiniteFloat, Label, Note, Summary

ReportStatus = Literal["not_started", "on_track", "at_risk", "delayed", "completed"]
PeriodQuery = Annotated[
    str | None, QueryParameter(pattern=PERIOD_PATTERN, description="Fiscal quarter, e.g. 2026-Q1")
]
Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=SINGLE_LINE)]
OptionalNote = Annotated[Note, msgspec.Meta(min_length=1)]
IndicatorId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ROW_ID, description="An indicator's id")]
AdminDepartment = Annotated[
    DepartmentCodeIn,
    msgspec.Meta(
        description=(
            "Department the write is made for: admins name it (unless the guideline has only one "
            "responsible department); a department token may omit it or give its own."
        )
    ),
]


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    """A status report on one guideline for one period."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "period": "2025-Q3",
        "status": "at_risk",
        "summary": "講師の確保が遅れ、10月の講座を1回延期した。",
        "department": "lifestyle-culture",
    }

    period: PeriodCode
    status: ReportStatus
    summary: Summary
    department: AdminDepartment | None = None


class ReportPublic(msgspec.Struct):
    """One revision of a report; `created_at`/`created_by` say when and by which token it was written."""

    guideline: str
    department: str
    period: str
    revision: int
    status: ReportStatus
    summary: str
    created_at: datetime
    created_by: str


class ReportList(msgspec.Struct):
    items: list[ReportPublic]
    total: int


class IndicatorIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new indicator (KPI); a target below the baseline means a decreasing indicator."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "name": "講座参加者数",
        "unit": "人",
        "baseline": 100,
        "target": 200,
        "department": "lifestyle-culture",
    }

    name: Label
    unit: Unit
    baseline: FiniteFloat
    target: FiniteFloat
    department: AdminDepartment | None = None


class IndicatorPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to an indicator's name, unit or target (each optional, at least one)."""

    openapi_example: ClassVar[dict[str, Any]] = {"target": 250}

    name: Label | msgspec.UnsetType = msgspec.UNSET
    unit: Unit | msgspec.UnsetType = msgspec.UNSET
    target: FiniteFloat | msgspec.UnsetType = msgspec.UNSET


class IndicatorPublic(msgspec.Struct):
    """An indicator with its current definition."""

    id: int
    guideline: str
    department: str
    name: str
    unit: str
    baseline: float
    target: float
    direction: Literal["increasing", "decreasing"]
    revision: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class IndicatorList(msgspec.Struct):
    items: list[IndicatorPublic]
    total: int


class IndicatorRevisionPublic(msgspec.Struct):
    """An indicator's definition as it stood after one change."""

    indicator: int
    revision: int
    name: str
    unit: str
    baseline: float
    target: float
    created_at: datetime
    created_by: str


class IndicatorRevisionList(msgspec.Struct):
    items: list[IndicatorRevisionPublic]
    total: int


class ValueIn(msgspec.Struct, forbid_unknown_fields=True):
    """An indicator's value for one period."""

    openapi_example: ClassVar[dict[str, Any]] = {"period": "2025-Q3", "value": 135, "note": "9月末時点"}

    period: PeriodCode
    value: FiniteFloat
    note: OptionalNote | None = None


class ValuePublic(msgspec.Struct):
    """One revision of an indicator value."""

    indicator: int
    department: str
    period: str
    revision: int
    value: float
    note: str | None
    created_at: datetime
    created_by: str


class ValueList(msgspec.Struct):
    items: list[ValuePublic]
    total: int


class SubmissionReport(msgspec.Struct, forbid_unknown_fields=True):
    """A report in a quarterly submission."""

    guideline: GuidelineCodeIn
    status: ReportStatus
    summary: Summary


class SubmissionValue(msgspec.Struct, forbid_unknown_fields=True):
    """An indicator value in a quarterly submission."""

    indicator: IndicatorId
    value: FiniteFloat
    note: OptionalNote | None = None


class SubmissionIn(Batch, forbid_unknown_fields=True):
    """One department's reports and values for one period, written all together or not at all; at least
    one report or value."""

    # "at least one report or value": not (every list present is empty). Said with `not` rather than
    # `anyOf`, which openapi-python-client cannot parse on an object (it drops the operation).
    openapi_not: ClassVar[dict[str, Any]] = {
        "properties": {name: Schema(type=OpenAPIType.ARRAY, max_items=0) for name in ("reports", "values")}
    }
    openapi_example: ClassVar[dict[str, Any]] = {
        "period": "2025-Q3",
        "department": "lifestyle-culture",
        "reports": [
            {
                "guideline": "1.1.4",
                "status": "on_track",
                "summary": "区民向け講座を3回開催し、延べ120人が参加した。",
            }
        ],
        "values": [{"indicator": 1, "value": 120, "note": "第2四半期の速報値"}],
    }

    period: PeriodCode
    department: DepartmentCodeIn | None = None
    reports: Annotated[list[SubmissionReport], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=list
    )
    values: Annotated[list[SubmissionValue], msgspec.Meta(max_length=1000)] = msgspec.field(
        default_factory=list
    )


class SubmissionPublic(msgspec.Struct):
    """What a submission stored, each item with its new revision."""

    period: str
    department: str
    reports: list[ReportPublic]
    values: list[ValuePublic]


QuarterState = Literal["open", "submitted", "approved", "returned"]
Comment = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=MULTI_LINE)]


class ReturnIn(msgspec.Struct, forbid_unknown_fields=True):
    """Why the plan office sends a department's quarter back."""

    comment: Comment


class DepartmentQuarterPublic(msgspec.Struct):
    """A department's quarter in the cycle: its state, due date, first submission and last decision.

    `on_time`: first submitted by the end of `due` (Asia/Tokyo), null while never submitted; `missing`:
    guidelines the department is responsible for without a report for the period, in plan order.
    """

    department: str
    state: QuarterState
    due: date
    submitted_at: datetime | None
    on_time: bool | None
    decided_at: datetime | None
    decided_by: str | None
    comment: str | None
    missing: list[str]


class DepartmentQuarterList(msgspec.Struct):
    items: list[DepartmentQuarterPublic]
    total: int


class TransitionPublic(msgspec.Struct):
    """One transition of a department's quarter: who moved it from which state to which, when, and why."""

    action: Literal["submit", "approve", "return"]
    from_state: QuarterState
    to_state: QuarterState
    at: datetime
    by: str
    comment: str | None


class TransitionList(msgspec.Struct):
    items: list[TransitionPublic]
    total: int
