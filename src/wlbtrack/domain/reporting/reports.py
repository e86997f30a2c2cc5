"""Reading reports: the current one per department, and every revision."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.reporting.models import Report, ReportRevision
from wlbtrack.domain.reporting.schemas import ReportPublic
from wlbtrack.domain.reporting.sql import table

REPORT = table(Report)
REVISION = table(ReportRevision)


def _public(catalogue: Catalogue, guideline_id: int, rows: Iterable[Any]) -> list[ReportPublic]:
    """Rows of (department id, period, revision, status, summary, time, label) as reports."""
    guideline = catalogue.guideline_code(guideline_id)
    return [
        ReportPublic(
            guideline=guideline,
            department=catalogue.department_code(department_id),
            period=period,
            revision=revision,
            status=status,
            summary=summary,
            created_at=created_at,
            created_by=created_by,
        )
        for department_id, period, revision, status, summary, created_at, created_by in rows
    ]


async def current_reports(
    session: AsyncSession, catalogue: Catalogue, guideline_id: int, period: str | None
) -> list[ReportPublic]:
    """The current report of each department on a guideline, by period then department."""
    query = (
        select(
            REPORT.c.department_id,
            REPORT.c.period,
            REPORT.c.revision,
            REPORT.c.status,
            REPORT.c.summary,
            REPORT.c.updated_at,
            REPORT.c.updated_by,
        )
        .where(REPORT.c.guideline_id == guideline_id)
        .order_by(REPORT.c.period, REPORT.c.department_id)
    )
    if period is not None:
        query = query.where(REPORT.c.period == period)
    return _public(catalogue, guideline_id, await session.execute(query))


async def report_history(
    session: AsyncSession,
    catalogue: Catalogue,
    guideline_id: int,
    period: str | None,
    department_id: int | None,
) -> list[ReportPublic]:
    """Every revision of the guideline's reports, oldest first within each period and department."""
    query = (
        select(
            REPORT.c.department_id,
            REPORT.c.period,
            REVISION.c.revision,
            REVISION.c.status,
            REVISION.c.summary,
            REVISION.c.created_at,
            REVISION.c.created_by,
        )
        .join(REPORT, REPORT.c.id == REVISION.c.report_id)
        .where(REPORT.c.guideline_id == guideline_id)
        .order_by(REPORT.c.period, REPORT.c.department_id, REVISION.c.revision)
    )
    if period is not None:
        query = query.where(REPORT.c.period == period)
    if department_id is not None:
        query = query.where(REPORT.c.department_id == department_id)
    return _public(catalogue, guideline_id, await session.execute(query))
