"""Japanese labels shown on the dashboard, taken from /work/shared/glossary.md."""

from __future__ import annotations

STATUSES = ("not_started", "on_track", "at_risk", "delayed", "completed")
STATUS_LABELS = {
    "not_started": "未着手",
    "on_track": "順調",
    "at_risk": "要注意",
    "delayed": "遅延",
    "completed": "完了",
}
STATUS_COLOURS = {
    "not_started": "#6b7280",
    "on_track": "#15803d",
    "at_risk": "#b45309",
    "delayed": "#b91c1c",
    "completed": "#1d4ed8",
}
NO_REPORT = "未報告"
NO_DATA = "データなし"


def percent(fraction: float | None) -> str:
    """A 0–1 fraction as a percent with one decimal, or データなし for null (never 0 %)."""
    return NO_DATA if fraction is None else f"{fraction * 100:.1f}%"


def period_label(code: str) -> str:
    """`2026-Q1` as `2026年度 第1四半期`."""
    year, _, quarter = code.partition("-Q")
    return f"{year}年度 第{quarter}四半期"
