"""Server-side SVG charts; each carries a <title> and an aria label with the same numbers as text."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from wlbtrack.domain.dashboard.labels import STATUS_COLOURS, STATUS_LABELS, STATUSES, percent


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


def status_bar(counts: dict[str, int], title: str) -> Markup:
    """A stacked bar of status counts; the counts and labels are in the title and aria label."""
    total = sum(counts.values())
    text = "、".join(f"{STATUS_LABELS[s]} {counts[s]}" for s in STATUSES)
    label = f"{title}: {text}"
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
