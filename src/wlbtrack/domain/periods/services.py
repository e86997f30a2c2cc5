"""Japanese fiscal-year quarters, the rule saying which of them the API accepts, and their open/closed state.

`2026-Q1` is FY2026 (令和8年度) April–June 2026. The period status rule, everywhere a period is read or
written: a malformed code is a 400 naming the parameter or field (a 404 in a path); a well-formed code
before WLBTRACK_FIRST_FISCAL_YEAR or after the current quarter (by the date in Tokyo) is a 422 naming it;
a write into a closed period is a 409.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.db import WriteSession
from wlbtrack.domain.periods.models import ClosedPeriod
from wlbtrack.domain.periods.schemas import PERIOD_PATTERN, PeriodPublic
from wlbtrack.lib import changes
from wlbtrack.lib.clock import Clock
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.tables import insert, table
from wlbtrack.lib.types import utcnow

_PERIOD_RE = re.compile(PERIOD_PATTERN)
CLOSED = table(ClosedPeriod)


class PeriodError(ValueError):
    """Not a period code."""


@dataclass(frozen=True, order=True)
class Period:
    """One fiscal quarter."""

    fiscal_year: int
    quarter: int

    @classmethod
    def parse(cls, code: str) -> Period:
        """Parse `YYYY-QN`; raises PeriodError for anything else."""
        if not _PERIOD_RE.fullmatch(code):
            raise PeriodError(f"{code!r} is not a period code like 2026-Q1")
        return cls(int(code[:4]), int(code[6]))

    @classmethod
    def containing(cls, day: date) -> Period:
        """The quarter a calendar day falls in."""
        fiscal_year = day.year if day.month >= 4 else day.year - 1
        return cls(fiscal_year, (day.month - 4) % 12 // 3 + 1)

    @property
    def code(self) -> str:
        return f"{self.fiscal_year:04d}-Q{self.quarter}"

    @property
    def start(self) -> date:
        month = 4 + 3 * (self.quarter - 1)
        return date(self.fiscal_year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    @property
    def label_ja(self) -> str:
        return f"{self.fiscal_year}年度 第{self.quarter}四半期"

    def next(self) -> Period:
        if self.quarter == 4:
            return Period(self.fiscal_year + 1, 1)
        return Period(self.fiscal_year, self.quarter + 1)

    def previous(self) -> Period:
        if self.quarter == 1:
            return Period(self.fiscal_year - 1, 4)
        return Period(self.fiscal_year, self.quarter - 1)


def periods_between(first: Period, last: Period) -> list[Period]:
    """Every quarter from first to last, inclusive, oldest first."""
    periods: list[Period] = []
    current = first
    while current <= last:
        periods.append(current)
        current = current.next()
    return periods


class PeriodRules:
    """The periods the API accepts: from the plan's first fiscal year to the current quarter in Tokyo."""

    def __init__(self, first_fiscal_year: int, clock: Clock) -> None:
        self.first_fiscal_year = first_fiscal_year
        self._clock = clock

    @property
    def first(self) -> Period:
        """The first quarter of the plan's first fiscal year."""
        return Period(self.first_fiscal_year, 1)

    def current(self) -> Period:
        """The quarter containing today's date in Tokyo: the latest period that has started."""
        return Period.containing(self._clock.today())

    def check(self, period: Period, name: str) -> Period:
        """The period if it lies within the plan's time; 422 naming `name` otherwise."""
        if period.fiscal_year < self.first_fiscal_year:
            raise ProblemError(
                422,
                f"{name}: {period.code} is before the plan's first fiscal year {self.first_fiscal_year}",
                field=name,
            )
        current = self.current()
        if period > current:
            raise ProblemError(
                422,
                f"{name}: {period.code} has not started yet (the current quarter is {current.code})",
                field=name,
            )
        return period

    def parse(self, name: str, code: str) -> Period:
        """A period named in a query parameter or a body field: 400 when malformed, 422 out of range."""
        return self.check(self._parse(name, code, 400), name)

    def parse_optional(self, name: str, code: str | None) -> Period | None:
        """Like `parse`, None when the parameter is absent."""
        return None if code is None else self.parse(name, code)

    def in_path(self, name: str, code: str) -> Period:
        """A period named in the path: 404 when the code is malformed (no such resource), 422 out of range."""
        return self.check(self._parse(name, code, 404), name)

    @staticmethod
    def _parse(name: str, code: str, status: int) -> Period:
        try:
            return Period.parse(code)
        except PeriodError as exc:
            detail = f"no period {code!r} ({exc})" if status == 404 else str(exc)
            raise ProblemError(status, f"{name}: {detail}", field=name) from exc

    def fiscal_year(self, name: str, year: int) -> int:
        """A fiscal year within the plan's time; 422 naming `name` otherwise."""
        last = self.current().fiscal_year
        if not self.first_fiscal_year <= year <= last:
            raise ProblemError(
                422,
                f"{name}: {year} is outside the plan's fiscal years {self.first_fiscal_year}–{last}",
                field=name,
            )
        return year

    async def writable(self, session: WriteSession, code: str, name: str = "period") -> Period:
        """The period, if it accepts writes: the rule above, then 409 when an admin closed it."""
        period = self.parse(name, code)
        closed = await session.execute(select(CLOSED.c.period).where(CLOSED.c.period == period.code))
        if closed.first() is not None:
            raise ProblemError(409, f"{name}: {code} is closed; an admin must reopen it first", field=name)
        return period


def _public(period: Period, closed_at: datetime | None = None, closed_by: str | None = None) -> PeriodPublic:
    return PeriodPublic(
        code=period.code,
        fiscal_year=period.fiscal_year,
        quarter=period.quarter,
        start=period.start,
        end=period.end,
        label_ja=period.label_ja,
        state="closed" if closed_by is not None else "open",
        closed_at=closed_at,
        closed_by=closed_by,
    )


async def describe(session: AsyncSession, periods: Sequence[Period]) -> list[PeriodPublic]:
    """The periods with their open/closed state, in the given order."""
    codes = [period.code for period in periods]
    rows = await session.execute(
        select(CLOSED.c.period, CLOSED.c.closed_at, CLOSED.c.closed_by).where(CLOSED.c.period.in_(codes))
    )
    closed = {code: (closed_at, closed_by) for code, closed_at, closed_by in rows}
    return [_public(period, *closed.get(period.code, (None, None))) for period in periods]


async def close_period(session: WriteSession, period: Period, closed_by: str) -> PeriodPublic:
    """Close a period to writes (closing a closed period keeps its first closing)."""
    await session.execute(
        insert(session, CLOSED)
        .values(period=period.code, closed_at=utcnow(), closed_by=closed_by)
        .on_conflict_do_nothing(index_elements=["period"])
    )
    await changes.bump(session, changes.DATA)
    return (await describe(session, [period]))[0]


async def reopen_period(session: WriteSession, period: Period) -> PeriodPublic:
    """Open a period to writes again."""
    await session.execute(delete(CLOSED).where(CLOSED.c.period == period.code))
    await changes.bump(session, changes.DATA)
    return _public(period)
