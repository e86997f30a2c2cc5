"""Indicators (KPIs): creation, changes recorded as revisions, and lookups."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.auth.tokens import Principal
from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.reporting.models import Indicator, IndicatorRevision
from wlbtrack.domain.reporting.schemas import MAX_ROW_ID, IndicatorPublic, IndicatorRevisionPublic
from wlbtrack.domain.reporting.sql import table
from wlbtrack.lib import changes
from wlbtrack.lib.types import utcnow

INDICATOR = table(Indicator)
REVISION = table(IndicatorRevision)
DEFINITION = ("name", "unit", "baseline", "target")


def public(catalogue: Catalogue, row: Row[Any]) -> IndicatorPublic:
    """The API shape of an indicator row."""
    return IndicatorPublic(
        id=row.id,
        guideline=catalogue.guideline_code(row.guideline_id),
        department=catalogue.department_code(row.department_id),
        name=row.name,
        unit=row.unit,
        baseline=row.baseline,
        target=row.target,
        direction="decreasing" if row.target < row.baseline else "increasing",
        revision=row.revision,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def _record_revision(session: AsyncSession, row: Row[Any], principal: Principal) -> None:
    await session.execute(
        REVISION.insert().values(
            indicator_id=row.id,
            revision=row.revision,
            created_at=row.updated_at,
            created_by=row.updated_by,
            token_id=principal.token_id,
            **{name: getattr(row, name) for name in DEFINITION},
        )
    )
    await changes.bump(session, changes.DATA)


async def create_indicator(
    session: AsyncSession,
    principal: Principal,
    guideline_id: int,
    department_id: int,
    definition: dict[str, Any],
) -> Row[Any]:
    """Store a validated indicator (revision 1) and its first history entry."""
    now = utcnow()
    row = (
        await session.execute(
            INDICATOR.insert()
            .values(
                guideline_id=guideline_id,
                department_id=department_id,
                revision=1,
                created_at=now,
                created_by=principal.label,
                updated_at=now,
                updated_by=principal.label,
                **definition,
            )
            .returning(*INDICATOR.c)
        )
    ).one()
    await _record_revision(session, row, principal)
    return row


async def change_indicator(
    session: AsyncSession, principal: Principal, indicator_id: int, changed: dict[str, Any]
) -> Row[Any]:
    """Apply validated changes atomically as the next revision and record it in the history."""
    row = (
        await session.execute(
            update(INDICATOR)
            .where(INDICATOR.c.id == indicator_id)
            .values(
                revision=INDICATOR.c.revision + 1, updated_at=utcnow(), updated_by=principal.label, **changed
            )
            .returning(*INDICATOR.c)
        )
    ).one()
    await _record_revision(session, row, principal)
    return row


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
    query = select(INDICATOR).order_by(INDICATOR.c.id)
    if guideline_id is not None:
        query = query.where(INDICATOR.c.guideline_id == guideline_id)
    if department_id is not None:
        query = query.where(INDICATOR.c.department_id == department_id)
    return list(await session.execute(query))


async def indicator_history(session: AsyncSession, indicator_id: int) -> list[IndicatorRevisionPublic]:
    """Every definition of an indicator, oldest first."""
    query = select(REVISION).where(REVISION.c.indicator_id == indicator_id).order_by(REVISION.c.revision)
    return [
        IndicatorRevisionPublic(
            indicator=row.indicator_id,
            revision=row.revision,
            name=row.name,
            unit=row.unit,
            baseline=row.baseline,
            target=row.target,
            created_at=row.created_at,
            created_by=row.created_by,
        )
        for row in await session.execute(query)
    ]
