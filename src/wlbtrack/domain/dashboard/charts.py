"""Server-side SVG charts; each carries a <title> and an aria label with the same numbers as text."""

from __future__ import annotations

from html import escape

import msgspec
from markupsafe import Markup

from wlbtrack.domain.dashboard.labels import STATUS_COLOURS, STATUS_LABELS, STATUSES, percent
from wlbtrack.domain.progress.schemas import StatusCounts


def progress_bar(fraction: float | None, title: str) -> Markup:
    """A horizontal bar for a 0–1 progress; an empty dashed frame for null."""
    label = f"{title}: {percent(fraction)}"
    width = 0.0 if fraction is None else max(0.0, min(1.0, fraction)) * 200
    dash = ' stroke-dasharray="4 2"' if fraction is None else ""
    return Markup(
        f'<svg class="bar" role="img" aria-label="{escape(label)}" width="200" height="14" '
        f'viewBox="0 0 200 14"><title>{escape(label)}</title>'
        f'<rect x="0.5" y="0.5" width="199" height="13" fill="#fff" stroke="#374151"{dash}/>'
        f'<rect x="0.5" y="0.5" width="{width:.1f}" height="13" fill="#15803d"/></svg>'
    )


def status_text(status_counts: StatusCounts) -> str:
    """`未着手 0・順調 2・要注意 1・遅延 0・完了 0`."""
    counts = msgspec.structs.asdict(status_counts)
    return "・".join(f"{STATUS_LABELS[s]} {counts[s]}" for s in STATUSES)


def status_bar(status_counts: StatusCounts, title: str) -> Markup:
    """A stacked bar of status counts; the counts and labels are in the title and aria label."""
    counts = msgspec.structs.asdict(status_counts)
    total = sum(counts.values())
    label = f"{title}: {status_text(status_counts)}"
    parts, x = [], 0.0
    for status in STATUSES:
        width = 0.0 if total == 0 else counts[status] / total * 200
        if width:
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="14" fill="{STATUS_COLOURS[status]}"/>'
            )
        x += width
    return Markup(
        f'<svg class="bar" role="img" aria-label="{escape(label)}" width="200" height="14" '
        f'viewBox="0 0 200 14"><title>{escape(label)}</title>'
        f'<rect x="0" y="0" width="200" height="14" fill="#fff" stroke="#374151"/>{"".join(parts)}</svg>'
    )
