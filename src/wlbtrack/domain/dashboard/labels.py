"""Japanese labels shown on the dashboard, taken from /work/shared/glossary.md."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from wlbtrack.domain.periods.services import STATES_JA
from wlbtrack.domain.spreadsheets.schemas import STATUS_LABELS

STATUSES = tuple(STATUS_LABELS)
STATUS_COLOURS = {
    "not_started": "#6b7280",
    "on_track": "#15803d",
    "at_risk": "#b45309",
    "delayed": "#b91c1c",
    "completed": "#1d4ed8",
}
STATE_LABELS = STATES_JA
NO_REPORT = "未報告"
NO_DATA = "データなし"
TOKYO = ZoneInfo("Asia/Tokyo")

__all__ = ["STATE_LABELS", "STATUSES", "STATUS_COLOURS", "STATUS_LABELS"]


def percent(fraction: float | None) -> str:
    """A 0–1 fraction as a percent with one decimal, or データなし for null (never 0 %)."""
    return NO_DATA if fraction is None else f"{fraction * 100:.1f}%"


def period_label(code: str) -> str:
    """`2026-Q1` as `2026年度 第1四半期`."""
    year, _, quarter = code.partition("-Q")
    return f"{year}年度 第{quarter}四半期"


def number(value: float | None) -> str:
    """An indicator value as people write it (no trailing .0), or データなし."""
    return NO_DATA if value is None else format(value, ".10g")


def status(code: str | None) -> str:
    """The Japanese label of a report status; 未報告 for none."""
    return NO_REPORT if code is None else STATUS_LABELS[code]


def when(moment: datetime) -> str:
    """A stored time as Tokyo wall-clock time, to the minute."""
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
