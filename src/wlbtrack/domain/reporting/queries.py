"""Reading reports, indicators and values: the current ones and every revision."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.catalogue.models import RESPONSIBILITY
from wlbtrack.domain.catalogue.services import Catalogue
from wlbtrack.domain.reporting.models import (
    INDICATOR,
    INDICATOR_REVISION,
    REPORT,
    REPORT_REVISION,
    VALUE,
    VALUE_REVISION,
)
from wlbtrack.domain.reporting.schemas import IndicatorRevisionPublic, ReportPublic, ValuePublic
from wlbtrack.lib.tables import RowsT, foreign_key_to
from wlbtrack.lib.validation import MAX_ROW_ID


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


def _current(head: Table, content: tuple[str, ...]) -> Select[Any]:
    """(department id, period, revision, *content, time, label) of the current rows."""
    c = head.c
    return select(
        c.department_id, c.period, c.revision, *(c[name] for name in content), c.updated_at, c.updated_by
    )


def _revisions(head: Table, revisions: Table, content: tuple[str, ...]) -> Select[Any]:
    """(department id, period, revision, *content, time, label) of every revision, joined to its head."""
    c = revisions.c
    return select(
        head.c.department_id,
        head.c.period,
        c.revision,
        *(c[name] for name in content),
        c.created_at,
        c.created_by,
    ).join(head, head.c.id == foreign_key_to(revisions, head))


REPORT_CONTENT = ("status", "summary")
VALUE_CONTENT = ("value", "note")


async def current_reports(
    session: AsyncSession, catalogue: Catalogue, guideline_id: int, period: str | None
) -> list[ReportPublic]:
    """The current report of each department on a guideline, by period then department."""
    query = _current(REPORT, REPORT_CONTENT).where(REPORT.c.guideline_id == guideline_id)
    query = _filtered(query, (REPORT.c.period, period)).order_by(REPORT.c.period, REPORT.c.department_id)
    return _reports(catalogue, guideline_id, await session.execute(query))


async def period_reports(
    session: AsyncSession,
    catalogue: Catalogue,
    period: str,
    department_id: int | None = None,
    statuses: Collection[str] | None = None,
) -> list[ReportPublic]:
    """The current reports for a period, optionally of one department and/or with these statuses,
    in plan order: by guideline, then by department."""
    query = _filtered(
        select(REPORT.c.guideline_id).add_columns(*_current(REPORT, REPORT_CONTENT).selected_columns),
        (REPORT.c.period, period),
        (REPORT.c.department_id, department_id),
    )
    if statuses is not None:
        query = query.where(REPORT.c.status.in_(statuses))
    guidelines = {code: position for position, code in enumerate(catalogue.guidelines)}
    departments = {code: position for position, code in enumerate(catalogue.departments)}
    reports = [
        report
        for guideline_id, *rest in await session.execute(query)
        for report in _reports(catalogue, guideline_id, [rest])
    ]
    return sorted(reports, key=lambda r: (guidelines[r.guideline], departments[r.department]))


async def report_history(
    session: AsyncSession,
    catalogue: Catalogue,
    guideline_id: int,
    period: str | None,
    department_id: int | None,
) -> list[ReportPublic]:
    """Every revision of the guideline's reports, oldest first within each period and department."""
    query = _revisions(REPORT, REPORT_REVISION, REPORT_CONTENT).where(REPORT.c.guideline_id == guideline_id)
    query = _filtered(query, (REPORT.c.period, period), (REPORT.c.department_id, department_id))
    query = query.order_by(REPORT.c.period, REPORT.c.department_id, REPORT_REVISION.c.revision)
    return _reports(catalogue, guideline_id, await session.execute(query))


async def current_values(session: AsyncSession, catalogue: Catalogue, indicator_id: int) -> list[ValuePublic]:
    """The current value of an indicator for each period, oldest period first."""
    query = (
        _current(VALUE, VALUE_CONTENT).where(VALUE.c.indicator_id == indicator_id).order_by(VALUE.c.period)
    )
    return _values(catalogue, indicator_id, await session.execute(query))


async def values_between(
    session: AsyncSession, indicator_ids: Collection[int], first: str, last: str
) -> dict[int, dict[str, float]]:
    """The current value of each of these indicators per period from first to last, where it has one."""
    if not indicator_ids:
        return {}
    query = select(VALUE.c.indicator_id, VALUE.c.period, VALUE.c.value).where(
        VALUE.c.indicator_id.in_(indicator_ids), VALUE.c.period >= first, VALUE.c.period <= last
    )
    values: dict[int, dict[str, float]] = {}
    for indicator_id, period, value in await session.execute(query):
        values.setdefault(indicator_id, {})[period] = value
    return values


async def value_history(
    session: AsyncSession, catalogue: Catalogue, indicator_id: int, period: str | None
) -> list[ValuePublic]:
    """Every revision of an indicator's values, by period, oldest revision first."""
    query = _revisions(VALUE, VALUE_REVISION, VALUE_CONTENT).where(VALUE.c.indicator_id == indicator_id)
    query = _filtered(query, (VALUE.c.period, period)).order_by(VALUE.c.period, VALUE_REVISION.c.revision)
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
    session: AsyncSession, guideline_ids: Collection[int] | None, department_id: int | None
) -> list[Row[Any]]:
    """Indicators, optionally of some guidelines and/or one department, by id."""
    query = _filtered(select(INDICATOR), (INDICATOR.c.department_id, department_id))
    if guideline_ids is not None:
        query = query.where(INDICATOR.c.guideline_id.in_(guideline_ids))
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


async def missing_guidelines(session: AsyncSession, period: str) -> dict[int, set[int]]:
    """Guideline ids each department is responsible for without a current report for the period."""
    stmt = (
        select(RESPONSIBILITY.c.department_id, RESPONSIBILITY.c.guideline_id)
        .outerjoin(
            REPORT,
            (REPORT.c.guideline_id == RESPONSIBILITY.c.guideline_id)
            & (REPORT.c.department_id == RESPONSIBILITY.c.department_id)
            & (REPORT.c.period == period),
        )
        .where(REPORT.c.id.is_(None))
    )
    missing: dict[int, set[int]] = {}
    for department_id, guideline_id in await session.execute(stmt):
        missing.setdefault(department_id, set()).add(guideline_id)
    return missing
