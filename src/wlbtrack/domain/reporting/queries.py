"""Reading reports, indicators and values: the current ones and every revision."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.catalogue.services import Catalogue
from wlbtrack.domain.reporting.models import (
    Indicator,
    IndicatorRevision,
    IndicatorValue,
    IndicatorValueRevision,
    Report,
    ReportRevision,
)
from wlbtrack.domain.reporting.schemas import IndicatorRevisionPublic, ReportPublic, ValuePublic
from wlbtrack.lib.tables import RowsT, table
from wlbtrack.lib.validation import MAX_ROW_ID

REPORT, REPORT_REVISION = table(Report), table(ReportRevision)
VALUE, VALUE_REVISION = table(IndicatorValue), table(IndicatorValueRevision)
INDICATOR, INDICATOR_REVISION = table(Indicator), table(IndicatorRevision)


def _filtered(query: RowsT, *conditions: tuple[ColumnElement[Any], object | None]) -> RowsT:
    """The query narrowed by each (column, value) whose value is given."""
    for column, value in conditions:
        if value is not None:
            query = query.where(column == value)
    return query


def _reports(catalogue: Catalogue, guideline_id: int, rows: Iterable[Any]) -> list[ReportPublic]:
    """Rows of (department id, period, revision, status, summary, time, label) as reports."""
    guideline = catalogue.guideline_code(guideline_id)
    return [
        ReportPublic(guideline, catalogue.department_code(department_id), *rest)
        for department_id, *rest in rows
    ]


def _values(catalogue: Catalogue, indicator_id: int, rows: Iterable[Any]) -> list[ValuePublic]:
    """Rows of (department id, period, revision, value, note, time, label) as values."""
    return [
        ValuePublic(indicator_id, catalogue.department_code(department_id), *rest)
        for department_id, *rest in rows
    ]


async def current_reports(
    session: AsyncSession, catalogue: Catalogue, guideline_id: int, period: str | None
) -> list[ReportPublic]:
    """The current report of each department on a guideline, by period then department."""
    head = REPORT.c
    query = select(
        head.department_id,
        head.period,
        head.revision,
        head.status,
        head.summary,
        head.updated_at,
        head.updated_by,
    ).where(head.guideline_id == guideline_id)
    query = _filtered(query, (head.period, period)).order_by(head.period, head.department_id)
    return _reports(catalogue, guideline_id, await session.execute(query))


async def report_history(
    session: AsyncSession,
    catalogue: Catalogue,
    guideline_id: int,
    period: str | None,
    department_id: int | None,
) -> list[ReportPublic]:
    """Every revision of the guideline's reports, oldest first within each period and department."""
    head, revision = REPORT.c, REPORT_REVISION.c
    query = (
        select(
            head.department_id,
            head.period,
            revision.revision,
            revision.status,
            revision.summary,
            revision.created_at,
            revision.created_by,
        )
        .join(REPORT, head.id == revision.report_id)
        .where(head.guideline_id == guideline_id)
    )
    query = _filtered(query, (head.period, period), (head.department_id, department_id))
    query = query.order_by(head.period, head.department_id, revision.revision)
    return _reports(catalogue, guideline_id, await session.execute(query))


async def current_values(session: AsyncSession, catalogue: Catalogue, indicator_id: int) -> list[ValuePublic]:
    """The current value of an indicator for each period, oldest period first."""
    head = VALUE.c
    query = (
        select(
            head.department_id,
            head.period,
            head.revision,
            head.value,
            head.note,
            head.updated_at,
            head.updated_by,
        )
        .where(head.indicator_id == indicator_id)
        .order_by(head.period)
    )
    return _values(catalogue, indicator_id, await session.execute(query))


async def value_history(
    session: AsyncSession, catalogue: Catalogue, indicator_id: int, period: str | None
) -> list[ValuePublic]:
    """Every revision of an indicator's values, by period, oldest revision first."""
    head, revision = VALUE.c, VALUE_REVISION.c
    query = (
        select(
            head.department_id,
            head.period,
            revision.revision,
            revision.value,
            revision.note,
            revision.created_at,
            revision.created_by,
        )
        .join(VALUE, head.id == revision.value_id)
        .where(head.indicator_id == indicator_id)
    )
    query = _filtered(query, (head.period, period)).order_by(head.period, revision.revision)
    return _values(catalogue, indicator_id, await session.execute(query))


async def get_indicator(session: AsyncSession, indicator_id: int) -> Row[Any] | None:
    """The indicator row, or None (also for ids no database integer can hold)."""
    if not 1 <= indicator_id <= MAX_ROW_ID:
        return None
    return (await session.execute(select(INDICATOR).where(INDICATOR.c.id == indicator_id))).one_or_none()


async def indicator_departments(session: AsyncSession, ids: Collection[int]) -> dict[int, int]:
    """Department id of each existing indicator among `ids`."""
    if not ids:
        return {}
    query = select(INDICATOR.c.id, INDICATOR.c.department_id).where(INDICATOR.c.id.in_(ids))
    return {indicator_id: department_id for indicator_id, department_id in await session.execute(query)}


async def list_indicators(
    session: AsyncSession, guideline_id: int | None, department_id: int | None
) -> list[Row[Any]]:
    """Indicators, optionally of one guideline and/or department, by id."""
    query = _filtered(
        select(INDICATOR),
        (INDICATOR.c.guideline_id, guideline_id),
        (INDICATOR.c.department_id, department_id),
    )
    return list(await session.execute(query.order_by(INDICATOR.c.id)))


async def indicator_history(session: AsyncSession, indicator_id: int) -> list[IndicatorRevisionPublic]:
    """Every definition of an indicator, oldest first."""
    revision = INDICATOR_REVISION.c
    query = (
        select(
            revision.indicator_id,
            revision.revision,
            revision.name,
            revision.unit,
            revision.baseline,
            revision.target,
            revision.created_at,
            revision.created_by,
        )
        .where(revision.indicator_id == indicator_id)
        .order_by(revision.revision)
    )
    return [IndicatorRevisionPublic(*row) for row in await session.execute(query)]
