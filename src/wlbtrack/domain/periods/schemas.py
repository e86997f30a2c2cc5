"""Period codes in bodies and parameters, and the period API's responses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from litestar.params import PathParameter

PERIOD_PATTERN = r"^(?:20[0-9]{2}|2100)-Q[1-4]$"  # the fiscal years 2000–2100 (config.FISCAL_YEARS)

PeriodCode = Annotated[str, msgspec.Meta(pattern=PERIOD_PATTERN, description="Fiscal quarter, e.g. 2026-Q1")]
# In a path the pattern is stated, not checked by Litestar: a malformed period is no resource (404)
PeriodPath = Annotated[
    str, PathParameter(description="Fiscal quarter, e.g. 2026-Q1", schema_extra={"pattern": PERIOD_PATTERN})
]
PeriodState = Literal["open", "closed"]


class PeriodPublic(msgspec.Struct):
    """A fiscal quarter and whether it accepts writes."""

    code: str
    fiscal_year: int
    quarter: int
    start: date
    end: date
    label_ja: str
    due: date
    state: PeriodState
    closed_at: datetime | None = None
    closed_by: str | None = None


class PeriodList(msgspec.Struct):
    items: list[PeriodPublic]
    total: int


class DeadlineIn(msgspec.Struct, forbid_unknown_fields=True):
    """A quarter's due date set by an admin."""

    due: date
