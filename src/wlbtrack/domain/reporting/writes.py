"""Storing report and value revisions: one upsert and one insert per kind, however many items.

Every write of reports or values goes through `write_quarter`, which takes row locks in one global
order (reports by key, then values by indicator, then the change counter), so concurrent writers on
PostgreSQL queue instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.auth.tokens import Principal
from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.reporting.models import IndicatorValue, IndicatorValueRevision, Report, ReportRevision
from wlbtrack.domain.reporting.schemas import ReportPublic, ValuePublic
from wlbtrack.domain.reporting.sql import insert, table
from wlbtrack.lib import changes
from wlbtrack.lib.types import utcnow

REPORT = table(Report)
REPORT_REVISION = table(ReportRevision)
VALUE = table(IndicatorValue)
VALUE_REVISION = table(IndicatorValueRevision)


@dataclass(frozen=True)
class ReportWrite:
    """A validated report to store: guideline and department by id."""

    guideline_id: int
    department_id: int
    status: str
    summary: str


@dataclass(frozen=True)
class ValueWrite:
    """A validated value to store; `department_id` is the indicator's department."""

    indicator_id: int
    department_id: int
    value: float
    note: str | None


async def _upsert_reports(
    session: AsyncSession, principal: Principal, period: str, now: datetime, items: Sequence[ReportWrite]
) -> dict[tuple[int, int], int]:
    """Upsert the head rows (revision + 1 on conflict), append their revisions; revision per key."""
    if not items:
        return {}
    ordered = sorted(items, key=lambda item: (item.guideline_id, item.department_id))
    head = insert(session, Report)
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
    rows = await session.execute(
        upsert,
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
            for item in ordered
        ],
    )
    stored = {(g, d): (report_id, revision) for report_id, revision, g, d in rows}
    await session.execute(
        REPORT_REVISION.insert(),
        [
            {
                "report_id": stored[item.guideline_id, item.department_id][0],
                "revision": stored[item.guideline_id, item.department_id][1],
                "status": item.status,
                "summary": item.summary,
                "created_at": now,
                "created_by": principal.label,
                "token_id": principal.token_id,
            }
            for item in ordered
        ],
    )
    return {key: revision for key, (_, revision) in stored.items()}


async def _upsert_values(
    session: AsyncSession, principal: Principal, period: str, now: datetime, items: Sequence[ValueWrite]
) -> dict[int, int]:
    """Upsert the head rows (revision + 1 on conflict), append their revisions; revision per indicator."""
    if not items:
        return {}
    ordered = sorted(items, key=lambda item: item.indicator_id)
    head = insert(session, IndicatorValue)
    upsert = head.on_conflict_do_update(
        index_elements=["indicator_id", "period"],
        set_={
            "revision": VALUE.c.revision + 1,
            "value": head.excluded.value,
            "note": head.excluded.note,
            "updated_at": head.excluded.updated_at,
            "updated_by": head.excluded.updated_by,
            "department_id": head.excluded.department_id,
        },
    ).returning(VALUE.c.id, VALUE.c.revision, VALUE.c.indicator_id)
    rows = await session.execute(
        upsert,
        [
            {
                "indicator_id": item.indicator_id,
                "period": period,
                "revision": 1,
                "value": item.value,
                "note": item.note,
                "updated_at": now,
                "updated_by": principal.label,
                "department_id": item.department_id,
            }
            for item in ordered
        ],
    )
    stored = {indicator_id: (value_id, revision) for value_id, revision, indicator_id in rows}
    await session.execute(
        VALUE_REVISION.insert(),
        [
            {
                "value_id": stored[item.indicator_id][0],
                "revision": stored[item.indicator_id][1],
                "value": item.value,
                "note": item.note,
                "created_at": now,
                "created_by": principal.label,
                "token_id": principal.token_id,
            }
            for item in ordered
        ],
    )
    return {indicator_id: revision for indicator_id, (_, revision) in stored.items()}


async def write_quarter(
    session: AsyncSession,
    catalogue: Catalogue,
    principal: Principal,
    period: str,
    reports: Sequence[ReportWrite] = (),
    values: Sequence[ValueWrite] = (),
) -> tuple[list[ReportPublic], list[ValuePublic]]:
    """Store the next revision of each report and value in the caller's transaction, in input order.

    Items must be validated (permissions, period) and have distinct keys: (guideline, department) for
    reports, indicator for values. Racing writers get distinct consecutive revisions: the head row is
    upserted atomically with `revision = revision + 1`.
    """
    now = utcnow()
    report_revisions = await _upsert_reports(session, principal, period, now, reports)
    value_revisions = await _upsert_values(session, principal, period, now, values)
    await changes.bump(session, changes.DATA)
    stored_reports = [
        ReportPublic(
            guideline=catalogue.guideline_code(item.guideline_id),
            department=catalogue.department_code(item.department_id),
            period=period,
            revision=report_revisions[item.guideline_id, item.department_id],
            status=item.status,
            summary=item.summary,
            created_at=now,
            created_by=principal.label,
        )
        for item in reports
    ]
    stored_values = [
        ValuePublic(
            indicator=item.indicator_id,
            department=catalogue.department_code(item.department_id),
            period=period,
            revision=value_revisions[item.indicator_id],
            value=item.value,
            note=item.note,
            created_at=now,
            created_by=principal.label,
        )
        for item in values
    ]
    return stored_reports, stored_values
