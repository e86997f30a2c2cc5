"""Reads for templates and imports: a department's reports and indicators for a quarter and the one before."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.catalogue.models import GUIDELINE
from wlbtrack.domain.progress.queries import attainment, dialect_of
from wlbtrack.domain.reporting.models import INDICATOR, REPORT, VALUE


async def department_reports(
    session: AsyncSession, department_id: int, periods: Collection[str]
) -> dict[Any, Any]:
    """The department's current reports for the periods, by (guideline id, period)."""
    query = select(
        REPORT.c.guideline_id,
        REPORT.c.period,
        REPORT.c.status,
        REPORT.c.summary,
        REPORT.c.revision,
        REPORT.c.updated_at,
    ).where(REPORT.c.department_id == department_id, REPORT.c.period.in_(periods))
    return {(row.guideline_id, row.period): row for row in await session.execute(query)}


async def department_indicators(
    session: AsyncSession, department_id: int, period: str, previous: str
) -> list[Any]:
    """The department's indicators in plan order, with their current values for P and the quarter before."""
    current = VALUE.alias("current")
    before = VALUE.alias("before")
    query = (
        select(
            INDICATOR.c.id,
            INDICATOR.c.guideline_id,
            INDICATOR.c.name,
            INDICATOR.c.unit,
            INDICATOR.c.baseline,
            INDICATOR.c.target,
            current.c.value,
            attainment(dialect_of(session), current.c.value, INDICATOR.c.baseline, INDICATOR.c.target).label(
                "attainment"
            ),
            current.c.note,
            current.c.revision,
            current.c.updated_at,
            before.c.value.label("previous_value"),
        )
        .join(GUIDELINE, GUIDELINE.c.id == INDICATOR.c.guideline_id)
        .outerjoin(current, and_(current.c.indicator_id == INDICATOR.c.id, current.c.period == period))
        .outerjoin(before, and_(before.c.indicator_id == INDICATOR.c.id, before.c.period == previous))
        .where(INDICATOR.c.department_id == department_id)
        .order_by(GUIDELINE.c.position, INDICATOR.c.id)
    )
    return list(await session.execute(query))


async def current_values(
    session: AsyncSession, period: str, indicator_ids: Collection[int]
) -> dict[Any, Any]:
    """The current (value, note, revision) of each indicator for the period, by indicator id."""
    if not indicator_ids:
        return {}
    query = select(VALUE.c.indicator_id, VALUE.c.value, VALUE.c.note, VALUE.c.revision).where(
        VALUE.c.period == period, VALUE.c.indicator_id.in_(indicator_ids)
    )
    return {row.indicator_id: row for row in await session.execute(query)}
