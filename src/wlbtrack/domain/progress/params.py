"""Query parameters of the progress and export API: periods, ranges and catalogue codes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from litestar.params import QueryParameter

from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.periods import PERIOD_PATTERN, Period, PeriodError, periods_between
from wlbtrack.lib.errors import ProblemError

TOKYO = ZoneInfo("Asia/Tokyo")
MAX_SERIES_PERIODS = 40
DEFAULT_SERIES_PERIODS = 8

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
CampaignParam = Annotated[
    str | None, QueryParameter(max_length=64, description="Campaign (大作戦) code, e.g. 1")
]
DirectionParam = Annotated[
    str | None,
    QueryParameter(max_length=64, description="Policy direction (取り組みの方向性) code, e.g. 1.2"),
]
DepartmentParam = Annotated[
    str | None, QueryParameter(max_length=64, description="Department (担当部) code, e.g. children")
]


def current_period() -> Period:
    """The quarter containing today's date in Tokyo: the latest period that has started."""
    return Period.containing(datetime.now(TOKYO).date())


def parse_period(name: str, code: str | None) -> Period | None:
    """The period named by a query parameter (None when absent); 400 naming the parameter when malformed."""
    if code is None:
        return None
    try:
        return Period.parse(code)
    except PeriodError as exc:
        raise ProblemError(400, f"{name}: {exc}", field=name) from exc


def check_order(first: Period | None, last: Period | None) -> None:
    """422 unless `from` ≤ `to`."""
    if first is not None and last is not None and first > last:
        raise ProblemError(422, f"from: {first.code} is after to ({last.code})", field="from")


def series_periods(first_code: str | None, last_code: str | None) -> list[str]:
    """The periods of a series, oldest first: by default the 8 quarters ending at the current one."""
    last = parse_period("to", last_code) or current_period()
    first = parse_period("from", first_code)
    if first is None:
        first = last
        for _ in range(DEFAULT_SERIES_PERIODS - 1):
            first = first.previous()
    check_order(first, last)
    periods = periods_between(first, last)
    if len(periods) > MAX_SERIES_PERIODS:
        raise ProblemError(
            422,
            f"to: the range {first.code}..{last.code} has {len(periods)} periods, "
            f"at most {MAX_SERIES_PERIODS} are allowed",
            field="to",
        )
    return [period.code for period in periods]


def check_scope(catalogue: Catalogue, campaign: str | None, direction: str | None) -> None:
    """422 for an unknown campaign or direction code, or a direction outside the campaign."""
    if campaign is not None and campaign not in catalogue.campaigns:
        raise ProblemError(422, f"campaign: no campaign with code {campaign!r}", field="campaign")
    if direction is not None:
        if direction not in catalogue.directions:
            raise ProblemError(422, f"direction: no direction with code {direction!r}", field="direction")
        if campaign is not None and catalogue.directions[direction].campaign != campaign:
            raise ProblemError(
                422, f"direction: {direction} is not a direction of campaign {campaign}", field="direction"
            )


def check_department(catalogue: Catalogue, department: str | None) -> None:
    """422 for an unknown department code."""
    if department is not None and department not in catalogue.departments:
        raise ProblemError(422, f"department: no department with code {department!r}", field="department")
