"""Writing report revisions (one upsert plus one insert for any number of reports) and reading them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.auth.tokens import Principal
from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.reporting.models import Report, ReportRevision
from wlbtrack.domain.reporting.schemas import ReportPublic
from wlbtrack.domain.reporting.sql import insert, table
from wlbtrack.lib import changes
from wlbtrack.lib.types import utcnow

REPORT = table(Report)
REVISION = table(ReportRevision)


@dataclass(frozen=True)
class ReportWrite:
    """A validated report to store: guideline and department by id."""

    guideline_id: int
    department_id: int
    status: str
    summary: str


async def write_reports(
    session: AsyncSession,
    catalogue: Catalogue,
    principal: Principal,
    period: str,
    items: Sequence[ReportWrite],
) -> list[ReportPublic]:
    """Store the next revision of each report in the caller's transaction; return them in input order.

    The head row is upserted atomically (`revision = revision + 1` on conflict), so racing writers get
    distinct consecutive revisions. Items must have distinct (guideline, department) keys.
    """
    if not items:
        return []
    now = utcnow()
    head = insert(session, Report).values(
        [
            {
                "guideline_id": item.guideline_id,
                "department_id": item.department_id,
                "period": period,
                "revision": 1,
                "status": item.status,
                "summary": item.summary,
                "updated_at": now,
                "updated_by": principal.label,
            }
            for item in items
        ]
    )
    upsert = head.on_conflict_do_update(
        index_elements=["guideline_id", "department_id", "period"],
        set_={
            "revision": REPORT.c.revision + 1,
            "status": head.excluded.status,
            "summary": head.excluded.summary,
            "updated_at": head.excluded.updated_at,
            "updated_by": head.excluded.updated_by,
        },
    ).returning(REPORT.c.id, REPORT.c.revision, REPORT.c.guideline_id, REPORT.c.department_id)
    stored = {(g, d): (report_id, revision) for report_id, revision, g, d in await session.execute(upsert)}
    keyed = [(item, *stored[item.guideline_id, item.department_id]) for item in items]
    await session.execute(
        REVISION.insert(),
        [
            {
                "report_id": report_id,
                "revision": revision,
                "status": item.status,
                "summary": item.summary,
                "created_at": now,
                "created_by": principal.label,
                "token_id": principal.token_id,
            }
            for item, report_id, revision in keyed
        ],
    )
    await changes.bump(session, changes.DATA)
    return [
        ReportPublic(
            guideline=catalogue.guideline_code(item.guideline_id),
            department=catalogue.department_code(item.department_id),
            period=period,
            revision=revision,
            status=item.status,
            summary=item.summary,
            created_at=now,
            created_by=principal.label,
        )
        for item, _, revision in keyed
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
