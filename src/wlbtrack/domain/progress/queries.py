"""Aggregating queries on the head tables: carried-forward values, attainment and report tallies.

Nothing here reads a revision table, so the cost does not grow with the depth of revision history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Float,
    Numeric,
    String,
    and_,
    case,
    cast,
    column,
    func,
    or_,
    select,
    true,
    values,
)
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.catalogue.models import RESPONSIBILITY
from wlbtrack.domain.reporting.models import INDICATOR, REPORT, VALUE


def dialect_of(session: AsyncSession) -> str:
    """The session's database dialect name (`sqlite` or `postgresql`)."""
    assert session.bind is not None
    return session.bind.dialect.name


def periods_table(codes: Sequence[str]) -> CTE:
    """The period codes as a one-column table `periods(period)`."""
    return values(column("period", String), name="periods").data([(code,) for code in codes]).cte("periods")


def numeric_operands(baseline: Any, target: Any) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The NUMERIC operands of PostgreSQL's attainment: the baseline, and target − baseline."""
    low = cast(baseline, Numeric)
    return low, cast(target, Numeric) - low


def attainment(
    dialect: str,
    value: Any,
    baseline: Any,
    target: Any,
    operands: tuple[ColumnElement[Any], ColumnElement[Any]] | None = None,
    number: ColumnElement[Any] | None = None,
) -> ColumnElement[float]:
    """clamp((value − baseline) / (target − baseline), 0, 1), computed without float overflow or underflow.

    The clamped cases are plain comparisons; only a value strictly between baseline and target is
    divided: in NUMERIC on PostgreSQL (which raises on float overflow and underflow; rounded to 17
    places so that the cast back to float cannot underflow), and with every operand halved on SQLite
    (which never raises; halving keeps the differences finite). `operands` are `numeric_operands`
    computed once per indicator by a caller that joins many values to each indicator; `number` is the
    value as NUMERIC when the caller has a cheaper spelling of `value::numeric` (same number, same scale).
    """
    if dialect == "postgresql":
        low, span = operands if operands is not None else numeric_operands(baseline, target)
        numeric = number if number is not None else cast(value, Numeric)
        between: ColumnElement[Any] = func.round((numeric - low) / span, 17)
    else:
        between = (value * 0.5 - baseline * 0.5) / (target * 0.5 - baseline * 0.5)
    increasing, decreasing = target > baseline, target < baseline
    return case(
        (and_(increasing, value <= baseline), 0.0),
        (and_(increasing, value >= target), 1.0),
        (and_(decreasing, value >= baseline), 0.0),
        (and_(decreasing, value <= target), 1.0),
        (or_(increasing, decreasing), cast(between, Float)),
        else_=None,
    )


def _carried(periods: CTE, guideline_ids: Sequence[int] | None) -> CTE:
    """Per period P and indicator: its value for the latest period ≤ P that has one, or NULL.

    One backward index lookup on (indicator_id, period) per period and indicator. The CTE is
    MATERIALIZED so that neither database re-runs the lookup while joining or aggregating.
    """
    latest = (
        select(VALUE.c.value)
        .where(
            VALUE.c.indicator_id == INDICATOR.c.id,
            VALUE.c.period <= periods.c.period,
        )
        .order_by(VALUE.c.period.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(
            periods.c.period.label("at"),
            INDICATOR.c.id.label("indicator_id"),
            INDICATOR.c.guideline_id.label("guideline_id"),
            INDICATOR.c.name.label("name"),
            INDICATOR.c.baseline.label("baseline"),
            INDICATOR.c.target.label("target"),
            latest.label("value"),
        )
        .select_from(periods)
        .join(INDICATOR, true())
    )
    if guideline_ids is not None:
        stmt = stmt.where(INDICATOR.c.guideline_id.in_(guideline_ids))
    return stmt.cte("carried").prefix_with("MATERIALIZED")


async def guideline_progress(
    session: AsyncSession, periods: Sequence[str], guideline_ids: Sequence[int] | None
) -> dict[tuple[str, int], float]:
    """Mean attainment of each guideline's indicators that have a value, per period; absent without one."""
    carried = _carried(periods_table(periods), guideline_ids)
    achieved = attainment(dialect_of(session), carried.c.value, carried.c.baseline, carried.c.target)
    stmt = (
        select(carried.c.at, carried.c.guideline_id, func.avg(achieved))
        .where(carried.c.value.is_not(None))
        .group_by(carried.c.at, carried.c.guideline_id)
    )
    return {
        (at, guideline_id): float(mean)
        for at, guideline_id, mean in await session.execute(stmt)
        if mean is not None
    }


@dataclass(frozen=True)
class IndicatorAt:
    """An indicator's carried-forward value at a period and its attainment."""

    id: int
    guideline_id: int
    name: str
    value: float | None
    attainment: float | None


async def indicators_at(
    session: AsyncSession, period: str, guideline_ids: Sequence[int]
) -> list[IndicatorAt]:
    """Every indicator of these guidelines with its carried-forward value at the period, by id."""
    carried = _carried(periods_table([period]), guideline_ids)
    stmt = select(
        carried.c.indicator_id,
        carried.c.guideline_id,
        carried.c.name,
        carried.c.value,
        attainment(dialect_of(session), carried.c.value, carried.c.baseline, carried.c.target),
    ).order_by(carried.c.indicator_id)
    return [IndicatorAt(*row) for row in await session.execute(stmt)]


@dataclass
class PairTally:
    """Report statuses over (guideline, responsible department) pairs: expected, received, per status."""

    expected: int = 0
    received: int = 0
    statuses: Counter[str] = field(default_factory=Counter)

    def add(self, status: str | None, count: int) -> None:
        """Count `count` pairs whose current report has `status` (None: no report)."""
        self.expected += count
        if status is not None:
            self.received += count
            self.statuses[status] += count

    def merge(self, other: PairTally) -> None:
        """Add another tally's pairs to this one."""
        self.expected += other.expected
        self.received += other.received
        self.statuses.update(other.statuses)


def _report_join(period: Any) -> ColumnElement[bool]:
    return and_(
        REPORT.c.guideline_id == RESPONSIBILITY.c.guideline_id,
        REPORT.c.department_id == RESPONSIBILITY.c.department_id,
        REPORT.c.period == period,
    )


async def tallies_by_guideline(
    session: AsyncSession, periods: Sequence[str], guideline_ids: Sequence[int] | None
) -> dict[tuple[str, int], PairTally]:
    """Per period and guideline, the status counts of its responsible departments' current reports."""
    table = periods_table(periods)
    status = REPORT.c.status
    stmt = (
        select(table.c.period, RESPONSIBILITY.c.guideline_id, status, func.count())
        .select_from(table)
        .join(RESPONSIBILITY, true())
        .outerjoin(REPORT, _report_join(table.c.period))
        .group_by(table.c.period, RESPONSIBILITY.c.guideline_id, status)
    )
    if guideline_ids is not None:
        stmt = stmt.where(RESPONSIBILITY.c.guideline_id.in_(guideline_ids))
    tallies: dict[tuple[str, int], PairTally] = {}
    for period, guideline_id, report_status, count in await session.execute(stmt):
        tallies.setdefault((period, guideline_id), PairTally()).add(report_status, count)
    return tallies


async def tallies_by_department(session: AsyncSession, period: str) -> dict[int, PairTally]:
    """Per department, the status counts of its current reports for the period over its guidelines."""
    status = REPORT.c.status
    stmt = (
        select(RESPONSIBILITY.c.department_id, status, func.count())
        .select_from(RESPONSIBILITY)
        .outerjoin(REPORT, _report_join(period))
        .group_by(RESPONSIBILITY.c.department_id, status)
    )
    tallies: dict[int, PairTally] = {}
    for department_id, report_status, count in await session.execute(stmt):
        tallies.setdefault(department_id, PairTally()).add(report_status, count)
    return tallies


async def missing_reports(session: AsyncSession, period: str) -> list[tuple[int, int]]:
    """(department id, guideline id) of every responsibility without a current report for the period."""
    stmt = (
        select(RESPONSIBILITY.c.department_id, RESPONSIBILITY.c.guideline_id)
        .outerjoin(REPORT, _report_join(period))
        .where(REPORT.c.id.is_(None))
    )
    return [(department_id, guideline_id) for department_id, guideline_id in await session.execute(stmt)]


async def report_statuses(
    session: AsyncSession, period: str, guideline_ids: Sequence[int]
) -> dict[tuple[int, int], str]:
    """The status of each current report for the period, by (guideline id, department id)."""
    stmt = select(REPORT.c.guideline_id, REPORT.c.department_id, REPORT.c.status).where(
        REPORT.c.period == period, REPORT.c.guideline_id.in_(guideline_ids)
    )
    return {
        (guideline_id, department_id): status
        for guideline_id, department_id, status in await session.execute(stmt)
    }
