"""Reading reports: the current one per department, and every revision."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.reporting.models import Report, ReportRevision
from wlbtrack.domain.reporting.schemas import ReportPublic
from wlbtrack.domain.reporting.sql import table

REPORT = table(Report)
REVISION = table(ReportRevision)


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
    guideline = catalogue.guideline_code(guideline_id)
    rows = await session.execute(query)
    return [
        ReportPublic(
            guideline=guideline,
            department=catalogue.department_code(department_id),
            period=row_period,
            revision=revision,
            status=status,
            summary=summary,
            created_at=updated_at,
            created_by=updated_by,
        )
        for department_id, row_period, revision, status, summary, updated_at, updated_by in rows
    ]


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
    guideline = catalogue.guideline_code(guideline_id)
    rows = await session.execute(query)
    return [
        ReportPublic(
            guideline=guideline,
            department=catalogue.department_code(department_id),
            period=row_period,
            revision=revision,
            status=status,
            summary=summary,
            created_at=created_at,
            created_by=created_by,
        )
        for department_id, row_period, revision, status, summary, created_at, created_by in rows
    ]
