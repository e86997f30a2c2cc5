"""Writing indicator value revisions (one upsert plus one insert for many values) and reading them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.auth.tokens import Principal
from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.reporting.models import IndicatorValue, IndicatorValueRevision
from wlbtrack.domain.reporting.schemas import ValuePublic
from wlbtrack.domain.reporting.sql import insert, table
from wlbtrack.lib import changes
from wlbtrack.lib.types import utcnow

VALUE = table(IndicatorValue)
REVISION = table(IndicatorValueRevision)


@dataclass(frozen=True)
class ValueWrite:
    """A validated value to store; `department_id` is the indicator's department."""

    indicator_id: int
    department_id: int
    value: float
    note: str | None


async def write_values(
    session: AsyncSession,
    catalogue: Catalogue,
    principal: Principal,
    period: str,
    items: Sequence[ValueWrite],
) -> list[ValuePublic]:
    """Store the next revision of each indicator's value in the caller's transaction, in input order.

    Upserted like reports (`revision = revision + 1` on conflict); items must have distinct indicators.
    """
    if not items:
        return []
    now = utcnow()
    head = insert(session, IndicatorValue).values(
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
            for item in items
        ]
    )
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
    stored = {
        indicator_id: (value_id, revision)
        for value_id, revision, indicator_id in await session.execute(upsert)
    }
    keyed = [(item, *stored[item.indicator_id]) for item in items]
    await session.execute(
        REVISION.insert(),
        [
            {
                "value_id": value_id,
                "revision": revision,
                "value": item.value,
                "note": item.note,
                "created_at": now,
                "created_by": principal.label,
                "token_id": principal.token_id,
            }
            for item, value_id, revision in keyed
        ],
    )
    await changes.bump(session, changes.DATA)
    return [
        ValuePublic(
            indicator=item.indicator_id,
            department=catalogue.department_code(item.department_id),
            period=period,
            revision=revision,
            value=item.value,
            note=item.note,
            created_at=now,
            created_by=principal.label,
        )
        for item, _, revision in keyed
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
    return [
        ValuePublic(
            indicator=indicator_id,
            department=catalogue.department_code(department_id),
            period=period,
            revision=revision,
            value=value,
            note=note,
            created_at=updated_at,
            created_by=updated_by,
        )
        for department_id, period, revision, value, note, updated_at, updated_by in await session.execute(
            query
        )
    ]


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
    return [
        ValuePublic(
            indicator=indicator_id,
            department=catalogue.department_code(department_id),
            period=row_period,
            revision=revision,
            value=value,
            note=note,
            created_at=created_at,
            created_by=created_by,
        )
        for department_id, row_period, revision, value, note, created_at, created_by in await session.execute(
            query
        )
    ]
