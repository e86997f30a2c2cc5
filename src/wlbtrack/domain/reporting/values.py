"""Reading indicator values: the current one per period, and every revision."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.reporting.models import IndicatorValue, IndicatorValueRevision
from wlbtrack.domain.reporting.schemas import ValuePublic
from wlbtrack.domain.reporting.sql import table

VALUE = table(IndicatorValue)
REVISION = table(IndicatorValueRevision)


def _public(catalogue: Catalogue, indicator_id: int, rows: Iterable[Any]) -> list[ValuePublic]:
    """Rows of (department id, period, revision, value, note, time, label) as values."""
    return [
        ValuePublic(
            indicator=indicator_id,
            department=catalogue.department_code(department_id),
            period=period,
            revision=revision,
            value=value,
            note=note,
            created_at=created_at,
            created_by=created_by,
        )
        for department_id, period, revision, value, note, created_at, created_by in rows
    ]


async def current_values(session: AsyncSession, catalogue: Catalogue, indicator_id: int) -> list[ValuePublic]:
    """The current value of an indicator for each period, oldest period first."""
    query = (
        select(
            VALUE.c.department_id,
            VALUE.c.period,
            VALUE.c.revision,
            VALUE.c.value,
            VALUE.c.note,
            VALUE.c.updated_at,
            VALUE.c.updated_by,
        )
        .where(VALUE.c.indicator_id == indicator_id)
        .order_by(VALUE.c.period)
    )
    return _public(catalogue, indicator_id, await session.execute(query))


async def value_history(
    session: AsyncSession, catalogue: Catalogue, indicator_id: int, period: str | None
) -> list[ValuePublic]:
    """Every revision of an indicator's values, by period, oldest revision first."""
    query = (
        select(
            VALUE.c.department_id,
            VALUE.c.period,
            REVISION.c.revision,
            REVISION.c.value,
            REVISION.c.note,
            REVISION.c.created_at,
            REVISION.c.created_by,
        )
        .join(VALUE, VALUE.c.id == REVISION.c.value_id)
        .where(VALUE.c.indicator_id == indicator_id)
        .order_by(VALUE.c.period, REVISION.c.revision)
    )
    if period is not None:
        query = query.where(VALUE.c.period == period)
    return _public(catalogue, indicator_id, await session.execute(query))
