"""Which fiscal quarters accept writes: started (in Tokyo), not before the plan's first year, not closed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from wlbtrack.domain.periods import Period, PeriodError
from wlbtrack.domain.reporting.models import ClosedPeriod
from wlbtrack.domain.reporting.schemas import PeriodPublic
from wlbtrack.domain.reporting.sql import insert
from wlbtrack.lib import changes
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.types import utcnow

TOKYO = ZoneInfo("Asia/Tokyo")


def today() -> date:
    """Today in Setagaya (Asia/Tokyo): the day that decides whether a period has started."""
    return datetime.now(TOKYO).date()


def parse_period(code: str, first_fiscal_year: int, field: str = "period") -> Period:
    """A period code that can hold data: well-formed and within the plan's years (422 otherwise)."""
    try:
        period = Period.parse(code)
    except PeriodError as exc:
        raise ProblemError(422, f"{field}: {exc}", field=field) from exc
    if period.fiscal_year < first_fiscal_year:
        raise ProblemError(
            422, f"{field}: {code} is before the plan's first fiscal year {first_fiscal_year}", field=field
        )
    return period


async def writable_period(
    session: AsyncSession, code: str, first_fiscal_year: int, field: str = "period"
) -> Period:
    """The period, if it accepts writes: 422 when it has not started, 409 when an admin closed it."""
    period = parse_period(code, first_fiscal_year, field)
    if not period.has_started(today()):
        raise ProblemError(
            422, f"{field}: {code} has not started yet (it starts on {period.start.isoformat()})", field=field
        )
    if await session.get(ClosedPeriod, code) is not None:
        raise ProblemError(409, f"{field}: {code} is closed; an admin must reopen it first", field=field)
    return period


def _public(period: Period, closed: ClosedPeriod | None) -> PeriodPublic:
    return PeriodPublic(
        code=period.code,
        fiscal_year=period.fiscal_year,
        quarter=period.quarter,
        start=period.start,
        end=period.end,
        label_ja=period.label_ja,
        state="closed" if closed is not None else "open",
        closed_at=closed.closed_at if closed is not None else None,
        closed_by=closed.closed_by if closed is not None else None,
    )


async def describe(session: AsyncSession, periods: Sequence[Period]) -> list[PeriodPublic]:
    """The periods with their open/closed state, in the given order."""
    codes = [period.code for period in periods]
    closed = {
        row.period: row
        for row in (
            await session.execute(select(ClosedPeriod).where(col(ClosedPeriod.period).in_(codes)))
        ).scalars()
    }
    return [_public(period, closed.get(period.code)) for period in periods]


async def close_period(session: AsyncSession, period: Period, closed_by: str) -> PeriodPublic:
    """Close a period to writes (closing a closed period keeps its first closing)."""
    await session.execute(
        insert(session, ClosedPeriod)
        .values(period=period.code, closed_at=utcnow(), closed_by=closed_by)
        .on_conflict_do_nothing(index_elements=["period"])
    )
    await changes.bump(session, changes.DATA)
    return (await describe(session, [period]))[0]


async def reopen_period(session: AsyncSession, period: Period) -> PeriodPublic:
    """Open a period to writes again."""
    await session.execute(delete(ClosedPeriod).where(col(ClosedPeriod.period) == period.code))
    await changes.bump(session, changes.DATA)
    return _public(period, None)
