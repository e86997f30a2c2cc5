"""Server-side SVG line charts: progress over quarters, indicator sparklines and indicator charts.

Every chart has a <title> and an aria label carrying the same numbers as text; lines differ by dash and
marker as well as colour, and gaps (no data) stay gaps, never zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from wlbtrack.domain.dashboard.labels import number, percent, period_label

LINE_STYLES = (("#1d4ed8", ""), ("#c2410c", "6 3"), ("#6d28d9", "2 3"), ("#0f766e", "8 3 2 3"))
AXIS, GRID, BASELINE, TARGET = "#374151", "#d1d5db", "#6b7280", "#15803d"


@dataclass(frozen=True)
class Frame:
    """A plot area inside an SVG of width × height, mapping (index, value) to coordinates."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    count: int
    low: float
    high: float

    def x(self, index: int) -> float:
        """The x of the index-th period."""
        span = self.width - self.left - self.right
        return self.left + (span / 2 if self.count == 1 else span * index / (self.count - 1))

    def y(self, value: float) -> float:
        """The y of a value (larger values higher up)."""
        span = self.height - self.top - self.bottom
        return self.top + span * (self.high - value) / (self.high - self.low)


def _runs(frame: Frame, values: Sequence[float | None]) -> list[list[tuple[float, float]]]:
    """The points of each unbroken run of values (a None breaks the line)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((frame.x(index), frame.y(value)))
    return [run for run in runs if run]


def _line(frame: Frame, values: Sequence[float | None], colour: str, dash: str, marker: int) -> str:
    """Polylines through the values with a marker on each point."""
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    parts = []
    for run in _runs(frame, values):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dashed}/>')
        parts.extend(_marker(x, y, colour, marker) for x, y in run)
    return "".join(parts)


def _marker(x: float, y: float, colour: str, shape: int) -> str:
    """A circle, square, triangle or diamond at (x, y)."""
    if shape % 4 == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'
    if shape % 4 == 1:
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    corners = [(0, -4), (4, 3), (-4, 3)] if shape % 4 == 2 else [(0, -4), (4, 0), (0, 4), (-4, 0)]
    points = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)
    return f'<polygon points="{points}" fill="{colour}"/>'


def _svg(frame: Frame, label: str, css: str, body: str) -> Markup:
    """The SVG element around a chart body, with its <title> and aria label."""
    text = escape(label)
    return Markup(
        f'<svg class="{css}" role="img" aria-label="{text}" width="{frame.width}" height="{frame.height}" '
        f'viewBox="0 0 {frame.width} {frame.height}"><title>{text}</title>{body}</svg>'
    )


def _quarter_axis(frame: Frame, periods: Sequence[str]) -> str:
    """Period codes under the plot, each as `2026 Q1`."""
    base = frame.height - frame.bottom + 16
    return "".join(
        f'<text x="{frame.x(i):.1f}" y="{base}" text-anchor="middle" font-size="11" fill="{AXIS}">'
        f"{escape(code.replace('-', ' '))}</text>"
        for i, code in enumerate(periods)
    )


def _value_axis(frame: Frame, ticks: Sequence[float], text: Callable[[float], str]) -> str:
    """Horizontal grid lines at the ticks, labelled on the left."""
    parts = []
    for tick in ticks:
        y = frame.y(tick)
        parts.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.width - frame.right}" y2="{y:.1f}" '
            f'stroke="{GRID}"/><text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="{AXIS}">{escape(text(tick))}</text>'
        )
    return "".join(parts)


def _described(
    values: Sequence[float | None], periods: Sequence[str], text: Callable[[float | None], str]
) -> str:
    """`2026年度 第1四半期 50.0%、…` for the aria label."""
    return "、".join(f"{period_label(p)} {text(v)}" for p, v in zip(periods, values, strict=True))


def progress_lines(
    title: str, periods: Sequence[str], series: Sequence[tuple[str, list[float | None]]]
) -> Markup:
    """Progress (0–1) of each named series per period, with a legend naming each line."""
    frame = Frame(640, 40 + 200 + 24 * len(series), 52, 32, 12, 24 * len(series) + 28, len(periods), 0.0, 1.0)
    body = [
        _value_axis(frame, (0, 0.25, 0.5, 0.75, 1.0), lambda t: f"{t * 100:.0f}%"),
        _quarter_axis(frame, periods),
    ]
    described = []
    for index, (name, values) in enumerate(series):
        colour, dash = LINE_STYLES[index % len(LINE_STYLES)]
        body.append(_line(frame, values, colour, dash, index))
        y = frame.height - 24 * (len(series) - index) + 8
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<line x1="{frame.left}" y1="{y}" x2="{frame.left + 36}" y2="{y}" stroke="{colour}" '
            f'stroke-width="2"{dashed}/>{_marker(frame.left + 18, y, colour, index)}'
            f'<text x="{frame.left + 44}" y="{y + 4}" font-size="12" fill="{AXIS}">{escape(name)}</text>'
        )
        described.append(f"{name}: {_described(values, periods, percent)}")
    return _svg(frame, f"{title}。" + "。".join(described), "chart", "".join(body))


def sparkline(title: str, periods: Sequence[str], values: Sequence[float | None]) -> Markup:
    """A small line of an indicator's values per period (gaps where it has none)."""
    known = [v for v in values if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    if low == high:
        low, high = low - 1, high + 1
    frame = Frame(128, 28, 4, 4, 4, 4, len(periods), low, high)
    line = _line(frame, values, "#1d4ed8", "", 0) if known else ""
    return _svg(frame, f"{title}: {_described(values, periods, number)}", "sparkline", line)


def indicator_chart(
    title: str,
    periods: Sequence[str],
    values: Sequence[float | None],
    baseline: float,
    target: float,
    unit: str,
) -> Markup:
    """An indicator's value per period between its baseline and target lines; an arrow from the baseline
    towards the target shows which way is better (down for a decreasing indicator)."""
    decreasing = target < baseline
    known = [v for v in values if v is not None]
    low, high = min([*known, baseline, target]), max([*known, baseline, target])
    pad = (high - low) * 0.12 or 1.0
    frame = Frame(640, 240, 64, 120, 16, 28, len(periods), low - pad, high + pad)
    right = frame.width - frame.right
    body = [_quarter_axis(frame, periods)]
    for value, colour, name in ((baseline, BASELINE, "基準値"), (target, TARGET, "目標値")):
        y = frame.y(value)
        body.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{colour}" '
            f'stroke-width="1.5" stroke-dasharray="5 3"/><text x="{right + 6}" y="{y + 4:.1f}" '
            f'font-size="12" fill="{colour}">{name} {escape(number(value))}</text>'
        )
    start, end = frame.y(baseline), frame.y(target)
    tip = 6 if decreasing else -6
    body.append(
        f'<line x1="14" y1="{start:.1f}" x2="14" y2="{end - tip:.1f}" stroke="{TARGET}" stroke-width="2"/>'
        f'<polygon points="9,{end - tip:.1f} 19,{end - tip:.1f} 14,{end:.1f}" fill="{TARGET}"/>'
        f'<text x="30" y="{min(start, end):.1f}" writing-mode="vertical-rl" font-size="11" fill="{TARGET}">'
        f"{'低いほど良い' if decreasing else '高いほど良い'}</text>"
    )
    body.append(_line(frame, values, "#1d4ed8", "", 0))
    for index, point in enumerate(values):
        if point is not None:
            body.append(
                f'<text x="{frame.x(index):.1f}" y="{frame.y(point) - 8:.1f}" text-anchor="middle" '
                f'font-size="11" fill="{AXIS}">{escape(number(point))}</text>'
            )
    better = "値が小さいほど良い指標（目標値が基準値より低い）" if decreasing else "値が大きいほど良い指標"
    label = (
        f"{title}（{unit}）: {better}。基準値 {number(baseline)}、目標値 {number(target)}。"
        f"{_described(values, periods, number)}"
    )
    return _svg(frame, label, "chart", "".join(body))
